import { type ActionContext, runAction } from '../core/action.ts';
import { urlSecrets } from '../core/secrets.ts';
import { createGitHubClient } from '../providers/github/client.ts';
import { GitHubDeployments } from '../providers/github/deployments.ts';
import { RegistryClient } from '../providers/registry/distribution.ts';
import { runDeploy } from './flow.ts';
import { type DeploySettings, parseInputs, SECRET_INPUTS } from './inputs.ts';
import { rateLimitWaits } from './rate-limit-waits.ts';
import { basicForms, credentialsFor } from './registry-credentials.ts';
import type { DeployTarget } from './target.ts';

await runAction({
  action: 'deploy',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => parseInputs(inputs, process.env),
  derivedSecrets: (s) => [
    ...basicForms(s.registry),
    // A presigned source-url carries its signature (and maybe a token) in the query.
    ...(s.target.kind === 'heroku' && s.target.source?.kind === 'url' ? urlSecrets(s.target.source.url) : []),
  ],
  run: deploy,
  // An early failure (no such app, a refused rollback-to) reports as every other failure does:
  // status failed and a summary heading (issue 13).
  failureTitle: (s, redact) => `${s.operation} to ${s.target.kind} (${redact(s.environment)})`,
  failureOutputs: { status: 'failed' },
});

async function deploy(settings: DeploySettings, ctx: ActionContext): Promise<void> {
  if (settings.operation === 'release-lock') {
    // parseInputs allows release-lock with target ssh only.
    if (settings.target.kind !== 'ssh') return;
    return (await import('./ssh/release-lock.ts')).runReleaseLock(settings.target, settings.dryRun, ctx);
  }
  // One bound for every rate-limit wait of the run: health-timeout from the step's start.
  const startedAt = Date.now();
  const redact = (text: string) => ctx.secrets.redact(text);
  const github =
    settings.github.token && settings.github.repository
      ? new GitHubDeployments(
          createGitHubClient({
            apiUrl: settings.github.apiUrl,
            token: settings.github.token,
            redact,
            // A rate-limited GitHub call waits at most as long as the deploy waits for health.
            rateLimitBudget: { ms: settings.healthTimeoutMs, bound: 'the input health-timeout' },
            // A cancel cuts every GitHub call and wait at once; final statuses pass their own signal.
            signal: ctx.cancellation.signal,
            log: (line) => ctx.info(line),
            env: ctx.env,
          }),
          settings.github.repository,
        )
      : undefined;
  // One client per registry host: its tokens (push-scoped after the push check) are reused.
  const registries = new Map<string, RegistryClient>();
  await runDeploy({ ...settings, operation: settings.operation }, ctx, {
    target: await buildTarget(settings, ctx, startedAt),
    history: github,
    registry: (registry) => {
      let client = registries.get(registry);
      if (!client) {
        const chosen = credentialsFor(registry, settings.registry);
        client = new RegistryClient(registry, {
          credentials: chosen?.credentials,
          credentialSource: chosen?.source,
          redact,
          onToken: (token) => ctx.secrets.add(token, 'registry-token'),
          // Rate limits (Docker Hub's pull limit, GHCR's) wait within the run's one bound.
          ...rateLimitWaits(settings, ctx, startedAt),
        });
        registries.set(registry, client);
      }
      return client;
    },
  });
}

/** Each target's code is loaded only when it is the one asked for: the bundle starts faster. */
async function buildTarget(
  settings: DeploySettings,
  ctx: ActionContext,
  startedAt: number,
): Promise<DeployTarget> {
  const t = settings.target;
  if (t.kind === 'fly') return (await import('./connect-fly.ts')).connectFly(t, settings, ctx, startedAt);
  if (t.kind === 'heroku')
    return (await import('./connect-heroku.ts')).connectHeroku(t, settings, ctx, startedAt);
  return (await import('./ssh/index.ts')).createSshTarget(t, ctx);
}
