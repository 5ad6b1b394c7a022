import type { ActionContext } from '../core/action.ts';
import { createFlyClient } from '../providers/fly/client.ts';
import { FlyLeases } from '../providers/fly/leases.ts';
import { FlyMachines } from '../providers/fly/machines.ts';
import { createFlyTarget } from './fly.ts';
import { FLY_GREEN_STATE, serializeGreen } from './fly-green-state.ts';
import { FLY_LEASES_STATE, serializeLeaseIntent } from './fly-lease-state.ts';
import type { DeploySettings, FlyDeploySettings } from './inputs.ts';
import { rateLimitWaits } from './rate-limit-waits.ts';
import type { DeployTarget } from './target.ts';

/** The fly target on the real Machines API; main.ts loads this only for `target: fly`. */
export function connectFly(
  settings: FlyDeploySettings,
  deploy: Pick<DeploySettings, 'healthTimeoutMs'>,
  ctx: ActionContext,
  /** Epoch ms of the step's start: rate-limit waits end by it + health-timeout. */
  startedAt: number,
): DeployTarget {
  const redact = (text: string) => ctx.secrets.redact(text);
  const http = createFlyClient({
    baseUrl: settings.apiUrl,
    token: settings.apiToken,
    redact,
    ...rateLimitWaits(deploy, ctx, startedAt),
  });
  const machines = new FlyMachines(http, settings.app);
  return createFlyTarget(settings, {
    machines,
    updates: machines,
    leases: new FlyLeases(http, settings.app),
    lifecycle: machines,
    onLeases: (intent) => ctx.saveState(FLY_LEASES_STATE, serializeLeaseIntent(intent)),
    onGreen: (state) => ctx.saveState(FLY_GREEN_STATE, serializeGreen(state)),
  });
}
