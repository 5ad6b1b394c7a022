import { tmpdir } from 'node:os';
import type { ActionContext } from '../../core/action.ts';
import { StepError } from '../../core/errors.ts';
import { ComposedError, composedOf, type Line, msg } from '../../core/message.ts';
import { redactedData } from '../../core/redacted-data.ts';
import { countsLine, rowsWithin, summaryTable } from '../../core/summary.ts';
import { SshSession } from '../../providers/ssh/session.ts';
import type { SshDeploySettings } from '../inputs.ts';
import { resolveHosts } from './discover-hosts.ts';
import type { DeployHost } from './hosts.ts';
import {
  describeOwner,
  failureOf,
  inspectCommand,
  parseAcquire,
  parseOwnerLine,
  parseRelease,
  type Remote,
  releaseCommand,
} from './lock.ts';

/**
 * `operation: release-lock` (target ssh): removes the deploy lock of this `service`
 * (`~/.ops-actions/locks/<service>.lock` in the ssh user's home) on every host, for a lock a run
 * left behind when its runner died before the post step could release it.
 *
 * Only that one file is ever touched: another service's lock has another name and is never read
 * or removed. Each lock is read first and removed only if it still holds the token read (the
 * release command of lock.ts), so a deploy that took the lock in between keeps it. A file there
 * without an owner line was not written by this action and is left for a person to look at.
 * Dry-run reads the locks and says which it would release.
 */

export type LockResult =
  | 'released'
  | 'would release'
  | 'no lock'
  | 'taken by another run meanwhile'
  | 'not an ops-actions lock'
  | 'failed';

export interface HostLock {
  host: string;
  /** The owner as a message names it ("acme/web run 42.1 job deploy, since … (3 h ago)"). */
  heldBy: string | undefined;
  result: LockResult;
  error?: Line;
}

/** Past this many hosts the summary lists the ones where something happened first, and only this many. */
export const LOCK_ROWS = 200;
/** Failed hosts named in the step's error; the others are counted. */
const NAMED_IN_ERROR = 10;

const LOCK_RANK: Record<LockResult, number> = {
  failed: 0,
  released: 1,
  'would release': 2,
  'taken by another run meanwhile': 3,
  'not an ops-actions lock': 4,
  'no lock': 5,
};

/**
 * The summary's table, one row per host up to LOCK_ROWS; past that the failed, released and
 * other noteworthy hosts first, and a line with the count per result. A `hosts-file` of thousands
 * of hosts would otherwise pass the runner's 1 MiB per step summary, which it drops whole.
 * Every host has its line in the step's log.
 */
export function lockTable(results: readonly HostLock[]): string[] {
  const rows = rowsWithin(results, LOCK_ROWS, (r) => LOCK_RANK[r.result]);
  const table = summaryTable(
    ['host', 'held by', 'result'],
    rows.map((r) => [r.host, r.heldBy ?? '—', r.error ?? r.result]),
  );
  if (rows.length === results.length) return [table];
  return [
    table,
    '',
    `_${results.length} hosts: ${countsLine(results.map((r) => r.result))}. The table shows ${rows.length} of them, those failed or released first; every host has its line in the step's log._`,
  ];
}

/** Reads and releases the service's lock on each host, one host at a time. */
export async function releaseServiceLocks(
  remote: Remote,
  hosts: readonly DeployHost[],
  service: string,
  options: { dryRun: boolean; line: (text: Line) => void },
): Promise<HostLock[]> {
  const out: HostLock[] = [];
  for (const host of hosts) {
    try {
      out.push(await releaseOne(remote, host, service, options));
    } catch (error) {
      const reason = composedOf(error);
      options.line(msg`${host.where}: failed: ${reason}`);
      out.push({ host: host.where, heldBy: undefined, result: 'failed', error: reason });
    }
  }
  return out;
}

