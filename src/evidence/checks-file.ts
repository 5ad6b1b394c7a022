import { InputError } from '../core/errors.ts';
import { ComposedError, msg } from '../core/message.ts';

/**
 * The checks file (YAML): what to run, for which milestones, and what else to
 * redact. Parsing is pure (`parseChecksFile(text, file)`); every problem names
 * the file, the check and the field, so a reviewer can fix it without guessing.
 *
 * Milestones of a check: a check listing `milestones: [a, b]` runs from the
 * earliest of them on, in the order of the file's `milestones` list ("only
 * from these on"): at a, at b and at every milestone after a. Without a
 * file-level list there is no order, so such a check runs exactly at the
 * milestones it names.
 */

export interface RunCheck {
  kind: 'run';
  id: string;
  title: string;
  command: string;
  timeoutMs: number | undefined;
  required: boolean;
  milestones: string[] | undefined;
}

export interface HttpCheck {
  kind: 'http';
  id: string;
  title: string;
  url: string;
  /** Statuses that pass; undefined means any 2xx. */
  expect: number[] | undefined;
  timeoutMs: number | undefined;
  required: boolean;
  milestones: string[] | undefined;
}

export type Check = RunCheck | HttpCheck;

export interface ChecksFile {
  target: string | undefined;
  milestones: string[] | undefined;
  checks: Check[];
  redact: { env: string[]; patterns: RegExp[] };
}

export class ChecksFileError extends InputError {
  constructor(file: string, where: string, problem: string) {
    super('config', `: ${file}: ${where} ${problem}`);
    this.message = `Checks file ${file}: ${where} ${problem}`;
  }
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CHECK_KEYS = new Set(['id', 'title', 'run', 'http', 'expect', 'timeout', 'required', 'milestones']);
const TOP_KEYS = new Set(['target', 'milestones', 'checks', 'redact']);

export async function parseChecksFile(text: string, file: string): Promise<ChecksFile> {
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ChecksFileError(file, 'the file', `is not valid YAML: ${message}`);
  }
  return validateChecksFile(doc, file);
}

export function validateChecksFile(doc: unknown, file: string): ChecksFile {
  const fail = (where: string, problem: string): never => {
    throw new ChecksFileError(file, where, problem);
  };
  if (!isRecord(doc)) return fail('the file', 'must be a mapping with `checks`');
  for (const key of Object.keys(doc))
    if (!TOP_KEYS.has(key)) fail(`field \`${key}\``, `is unknown; allowed: ${[...TOP_KEYS].join(', ')}`);

  let target: string | undefined;
  if (doc.target !== undefined && doc.target !== null) {
    if (typeof doc.target !== 'string' || !NAME.test(doc.target))
      fail('field `target`', 'must be a name of letters, digits, . _ -');
    target = doc.target as string;
  }

  const milestones =
    doc.milestones === undefined ? undefined : nameList(doc.milestones, 'field `milestones`', fail);
  if (milestones && new Set(milestones).size !== milestones.length)
    fail('field `milestones`', 'lists a milestone twice');

  if (!Array.isArray(doc.checks) || doc.checks.length === 0)
    fail('field `checks`', 'must be a non-empty list of checks');
  const seen = new Set<string>();
  const checks = (doc.checks as unknown[]).map((raw, i) => {
    const check = parseCheck(raw, i, milestones, fail);
    if (seen.has(check.id)) fail(`check '${check.id}'`, 'is listed twice (ids must be unique)');
    seen.add(check.id);
    return check;
  });

  const redact = { env: [] as string[], patterns: [] as RegExp[] };
  if (doc.redact !== undefined && doc.redact !== null) {
    if (!isRecord(doc.redact)) fail('field `redact`', 'must be a mapping with `env` and/or `patterns`');
    const r = doc.redact as Record<string, unknown>;
    for (const key of Object.keys(r))
      if (key !== 'env' && key !== 'patterns')
        fail(`field \`redact.${key}\``, 'is unknown; allowed: env, patterns');
    if (r.env !== undefined) {
      if (!Array.isArray(r.env)) fail('field `redact.env`', 'must be a list of variable names');
      (r.env as unknown[]).forEach((name, i) => {
        if (typeof name !== 'string' || !ENV_NAME.test(name))
          fail(`field \`redact.env[${i}]\``, 'must be an environment variable name');
        redact.env.push(name as string);
      });
    }
    if (r.patterns !== undefined) {
      if (!Array.isArray(r.patterns))
        fail('field `redact.patterns`', 'must be a list of regular expressions');
      for (const [i, source] of (r.patterns as unknown[]).entries()) {
        const where = `field \`redact.patterns[${i}]\``;
        if (typeof source !== 'string' || source === '')
          fail(where, 'must be a non-empty regular expression');
        const pattern = compilePattern(source as string, (problem) => fail(where, problem));
        if (pattern.test('')) fail(where, 'matches empty text; it would redact nothing useful');
        pattern.lastIndex = 0;
        redact.patterns.push(pattern);
      }
    }
  }
  return { target, milestones, checks, redact };
}

