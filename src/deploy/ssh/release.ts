import type { ActionContext } from '../../core/action.ts';
import { messageOf } from '../../core/errors.ts';
import { parseSshHost } from '../../core/inputs.ts';
import {
  describeOwner,
  type HeldLock,
  lastLines,
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
        typeof l.token === 'string',
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
      ctx.info(`Released the ${lock.service} deploy lock on ${lock.host}.`);
      return 'released';
    }
    if (answer === 'absent') {
      ctx.info(`The ${lock.service} deploy lock on ${lock.host} was already released.`);
      return 'absent';
    }
    if (answer === 'other') {
      const owner = result.output.split('ops-actions-lock other')[1]?.split('\n')[0] ?? '';
      ctx.info(
        `The ${lock.service} deploy lock on ${lock.host} now belongs to ${describeOwner(owner)}; left alone.`,
      );
      return 'other';
    }
    ctx.warning(
      `Could not release the ${lock.service} deploy lock on ${lock.host} (exit ${result.code}): ${lastLines(result.output)}. Remove ~/.ops-actions/locks/${lock.service}.lock there by hand if it remains.`,
    );
    return 'failed';
  } catch (error) {
    ctx.warning(`Could not release the ${lock.service} deploy lock on ${lock.host}: ${messageOf(error)}`);
    return 'failed';
  }
}