async function releaseOne(
  remote: Remote,
  host: DeployHost,
  service: string,
  options: { dryRun: boolean; line: (text: Line) => void },
): Promise<HostLock> {
  const where = host.where;
  const read = await remote.run(host.login, inspectCommand(service), { timeoutMs: 30_000 });
  if (read.output.split('\n').includes('ops-actions-lock absent')) {
    options.line(`${where}: no ${service} deploy lock is held`);
    return { host: where, heldBy: undefined, result: 'no lock' };
  }
  const answer = parseAcquire(read.output);
  if (answer.kind !== 'held') throw new ComposedError(msg`could not read the lock${failureOf(read)}`);
  const token = parseOwnerLine(answer.owner).token;
  if (!token) {
    options.line(
      `${where}: ~/.ops-actions/locks/${service}.lock holds no owner line that this action writes; left alone, look at it on the host`,
    );
    return { host: where, heldBy: undefined, result: 'not an ops-actions lock' };
  }
  const heldBy = describeOwner(answer.owner);
  if (options.dryRun) {
    options.line(`${where}: would release the ${service} deploy lock, held by ${heldBy}`);
    return { host: where, heldBy, result: 'would release' };
  }
  const release = await remote.run(host.login, releaseCommand(service, token), { timeoutMs: 30_000 });
  const released = parseRelease(release.output);
  if (released === 'released') {
    options.line(`${where}: released the ${service} deploy lock, held by ${heldBy}`);
    return { host: where, heldBy, result: 'released' };
  }
  if (released === 'absent') {
    options.line(`${where}: the ${service} deploy lock was released meanwhile`);
    return { host: where, heldBy, result: 'no lock' };
  }
  if (released === 'other') {
    options.line(`${where}: another run took the ${service} deploy lock meanwhile; left alone`);
    return { host: where, heldBy, result: 'taken by another run meanwhile' };
  }
  throw new ComposedError(msg`could not release the lock${failureOf(release)}`);
}

/** The whole operation: hosts, locks, summary, outputs; fails when a host could not be read or released. */
export async function runReleaseLock(
  settings: SshDeploySettings,
  dryRun: boolean,
  ctx: ActionContext,
): Promise<void> {
  const hosts = await resolveHosts(settings, ctx);
  const session = await SshSession.open(
    { key: settings.sshKey, knownHosts: settings.knownHosts },
    ctx.env.RUNNER_TEMP || tmpdir(),
    { redactor: ctx.secrets.redactor },
  );
  let results: HostLock[];
  try {
    results = await ctx.log.step(
      'ssh.release-lock',
      { service: settings.service, dryRun: String(dryRun) },
      () => releaseServiceLocks(session, hosts, settings.service, { dryRun, line: (text) => ctx.info(text) }),
    );
  } finally {
    await session.close();
  }
  // Our wording as written; the service, hosts, holders and errors redacted one by one.
  const redact = (text: string) => ctx.secrets.redact(text);
  const shown = redactedData(results, ctx.secrets.redactor, ['result']);
  await ctx.writeSummary(
    [
      `### Release the ${redact(settings.service)} deploy lock${dryRun ? ' (dry run, nothing changed)' : ''}`,
      '',
      ...lockTable(shown),
      '',
    ].join('\n'),
    { fromRedactedData: true },
  );
  const failed = results.filter((r) => r.result === 'failed');
  const status =
    failed.length > 0
      ? 'failed'
      : dryRun
        ? 'planned'
        : results.some((r) => r.result === 'released')
          ? 'success'
          : 'unchanged';
  ctx.setOwnOutput('status', status);
  if (failed.length > 0) {
    const named = failed.slice(0, NAMED_IN_ERROR);
    const more = failed.length > named.length ? `; and ${failed.length - named.length} more` : '';
    throw new StepError(
      'ssh.release-lock',
      msg`release the ${settings.service} deploy lock on ${named.map((r) => r.host).join(', ')}${more}`,
      named.map((r) => (failed.length > 1 ? `${r.host}: ${r.error}` : r.error)).join('; ') + more,
    );
  }
  if (status === 'unchanged')
    ctx.notice(
      msg`release-lock changed nothing: no host held a ${settings.service} deploy lock that could be released`,
    );
  if (dryRun) ctx.info(msg`release-lock of ${settings.service}: dry run, nothing changed`);
}