function parseCheck(
  raw: unknown,
  i: number,
  milestones: string[] | undefined,
  fail: (where: string, problem: string) => never,
): Check {
  if (!isRecord(raw)) return fail(`check #${i + 1}`, 'must be a mapping with `id` and `run` or `http`');
  if (typeof raw.id !== 'string' || !ID.test(raw.id))
    return fail(`check #${i + 1} field \`id\``, 'must be a name of letters, digits, . _ - (up to 64)');
  const id = raw.id;
  const where = (field: string) => `check '${id}' field \`${field}\``;
  for (const key of Object.keys(raw))
    if (!CHECK_KEYS.has(key)) fail(where(key), `is unknown; allowed: ${[...CHECK_KEYS].join(', ')}`);
  if (raw.title !== undefined && typeof raw.title !== 'string') fail(where('title'), 'must be text');
  const title = (raw.title as string | undefined) ?? id;
  let timeoutMs: number | undefined;
  if (raw.timeout !== undefined) {
    // Below a second a timer rounds to 0 ms and the check fails before it starts.
    if (typeof raw.timeout !== 'number' || !(raw.timeout >= 1) || raw.timeout > 6 * 3600)
      fail(where('timeout'), 'must be a number of seconds of at least 1 and at most 21600');
    timeoutMs = Math.round((raw.timeout as number) * 1000);
  }
  if (raw.required !== undefined && typeof raw.required !== 'boolean')
    fail(where('required'), 'must be true or false');
  const required = raw.required === true;
  let only: string[] | undefined;
  if (raw.milestones !== undefined) {
    only = nameList(raw.milestones, where('milestones'), fail);
    if (only.length === 0) fail(where('milestones'), 'must list at least one milestone');
    if (milestones)
      for (const m of only)
        if (!milestones.includes(m))
          fail(
            where('milestones'),
            `names '${m}', which is not in the file's milestones: ${milestones.join(', ')}`,
          );
  }
  const hasRun = raw.run !== undefined;
  const hasHttp = raw.http !== undefined;
  if (hasRun === hasHttp) fail(`check '${id}'`, 'must have exactly one of `run` and `http`');
  if (hasRun) {
    if (typeof raw.run !== 'string' || raw.run.trim() === '') fail(where('run'), 'must be a shell command');
    if (raw.expect !== undefined) fail(where('expect'), 'applies to `http` checks only');
    return { kind: 'run', id, title, command: raw.run as string, timeoutMs, required, milestones: only };
  }
  if (typeof raw.http !== 'string') return fail(where('http'), 'must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(raw.http);
  } catch {
    return fail(where('http'), 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(where('http'), 'must be an http(s) URL');
  let expect: number[] | undefined;
  if (raw.expect !== undefined) {
    const list = Array.isArray(raw.expect) ? raw.expect : [raw.expect];
    if (list.length === 0 || !list.every((s) => Number.isInteger(s) && s >= 100 && s <= 599))
      fail(where('expect'), 'must be an HTTP status (100-599) or a list of them');
    expect = list as number[];
  }
  return { kind: 'http', id, title, url: raw.http, expect, timeoutMs, required, milestones: only };
}

function nameList(
  value: unknown,
  where: string,
  fail: (where: string, problem: string) => never = (w, p) => {
    throw new ComposedError(msg`${w} ${p}`);
  },
): string[] {
  if (!Array.isArray(value)) return fail(where, 'must be a list of names');
  return value.map((v) => {
    if (typeof v !== 'string' || !NAME.test(v))
      fail(where, `has ${JSON.stringify(v)}, not a name of letters, digits, . _ -`);
    return v as string;
  });
}

function compilePattern(source: string, fail: (problem: string) => never): RegExp {
  try {
    return new RegExp(source, 'g');
  } catch (error) {
    return fail(`is not a valid regular expression: ${(error as Error).message}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a check runs at `milestone` (see the module comment for the rule). */
export function appliesAt(check: Check, milestone: string, milestones: string[] | undefined): boolean {
  if (!check.milestones) return true;
  if (!milestones) return check.milestones.includes(milestone);
  const at = milestones.indexOf(milestone);
  const from = Math.min(...check.milestones.map((m) => milestones.indexOf(m)));
  return at >= from;
}

/** The milestone before `milestone` in the file's list, or undefined for the first. */
export function previousMilestone(milestone: string, milestones: string[]): string | undefined {
  const at = milestones.indexOf(milestone);
  return at > 0 ? milestones[at - 1] : undefined;
}
