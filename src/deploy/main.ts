import type { ActionContext } from '../core/action.ts';
import { runAction } from '../core/action.ts';
import { createFlyClient } from '../providers/fly/client.ts';
import { FlyLeases } from '../providers/fly/leases.ts';
import { FlyMachineUpdates } from '../providers/fly/machine-update.ts';
import { FlyMachines } from '../providers/fly/machines.ts';
import { createGitHubClient, repoPath } from '../providers/github/client.ts';
import { GitHubDeployments } from '../providers/github/deployments.ts';
import { HerokuApps } from '../providers/heroku/apps.ts';
import { HerokuBuilds } from '../providers/heroku/builds.ts';
import { createHerokuHttp } from '../providers/heroku/client.ts';
import { HerokuPipelineCouplings } from '../providers/heroku/pipelines.ts';
import { HerokuPromotions } from '../providers/heroku/promotions.ts';
import { HerokuReleases } from '../providers/heroku/releases.ts';
import { HerokuReleaseActions } from '../providers/heroku/rollbacks.ts';
import { RegistryClient } from '../providers/registry/distribution.ts';
import { createFlyTarget } from './fly.ts';
import { createHerokuTarget } from './heroku.ts';
import { type DeploySettings, parseInputs, SECRET_INPUTS } from './inputs.ts';
import { runDeploy } from './orchestrate.ts';
import { createSshTarget } from './ssh/index.ts';
import type { DeployTarget } from './target.ts';

await runAction({
  action: 'deploy',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => parseInputs(inputs, process.env),
  derivedSecrets: (s) => [
    s.registry.username && s.registry.password
      ? Buffer.from(`${s.registry.username}:${s.registry.password}`).toString('base64')
      : undefined,
  ],
  run: async (settings, ctx) => {
    const redact = (text: string) => ctx.secrets.redact(text);
    const github =
      settings.github.token && settings.github.repository
        ? new GitHubDeployments(
            createGitHubClient({ apiUrl: settings.github.apiUrl, token: settings.github.token, redact }),
            repoPath(settings.github.repository),
          )
        : undefined;
    const credentials =
      settings.registry.username && settings.registry.password
        ? { username: settings.registry.username, password: settings.registry.password }
        : undefined;
    await runDeploy(settings, ctx, {
      target: buildTarget(settings, ctx),
      history: github,
      registry: (registry) =>
        new RegistryClient(registry, {
          credentials,
          redact,
          onToken: (token) => ctx.secrets.add(token, 'registry-token'),
        }),
    });
  },
});

function buildTarget(settings: DeploySettings, ctx: ActionContext): DeployTarget {
  const redact = (text: string) => ctx.secrets.redact(text);
  const t = settings.target;
  if (t.kind === 'fly') {
    const http = createFlyClient({ baseUrl: t.apiUrl, token: t.apiToken, redact });
    return createFlyTarget(t, {
      machines: new FlyMachines(http, t.app),
      updates: new FlyMachineUpdates(http, t.app),
      leases: new FlyLeases(http, t.app),
    });
  }
  if (t.kind === 'heroku') {
    const http = createHerokuHttp({ baseUrl: t.apiUrl, apiKey: t.apiKey, redact });
    return createHerokuTarget(t, {
      apps: new HerokuApps(http),
      builds: new HerokuBuilds(http),
      releases: new HerokuReleases(http),
      releaseActions: new HerokuReleaseActions(http),
      couplings: new HerokuPipelineCouplings(http),
      promotions: new HerokuPromotions(http),
      skipObserve: settings.dryRun && settings.operation === 'deploy',
    });
  }
  return createSshTarget(t, ctx);
}
