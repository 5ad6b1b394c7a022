import { tmpdir } from 'node:os';
import { runPost } from '../core/action.ts';
import { SshSession } from '../providers/ssh/session.ts';
import { SECRET_INPUTS } from './inputs.ts';
import { LOCKS_STATE } from './ssh/lock-set.ts';
import { parseHeldLocks, releaseLock } from './ssh/release.ts';

/**
 * The `post:` step (`post-if: always()`): releases every deploy lock the main
 * step recorded and did not release itself, which happens when the job was
 * cancelled or the main step was killed. The main step records a lock before
 * taking it, and a lock is only removed while it holds this run's token.
 */
await runPost('deploy', async (ctx) => {
  for (const name of SECRET_INPUTS) ctx.secrets.add(ctx.inputs.raw(name), 'secret');
  const held = parseHeldLocks(ctx.getState(LOCKS_STATE));
  if (held.length === 0) {
    ctx.info('No deploy locks left to release.');
    return;
  }
  const knownHosts = ctx.inputs.raw('ssh-known-hosts');
  const session = await SshSession.open(
    { key: ctx.inputs.optional('ssh-key'), knownHosts },
    ctx.env.RUNNER_TEMP || tmpdir(),
  );
  try {
    for (const lock of held) {
      const result = await releaseLock(ctx, session, lock);
      ctx.log.write({
        step: 'ssh.unlock',
        outcome: result === 'failed' ? 'failed' : 'ok',
        ids: { host: lock.host, service: lock.service },
        detail: result,
      });
    }
  } finally {
    await session.close();
  }
});
