import type { ActionContext } from '../core/action.ts';
import { HerokuApps } from '../providers/heroku/apps.ts';
import { HerokuBuilds } from '../providers/heroku/builds.ts';
import { createHerokuHttp } from '../providers/heroku/client.ts';
import { HerokuPipelineCouplings } from '../providers/heroku/pipelines.ts';
import { HerokuPromotions } from '../providers/heroku/promotions.ts';
import { HerokuReleases } from '../providers/heroku/releases.ts';
import { HerokuReleaseActions } from '../providers/heroku/rollbacks.ts';
import { createHerokuTarget } from './heroku.ts';
import type { DeploySettings, HerokuDeploySettings } from './inputs.ts';
import { rateLimitWaits } from './rate-limit-waits.ts';
import type { DeployTarget } from './target.ts';

/** The heroku target on the real Platform API; main.ts loads this only for `target: heroku`. */
export function connectHeroku(
  settings: HerokuDeploySettings,
  deploy: Pick<DeploySettings, 'dryRun' | 'operation' | 'healthTimeoutMs'>,
  ctx: ActionContext,
  /** Epoch ms of the step's start: rate-limit waits end by it + health-timeout. */
  startedAt: number,
): DeployTarget {
  const redactor = ctx.secrets.redactor;
  const redact = (text: string) => redactor.redact(text);
  const http = createHerokuHttp({
    baseUrl: settings.apiUrl,
    apiKey: settings.apiKey,
    redact,
    ...rateLimitWaits(deploy, ctx, startedAt),
  });
  return createHerokuTarget(settings, {
    apps: new HerokuApps(http),
    builds: new HerokuBuilds(http),
    releases: new HerokuReleases(http),
    releaseActions: new HerokuReleaseActions(http),
    couplings: new HerokuPipelineCouplings(http),
    promotions: new HerokuPromotions(http),
    skipObserve: deploy.dryRun && deploy.operation === 'deploy',
    redactor,
  });
}
