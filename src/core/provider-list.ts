import { ApiError } from './errors.ts';

/**
 * Every list a provider answers is read through `providerList`: the body (or one
 * field of it) must be a JSON array of objects, and each object must carry the
 * fields the caller reads, of the type the API documents. A `null`, a string or
 * a nested array where the API documents an object, or an entry like `{}`,
 * `{"region": null}` or `{"id": 1}` where a string id is documented (a proxy's
 * rewrite, a provider bug), is refused here, once, as an `ApiError` naming the
 * provider, the request, the entry and the field, instead of surfacing later as
 * `Cannot read properties of null` or a target named `undefined`.
 */

/**
 * What a field must hold, as the API documents it: `text` a non-empty string,
 * `string` any string, `number` a finite number, `boolean`, `object` a JSON
 * object, `list` an array. With `?` the field may also be missing or null.
 */
export type FieldKind = 'text' | 'string' | 'number' | 'boolean' | 'object' | 'list';
export type FieldRule = FieldKind | `${FieldKind}?`;
/** The fields an entry must carry, in the order they are checked (and named). */
export type FieldRules = Readonly<Record<string, FieldRule>>;

export type ListCheck = { ok: true; entries: object[] } | { ok: false; problem: string };

/**
 * Pure. `field` names where the list sits when the answer is an object
 * (`droplets`, `rrsets`, `artifacts`); without it the answer itself is the list.
 * A missing list is refused like a wrong one: every API read here documents it.
 * `problem` completes "<provider> <operation> failed: …"; it names kinds and
 * fields, never values, so no part of an answer reaches a message.
 */
export function checkList(body: unknown, field?: string, rules: FieldRules = {}, unique?: string): ListCheck {
  let list = body;
  let what = 'a list';
  if (field !== undefined) {
    if (!isEntry(body))
      return {
        ok: false,
        problem: `answered ${kindOf(body)} where the API documents an object with a "${field}" list`,
      };
    list = (body as Record<string, unknown>)[field];
    what = `a "${field}" list`;
  }
  if (!Array.isArray(list)) {
    const said = field === undefined ? `answered ${kindOf(list)}` : `answered "${field}" as ${kindOf(list)}`;
    return { ok: false, problem: `${said} where the API documents a list` };
  }
  const bad: number[] = [];
  list.forEach((entry, i) => {
    if (!isEntry(entry)) bad.push(i);
  });
  const first = bad[0];
  if (first !== undefined) {
    const others = bad.length > 1 ? ` (${bad.length} of its entries are not objects)` : '';
    return {
      ok: false,
      problem: `answered ${what} whose entry ${first + 1} of ${list.length} is ${kindOf(list[first])}, not an object${others}`,
    };
  }
  for (let i = 0; i < list.length; i++) {
    const entry = list[i] as Record<string, unknown>;
    for (const [name, rule] of Object.entries(rules)) {
      if (fits(entry[name], rule)) continue;
      const has = name in entry ? `has "${name}" as ${kindOf(entry[name])}` : `has no "${name}"`;
      return {
        ok: false,
        problem: `answered ${what} whose entry ${i + 1} of ${list.length} ${has} where the API documents ${documented(rule)}`,
      };
    }
  }
  if (unique !== undefined) {
    const firstAt = new Map<unknown, number>();
    for (let i = 0; i < list.length; i++) {
      const key = (list[i] as Record<string, unknown>)[unique];
      const first = firstAt.get(key);
      if (first !== undefined)
        return {
          ok: false,
          problem: `answered ${what} whose entries ${first + 1} and ${i + 1} of ${list.length} have the same "${unique}"; each must appear once, or one of them would be acted on twice`,
        };
      firstAt.set(key, i);
    }
  }
  return { ok: true, entries: list as object[] };
}

export interface ListSource {
  /** As in errors: `Fly Machines`, `DigitalOcean`, `Heroku`... */
  provider: string;
  /** The operation that answered the list, e.g. `Machines_list`: for the operations log. */
  operation: string;
  /** The request that answered it, `GET /v1/apps/x/machines`: what the message names. */
  request: string;
  field?: string;
  /** The fields each entry must carry (see `FieldRules`); none by default. */
  fields?: FieldRules;
  /**
   * A field no two entries may share (`id`): a list read in one request that answers one
   * resource twice is a provider or proxy fault, and acting on both entries would act twice.
   */
  unique?: string;
  requestId?: string | undefined;
}

/**
 * The entries of a provider's list, typed as the caller documents them.
 * @throws ApiError (not retryable) naming `source.provider` and `source.request`
 *   when `checkList` refuses the answer.
 */
export function providerList<T>(body: unknown, source: ListSource): T[] {
  const checked = checkList(body, source.field, source.fields, source.unique);
  if (checked.ok) return checked.entries as T[];
  throw new ApiError({
    provider: source.provider,
    operation: source.operation,
    request: source.request,
    requestId: source.requestId,
    retryable: false,
    attempts: 1,
    cause: new Error(checked.problem),
  });
}

function fits(value: unknown, rule: FieldRule): boolean {
  const optional = rule.endsWith('?');
  if (value === undefined || value === null) return optional;
  switch (rule.replace('?', '') as FieldKind) {
    case 'text':
      return typeof value === 'string' && value !== '';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isEntry(value);
    case 'list':
      return Array.isArray(value);
  }
}

const DOCUMENTED: Record<FieldKind, string> = {
  text: 'a non-empty string',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  list: 'a list',
};

function documented(rule: FieldRule): string {
  const kind = DOCUMENTED[rule.replace('?', '') as FieldKind];
  return rule.endsWith('?') ? `${kind}, or none` : kind;
}

function isEntry(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value === '') return 'an empty string';
  return `${/^[aeiou]/.test(typeof value) ? 'an' : 'a'} ${typeof value}`;
}
