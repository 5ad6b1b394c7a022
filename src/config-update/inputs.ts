import { InputError } from '../core/errors.ts';
import type { InputReader } from '../core/inputs.ts';
import { atLine, checkUrl, serverView } from '../core/inputs.ts';
import { msg } from '../core/message.ts';

export const SECRET_INPUTS = ['auth-token', 'fly-api-token'] as const;

export type StoppedMachines = 'skip' | 'wake' | 'fail';

export interface UpdateRequest {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  authToken: string | undefined;
}

export interface FlyTargetSettings {
  kind: 'fly';
  url: string;
  app: string;
  apiToken: string;
  apiUrl: string;
  regions: string[];
  processGroup: string | undefined;
  stoppedMachines: StoppedMachines;
}

export interface KamalTargetSettings {
  kind: 'kamal';
  urls: string[];
  /** The 1-based line each URL is on, in `urls` or in the file of `urls-file` (`list`). */
  lines: number[];
  list: 'urls' | 'urls-file';
  /** Where the list came from, as markdown for notes: `` `urls` `` or `` `urls-file` <path> ``. */
  listedIn: string;
}

export interface Shard {
  index: number;
  count: number;
}

export interface ConfigUpdateSettings {
  target: FlyTargetSettings | KamalTargetSettings;
  request: UpdateRequest;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  deadlineMs: number;
  maxFailures: number;
  shard: Shard | undefined;
  dryRun: boolean;
}

const METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'] as const;

export function parseInputs(inputs: InputReader): ConfigUpdateSettings {
  const kind = inputs.choice('target', ['fly', 'kamal'] as const, 'fly');
  const method = inputs.raw('method').toUpperCase() || 'POST';
  if (!(METHODS as readonly string[]).includes(method)) {
    throw new InputError('method', msg`must be one of ${METHODS.join(', ')}; got ${JSON.stringify(method)}`);
  }
  const request: UpdateRequest = {
    method,
    headers: inputs.headers('headers'),
    body: inputs.optional('body'),
    authToken: inputs.optional('auth-token'),
  };
  return {
    target: kind === 'fly' ? parseFly(inputs) : parseKamal(inputs),
    request,
    concurrency: inputs.integer('concurrency', 8, { min: 1, max: 256 }),
    retries: inputs.integer('retries', 3, { min: 0, max: 10 }),
    timeoutMs: inputs.seconds('timeout', 30, { max: 3600 }),
    deadlineMs: inputs.seconds('deadline', 600, { max: 6 * 3600 }),
    maxFailures: inputs.integer('max-failures', 0, { min: 0 }),
    shard: parseShard(inputs.optional('shard')),
    dryRun: inputs.boolean('dry-run', false),
  };
}

function parseFly(inputs: InputReader): FlyTargetSettings {
  // `target: kamal` forgotten (fly is the default): say so rather than only that `url` is missing.
  // Given together with `url`, a list is ignored: the example workflow passes both, whatever the target.
  const list = ['urls', 'urls-file'].find((name) => inputs.raw(name) !== '');
  if (list && inputs.raw('url') === '')
    throw new InputError(
      'url',
      msg`is required when target is fly (the default); ${list} is read only when target is kamal`,
    );
  return {
    kind: 'fly',
    url: inputs.url('url', { required: true })!,
    app: flyAppName(inputs.required('fly-app', 'is required when target is fly: the Fly app name')),
    apiToken: inputs.required('fly-api-token', 'is required when target is fly'),
    apiUrl: inputs.url('fly-api-url', { fallback: 'https://api.machines.dev/v1' })!,
    regions: inputs.list('regions').map((r) => r.toLowerCase()),
    processGroup: inputs.optional('process-group'),
    stoppedMachines: inputs.choice('stopped-machines', ['skip', 'wake', 'fail'] as const, 'skip'),
  };
}

/**
 * The endpoints from `urls` or `urls-file` (one of them). Two entries the
 * server would see as one URL (see `serverView`) are refused like exact
 * duplicates: they would update one host twice.
 */
function parseKamal(inputs: InputReader): KamalTargetSettings {
  const fromFile = inputs.fileLines('urls-file', (value) => checkUrl('urls-file', value));
  const entries = inputs.entries('urls');
  if (fromFile && entries.length > 0)
    throw new InputError('urls', msg`and urls-file exclude each other; give one`);
  if (fromFile) {
    if (fromFile.entries.length === 0)
      throw new InputError('urls-file', msg`names ${JSON.stringify(fromFile.file)}, which lists no URL`);
    const seen = new Map<string, number>();
    for (const { line, parsed } of fromFile.entries) {
      const key = serverView(parsed);
      const first = seen.get(key);
      if (first !== undefined) {
        atLine('urls-file', fromFile.file, line, () => {
          throw new InputError('urls-file', duplicateProblem(key, `line ${first}`));
        });
      }
      seen.set(key, line);
    }
    return {
      kind: 'kamal',
      urls: fromFile.entries.map((e) => e.parsed),
      lines: fromFile.entries.map((e) => e.line),
      list: 'urls-file',
      listedIn: `\`urls-file\` ${fromFile.file}`,
    };
  }
  if (entries.length === 0)
    throw new InputError(
      'urls',
      msg`or urls-file is required when target is kamal: one endpoint URL per line`,
    );
  const urls = entries.map((e) => checkUrl('urls', e.value));
  const seen = new Set<string>();
  for (const url of urls) {
    const key = serverView(url);
    if (seen.has(key)) throw new InputError('urls', duplicateProblem(key, 'another line'));
    seen.add(key);
  }
  return { kind: 'kamal', urls, lines: entries.map((e) => e.line), list: 'urls', listedIn: '`urls`' };
}

function duplicateProblem(key: string, where: string): string {
  return `lists ${key} twice (${where} has it too; a fragment, the default port, an empty ?, a trailing slash, the case of scheme and host, a trailing dot of the host and escaped letters, digits, - . _ ~ do not make another endpoint); each endpoint must appear once`;
}

function flyAppName(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(value)) {
    throw new InputError(
      'fly-app',
      msg`must be a Fly app name (lowercase letters, digits, dashes); got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function parseShard(value: string | undefined): Shard | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(value);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!(count >= 1 && index >= 1 && index <= count)) {
    throw new InputError('shard', msg`must be i/n with 1 <= i <= n, e.g. 2/3; got ${JSON.stringify(value)}`);
  }
  return { index, count };
}
