import { tmpdir } from 'node:os';
import type { ActionContext } from '../../core/action.ts';
import { SshSession } from '../../providers/ssh/session.ts';
import type { SshDeploySettings } from '../inputs.ts';
import type { DeployRequest, DeployTarget, TargetObservation, TargetOutcome } from '../target.ts';
import { listOn } from './containers.ts';
import { resolveHosts } from './discover-hosts.ts';
import type { DeployHost } from './hosts.ts';
import { Rollout, type SshTargetOptions } from './rollout.ts';

export type { SshTargetOptions } from './rollout.ts';

/**
 * The ssh target: Docker hosts over the system ssh client.
 *
 * Rollout, as Kamal does it but with a canary: every host's lock is taken
 * first, one at a time in a fixed order (two deploys to overlapping hosts then
 * queue instead of deadlocking), then the first host is deployed alone and
 * must get healthy; the others follow in parallel. If any host fails, no
 * further host is started and, with `auto-rollback`, every changed host gets
 * its previous container back. Old containers are pruned to `keep` only when
 * the whole rollout is healthy, so a rollback always finds what it needs.
 * Locks are released on every path, and by the post step when the job dies.
 *
 * Dry-run reads each host's containers (`docker ps`, read-only, no lock) to
 * show the exact plan, and changes nothing.
 */

export function createSshTarget(
  settings: SshDeploySettings,
  ctx: ActionContext,
  options: SshTargetOptions = {},
): DeployTarget {
  let hostsOnce: Promise<DeployHost[]> | undefined;
  const hosts = () => {
    hostsOnce ??= resolveHosts(settings, ctx);
    return hostsOnce;
  };
  const openSession = () =>
    SshSession.open(
      { key: settings.sshKey, knownHosts: settings.knownHosts },
      ctx.env.RUNNER_TEMP || tmpdir(),
      { redactor: ctx.secrets.redactor },
    );

  return {
    async observe(): Promise<TargetObservation> {
      const [first] = await hosts();
      if (!first) return {};
      const session = await openSession();
      try {
        const containers = await listOn(session, first, settings.service);
        const running = containers.find((c) => c.state === 'running');
        return running ? { previousImage: running.image } : {};
      } catch {
        return {};
      } finally {
        await session.close();
      }
    },

    async run(request: DeployRequest): Promise<TargetOutcome> {
      const list = await hosts();
      const session = await openSession();
      try {
        return await new Rollout(settings, ctx, session, list, request, options).run();
      } finally {
        await session.close();
      }
    },
  };
}
