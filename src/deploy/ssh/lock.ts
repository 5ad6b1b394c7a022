import type { SshHost } from '../../core/inputs.ts';
import { ComposedError, type Message, msg, own } from '../../core/message.ts';
import { formatMs } from '../../core/summary.ts';
import type { RemoteRun, RunOptions } from '../../providers/ssh/session.ts';
import { sshFailure, unreachable } from '../../providers/ssh/ssh-reason.ts';
import { shellQuote } from './commands.ts';

/**
 * The per-host deploy lock: `~/.ops-actions/locks/<service>.lock`, one line
 * naming its owner (token, repository, run, job, actor, time). It is taken
 * atomically by hard-linking a fully written file to the lock name (`ln`
 * fails when the name exists), so a lock is never seen half-written, and it is
 * only ever removed by the holder of its token: this run, or this run's post
 * step. There is no automatic breaking of other runs' locks (Kamal does not
 * either): a lock whose owner is gone is reported with its owner and age, and
 * removed by hand (`rm ~/.ops-actions/locks/<service>.lock`).
 *
 * One exception: a re-run adopts the lock an earlier attempt of the same
 * repository, run and job left (GitHub's "Re-run jobs" keeps GITHUB_RUN_ID and
 * GITHUB_JOB and bumps GITHUB_RUN_ATTEMPT; a run's attempts never overlap, so
 * that holder is gone). The attempt must be lower: matrix legs of one job share
 * run and job, run side by side, and must still wait for each other.
 */

export const LOCK_DIR = '"$HOME/.ops-actions/locks"';

export interface Remote {
  run(host: SshHost, command: string, options?: RunOptions): Promise<RemoteRun>;
}

/** What the main step saves (state `locks`) before taking a lock, and the post step reads. */
export interface HeldLock {
  /** `[user@]host:port` */
  host: string;
  service: string;
  token: string;
  /** False until the host answered that the lock is ours: a lock never taken is never reported as left behind. */
  taken?: boolean;
}

export interface LockOwner {
  token: string;
  repository?: string | undefined;
  run?: string | undefined;
  attempt?: string | undefined;
  job?: string | undefined;
  actor?: string | undefined;
  time: string;
}

