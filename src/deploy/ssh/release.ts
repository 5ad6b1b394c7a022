import type { ActionContext } from '../../core/action.ts';
import { parseSshHost } from '../../core/inputs.ts';
import { type Line, msg } from '../../core/message.ts';
import {
  describeOwner,
  failureOf,
  type HeldLock,
  parseRelease,
  type Remote,
  releaseCommand,
} from './lock.ts';

/**
 * Releasing locks, shared by the main step (on every path) and the post step
 * (for a run that was killed or cancelled before it could): a lock is removed
 * only when it still holds our token, so releasing twice, or after someone
 * else took the lock, is harmless.
 */

export function parseHeldLocks(state: string): HeldLock[] {
  if (state.trim() === '') return [];
  try {
    const value = JSON.parse(state) as unknown;
    if (!Array.isArray(value)) return [];
    return value.filter(
      (l): l is HeldLock =>
        typeof l === 'object' &&
        l !== null &&
        typeof l.host === 'string' &&
        typeof l.service === 'string' &&
        typeof l.token === 'string' &&
        (l.taken === undefined || typeof l.taken === 'boolean'),
    );
  } catch {
    return [];
  }
}

export type ReleaseResult = 'released' | 'absent' | 'other' | 'failed';

export async function releaseLock(
  ctx: Pick<ActionContext, 'info' | 'warning'>,
  remote: Remote,
  lock: HeldLock,
): Promise<ReleaseResult> {
  try {
    const host = parseSshHost('locks', lock.host);
    const result = await remote.run(host, releaseCommand(lock.service, lock.token), { timeoutMs: 30_000 });
    const answer = parseRelease(result.output);
    if (answer === 'released') {
      ctx.info(msg`Released the ${lock.service} deploy lock on ${lock.host}.`);
      return 'released';
    }
    if (answer === 'absent') {
      ctx.info(
        lock.taken === false
          ? `The ${lock.service} deploy lock on ${lock.host} was never taken.`
          : `The ${lock.service} deploy lock on ${lock.host} was already released.`,
      );
      return 'absent';
    }
    if (answer === 'other') {
      const owner = result.output.split('ops-actions-lock other')[1]?.split('\n')[0] ?? '';
      ctx.info(
        msg`The ${lock.service} deploy lock on ${lock.host} now belongs to ${describeOwner(owner)}; left alone.`,
      );
      return 'other';
    }
    return cannotRelease(ctx, lock, failureOf(result));
  } catch (error) {
    return cannotRelease(ctx, lock, msg`: ${error}`);
  }
}

/**
 * A lock this run took and cannot release stays on the host until someone removes it: a warning
 * that says how. One it never got an answer for (the host could not be reached to take it) most
 * likely does not exist: said as such, with no advice to remove anything.
 */
function cannotRelease(
  ctx: Pick<ActionContext, 'info' | 'warning'>,
  lock: HeldLock,
  why: Line,
): ReleaseResult {
  if (lock.taken === false) {
    ctx.info(
      msg`Could not check the ${lock.service} deploy lock on ${lock.host}${why}. This run never got an answer that it took it, so there is most likely none to release.`,
    );
    return 'failed';
  }
  ctx.warning(
    msg`Could not release the ${lock.service} deploy lock on ${lock.host}${why}. Remove ~/.ops-actions/locks/${lock.service}.lock there by hand if it remains.`,
  );
  return 'failed';
}
