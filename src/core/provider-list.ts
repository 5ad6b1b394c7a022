import { ApiError } from './errors.ts';

/**
 * Every list a provider answers is read through `providerList`: the body (or one
 * field of it) must be a JSON array of objects. A `null`, a string or a nested
 * array where the API documents an object (a proxy's rewrite, a provider bug) is
 * refused here, once, as an `ApiError` naming the provider and the operation,
 * instead of surfacing later as `Cannot read properties of null` wherever the
 * entry is first used.
 */

export type ListCheck = { ok: true; entries: object[] } | { ok: false; problem: string };

/**
 * Pure. `field` names where the list sits when the answer is an object
 * (`droplets`, `rrsets`, `artifacts`); without it the answer itself is the list.
 * A missing list is refused like a wrong one: every API read here documents it.
 * `problem` completes "<provider> <operation> failed: …"; it names kinds, never
 * values, so no part of an answer reaches a message.
 */
export function checkList(body: unknown, field?: string): ListCheck {
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
  if (first === undefined) return { ok: true, entries: list as object[] };
  const others = bad.length > 1 ? ` (${bad.length} of its entries are not objects)` : '';
  return {
    ok: false,
    problem: `answered ${what} whose entry ${first + 1} of ${list.length} is ${kindOf(list[first])}, not an object${others}`,
  };
}

export interface ListSource {
  /** As in errors: `Fly Machines`, `DigitalOcean`, `Heroku`... */
  provider: string;
  /** The operation that answered the list, e.g. `Machines_list`: for the operations log. */
  operation: string;
  /** The request that answered it, `GET /v1/apps/x/machines`: what the message names. */
  request: string;
  field?: string;
  requestId?: string | undefined;
}

/**
 * The entries of a provider's list, typed as the caller documents them.
 * @throws ApiError (not retryable) naming `source.provider` and `source.request`
 *   when `checkList` refuses the answer.
 */
export function providerList<T>(body: unknown, source: ListSource): T[] {
  const checked = checkList(body, source.field);
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

function isEntry(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `${/^[aeiou]/.test(typeof value) ? 'an' : 'a'} ${typeof value}`;
}