export function ownerLine(owner: LockOwner): string {
  return Object.entries(owner)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${String(v).replace(/\s+/g, '_')}`)
    .join(' ');
}

export function parseOwnerLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of line.trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function paths(service: string, token: string) {
  const lock = `${LOCK_DIR}/${shellQuote(`${service}.lock`)}`;
  const temp = `${LOCK_DIR}/${shellQuote(`.${service}.${token}`)}`;
  return { lock, temp };
}

/** One attempt: prints `ops-actions-lock acquired` or `ops-actions-lock held <owner line>`. */
export function acquireCommand(service: string, owner: LockOwner): string {
  const { lock, temp } = paths(service, owner.token);
  const mine = shellQuote(`token=${owner.token} `);
  return [
    `mkdir -p ${LOCK_DIR}`,
    `printf '%s \\n' ${shellQuote(ownerLine(owner))} > ${temp}`,
    `if ln ${temp} ${lock} 2>/dev/null || grep -qF ${mine} ${lock} 2>/dev/null; then rm -f ${temp}; echo 'ops-actions-lock acquired'; else rm -f ${temp}; printf 'ops-actions-lock held %s\\n' "$(cat ${lock} 2>/dev/null)"; fi`,
  ].join(' && ');
}

/**
 * Takes over the lock from an earlier attempt of this run: moves it aside (a rename: of two takers,
 * one wins), checks it still names `heldToken`, and links ours in its place; puts it back otherwise.
 * Prints `ops-actions-lock adopted`, or `ops-actions-lock held <owner line>` as acquireCommand does.
 */
export function adoptCommand(service: string, owner: LockOwner, heldToken: string): string {
  const { lock, temp } = paths(service, owner.token);
  const aside = `${LOCK_DIR}/${shellQuote(`.${service}.adopt.${owner.token}`)}`;
  const theirs = shellQuote(`token=${heldToken} `);
  const held = `printf 'ops-actions-lock held %s\\n' "$(cat ${lock} 2>/dev/null)"`;
  return [
    `mkdir -p ${LOCK_DIR}`,
    `printf '%s \\n' ${shellQuote(ownerLine(owner))} > ${temp}`,
    `if ! mv ${lock} ${aside} 2>/dev/null; then rm -f ${temp}; ${held};` +
      ` elif ! grep -qF ${theirs} ${aside}; then ln ${aside} ${lock} 2>/dev/null; rm -f ${aside} ${temp}; ${held};` +
      ` elif ln ${temp} ${lock} 2>/dev/null; then rm -f ${aside} ${temp}; echo 'ops-actions-lock adopted';` +
      ` else rm -f ${aside} ${temp}; ${held}; fi`,
  ].join(' && ');
}

/**
 * Whether a lock's owner line names an earlier attempt of the same repository, run and job as `me`.
 * Outside Actions (no repository, run or job) nothing is adopted.
 */
export function isEarlierAttempt(holder: Record<string, string>, me: LockOwner): boolean {
  const field = (v: string | undefined) => (v ? v.replace(/\s+/g, '_') : undefined);
  const [repository, run, job] = [field(me.repository), field(me.run), field(me.job)];
  if (!repository || !run || !job || !holder.token) return false;
  if (holder.repository !== repository || holder.run !== run || holder.job !== job) return false;
  const theirs = Number(holder.attempt ?? '1');
  const mine = Number(me.attempt ?? '1');
  return Number.isInteger(theirs) && Number.isInteger(mine) && theirs < mine;
}

/** Reads the lock without touching it: prints `ops-actions-lock held <owner line>` or `ops-actions-lock absent`. */
export function inspectCommand(service: string): string {
  const { lock } = paths(service, 'inspect');
  return `if [ -e ${lock} ]; then printf 'ops-actions-lock held %s\\n' "$(cat ${lock} 2>/dev/null)"; else echo 'ops-actions-lock absent'; fi`;
}

/** Removes the lock only when it holds `token`; prints `released`, `absent` or `other <owner line>`. */
export function releaseCommand(service: string, token: string): string {
  const { lock } = paths(service, token);
  const mine = shellQuote(`token=${token} `);
  return `if [ ! -e ${lock} ]; then echo 'ops-actions-lock absent'; elif grep -qF ${mine} ${lock}; then rm -f ${lock} && echo 'ops-actions-lock released'; else printf 'ops-actions-lock other %s\\n' "$(cat ${lock})"; fi`;
}

export type AcquireAnswer =
  | { kind: 'acquired' }
  | { kind: 'adopted' }
  | { kind: 'held'; owner: string }
  | { kind: 'unknown' };

export function parseAcquire(output: string): AcquireAnswer {
  for (const line of output.split('\n')) {
    if (line === 'ops-actions-lock acquired') return { kind: 'acquired' };
    if (line === 'ops-actions-lock adopted') return { kind: 'adopted' };
    if (line.startsWith('ops-actions-lock held')) {
      return { kind: 'held', owner: line.slice('ops-actions-lock held'.length).trim() };
    }
  }
  return { kind: 'unknown' };
}

export type ReleaseAnswer = 'released' | 'absent' | 'other' | 'unknown';

export function parseRelease(output: string): ReleaseAnswer {
  for (const line of output.split('\n')) {
    if (line === 'ops-actions-lock released') return 'released';
    if (line === 'ops-actions-lock absent') return 'absent';
    if (line.startsWith('ops-actions-lock other')) return 'other';
  }
  return 'unknown';
}

/** How a held lock reads in a message: who holds it and since when. */
export function describeOwner(line: string, now = Date.now()): string {
  const owner = parseOwnerLine(line);
  if (!owner.token) return 'an unknown owner (the lock file is empty or unreadable)';
  const who = [
    owner.repository,
    owner.run ? `run ${owner.run}${owner.attempt ? `.${owner.attempt}` : ''}` : undefined,
    owner.job ? `job ${owner.job}` : undefined,
    owner.actor ? `by ${owner.actor}` : undefined,
  ].filter(Boolean);
  const since = owner.time ? Date.parse(owner.time) : Number.NaN;
  const age = Number.isNaN(since) ? '' : `, since ${owner.time} (${formatMs(Math.max(0, now - since))} ago)`;
  return `${who.length > 0 ? who.join(' ') : `deploy ${owner.token}`}${age}`;
}

export interface AcquireOptions {
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
  onWait?: (owner: string) => void;
}

/**
 * Polls until the lock is ours or `timeoutMs` passed; returns the last holder on timeout. A lock an
 * earlier attempt of this run left is adopted at once (`adopted` names its owner line).
 */
export async function acquireLock(
  remote: Remote,
  host: SshHost,
  service: string,
  owner: LockOwner,
  options: AcquireOptions,
): Promise<
  | { acquired: true; waitedMs: number; adopted?: string }
  | { acquired: false; owner: string; waitedMs: number }
> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const run = (command: string) =>
    remote.run(host, command, { timeoutMs: 30_000, ...(options.signal ? { signal: options.signal } : {}) });
  let lastOwner = '';
  for (;;) {
    let result = await run(acquireCommand(service, owner));
    let answer = parseAcquire(result.output);
    if (answer.kind === 'held' && isEarlierAttempt(parseOwnerLine(answer.owner), owner)) {
      const held = answer.owner;
      result = await run(adoptCommand(service, owner, parseOwnerLine(held).token!));
      answer = parseAcquire(result.output);
      if (answer.kind === 'adopted') return { acquired: true, waitedMs: Date.now() - started, adopted: held };
    }
    if (answer.kind === 'acquired' || answer.kind === 'adopted')
      return { acquired: true, waitedMs: Date.now() - started };
    if (answer.kind === 'unknown') {
      throw new ComposedError(msg`could not take the lock${failureOf(result)}`);
    }
    if (answer.owner !== lastOwner) {
      lastOwner = answer.owner;
      options.onWait?.(answer.owner);
    }
    const left = deadline - Date.now();
    if (left <= 0) return { acquired: false, owner: lastOwner, waitedMs: Date.now() - started };
    await sleep(Math.min(options.pollMs ?? 1000, left), options.signal);
  }
}

/**
 * `: ssh could not connect …` when ssh itself failed: one sentence naming host, port and what to
 * check when the host could not be reached (as action-evidence words it), else ssh's own reason;
 * otherwise the exit code and the last lines.
 */
export function failureOf(result: RemoteRun): Message {
  const reason = sshFailure(result);
  if (!reason) return msg` (exit ${own(result.code)}): ${lastLines(result.shown)}`;
  return msg`: ${unreachable(reason, 'hosts, hosts-file or the droplets tagged digitalocean-tag') ?? msg`ssh could not connect: ${reason}`}`;
}

export function lastLines(output: string, count = 5): string {
  const lines = output.trim().split('\n').filter(Boolean);
  return lines.slice(-count).join(' | ') || '(no output)';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}
