import { randomUUID } from 'node:crypto';
import type { ActionContext } from '../core/action.ts';
import { InputError, messageOf, StepError } from '../core/errors.ts';
import type { GitHubDeployments } from '../providers/github/deployments.ts';
import { type ImageReference, parseImageReference } from '../providers/registry/reference.ts';
import {
  type DeployPayload,
  findById,
  findByTag,
  findPrevious,
  type Recorded,
  releaseNote,
} from './history.ts';
import { deployTagOf, digestOf, type RegistryApi, resolveImage } from './image.ts';
import type { DeploySettings } from './inputs.ts';
import { renderSummary } from './report.ts';
import type { DeployRequest, DeployTarget, TargetOutcome } from './target.ts';

/**
 * One path for deploy and rollback: pick the version (resolve and tag the
 * image, or find the earlier one in the history), record a GitHub deployment,
 * let the target roll, record its outcome, report. A rollback is a deploy of
 * an earlier version.
 */

export interface DeployDeps {
  target: DeployTarget;
  /** A registry client for the registry an image lives in. */
  registry: (registry: string) => RegistryApi;
  /** Undefined when recording is disabled (no github-token). */
  history: Pick<GitHubDeployments, 'create' | 'setStatus' | 'list' | 'get' | 'statuses'> | undefined;
  newId?: () => string;
  signal?: AbortSignal;
}

interface Version {
  image: string | undefined;
  tag: string;
  release: string | undefined;
  /** What the user sees as where the version came from. */
  source: string;
}

export async function runDeploy(
  settings: DeploySettings,
  ctx: ActionContext,
  deps: DeployDeps,
): Promise<void> {
  const target = settings.target.kind;
  const deployId = (deps.newId ?? randomUUID)();
  const ownTag = deployTagOf(deployId);
  ctx.setOutput('deploy-id', deployId);
  const env = ctx.env;
  if (!deps.history)
    ctx.warning(
      'github-token is empty: this deploy is not recorded as a GitHub deployment, and rollback-to previous cannot look up the history',
    );
  if (settings.dryRun) ctx.info('Dry run: planning only; nothing that changes anything is sent.');

  const observation = await ctx.log.step(
    'target.observe',
    { target },
    async () => (await deps.target.observe?.()) ?? {},
  );
  const version = await ctx.log.step('version.resolve', { operation: settings.operation }, () =>
    resolveVersion(settings, ctx, deps, ownTag, observation.previousImage),
  );
  ctx.setOutput('deploy-tag', version.tag);
  if (version.image) ctx.setOutput('image', version.image);
  if (observation.previousImage) ctx.setOutput('previous-image', observation.previousImage);
  ctx.info(`${settings.operation} ${deployId} (${version.tag}): ${version.source}`);

  const payload: DeployPayload = {
    deploy_id: deployId,
    image: version.image,
    digest: digestOf(version.image),
    tag: version.tag,
    target,
    previous_image: observation.previousImage,
    operation: settings.operation,
    ...(version.release ? { release: version.release } : {}),
  };
  const logUrl = runUrl(env);
  let deploymentId: number | undefined;
  if (deps.history && !settings.dryRun) {
    const history = deps.history;
    const created = await ctx.log.step(
      'github.deployment.create',
      { environment: settings.environment },
      () =>
        history
          .create({
            ref: env.GITHUB_SHA || env.GITHUB_REF || 'HEAD',
            environment: settings.environment,
            description: `${settings.operation} ${version.tag} to ${target}`,
            payload: payload as unknown as Record<string, unknown>,
            task: 'deploy',
            transientEnvironment: false,
            productionEnvironment: /^prod/i.test(settings.environment),
          })
          .catch((error: unknown) => {
            throw new StepError('github.deployment.create', `environment ${settings.environment}`, error);
          }),
    );
    deploymentId = created.id;
    ctx.setOutput('deployment-id', String(deploymentId));
    await recordStatus(ctx, history, deploymentId, {
      state: 'in_progress',
      description: `${settings.operation} of ${version.tag} in progress`,
      logUrl,
      environmentUrl: observation.url,
    });
  }

  const request: DeployRequest = {
    operation: settings.operation,
    deployId,
    deployTag: version.tag,
    image: version.image,
    dryRun: settings.dryRun,
    healthTimeoutMs: settings.healthTimeoutMs,
    autoRollback: settings.autoRollback,
    log: (line) => ctx.info(line),
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(version.release ? { release: version.release } : {}),
  };
  let outcome: TargetOutcome;
  try {
    outcome = await ctx.log.step('target.rollout', { target, deploy_id: deployId }, () =>
      deps.target.run(request),
    );
  } catch (error) {
    ctx.setOutput('status', 'failed');
    if (deps.history && deploymentId !== undefined)
      await recordStatus(ctx, deps.history, deploymentId, {
        state: 'error',
        description: `failed: ${messageOf(error)}`,
        logUrl,
      });
    throw error;
  }

  if (settings.dryRun) for (const line of outcome.plan) ctx.info(`plan: ${line}`);
  if (deps.history && deploymentId !== undefined) {
    const success = outcome.status === 'success';
    await recordStatus(ctx, deps.history, deploymentId, {
      state: success ? 'success' : 'failure',
      description: success
        ? outcome.release
          ? `deployed ${releaseNote({ id: outcome.release })}`
          : `deployed ${version.tag}`
        : outcome.status === 'rolled-back'
          ? `rolled back: ${outcome.error ?? 'health check failed'}`
          : `failed: ${outcome.error ?? 'unknown error'}`,
      logUrl,
      environmentUrl: success ? outcome.url : undefined,
    });
  }
  for (const unit of outcome.units)
    ctx.log.write({
      step: 'unit',
      outcome: unit.outcome === 'failed' ? 'failed' : unit.outcome === 'planned' ? 'planned' : 'ok',
      durationMs: Math.round(unit.endedMs - unit.startedMs),
      ids: { unit: unit.id, batch: unit.batch, result: unit.outcome },
      ...(unit.error ? { detail: unit.error } : {}),
    });

  ctx.setOutput('status', outcome.status);
  if (outcome.url) ctx.setOutput('url', outcome.url);
  if (!observation.previousImage && outcome.previousImage)
    ctx.setOutput('previous-image', outcome.previousImage);
  ctx.writeSummary(
    renderSummary({
      operation: settings.operation,
      target,
      environment: settings.environment,
      deployId,
      deployTag: version.tag,
      image: version.image,
      previousImage: observation.previousImage,
      deploymentId,
      dryRun: settings.dryRun,
      outcome,
    }),
  );
  if (outcome.status !== 'success') {
    const what = outcome.status === 'rolled-back' ? 'rolled back' : 'failed';
    throw new StepError(
      'rollout',
      `${target} ${settings.environment}`,
      new Error(`${what}: ${outcome.error ?? 'see the job summary'}`),
    );
  }
  ctx.info(`${settings.operation} ${version.tag} to ${target}: success`);
}

async function recordStatus(
  ctx: ActionContext,
  history: NonNullable<DeployDeps['history']>,
  id: number,
  status: Parameters<GitHubDeployments['setStatus']>[1],
): Promise<void> {
  await ctx.log
    .step('github.deployment.status', { deployment: id, state: status.state }, () =>
      history.setStatus(id, status),
    )
    .catch((error: unknown) =>
      ctx.warning(`could not record status ${status.state} on GitHub deployment ${id}: ${messageOf(error)}`),
    );
}

function runUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return undefined;
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  return `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
}

async function resolveVersion(
  settings: DeploySettings,
  ctx: ActionContext,
  deps: DeployDeps,
  ownTag: string,
  runningImage: string | undefined,
): Promise<Version> {
  const log = (line: string) => ctx.info(line);
  const target = settings.target.kind;
  if (settings.operation === 'deploy') {
    if (target === 'heroku') {
      const source = settings.target.kind === 'heroku' ? settings.target.source : undefined;
      return {
        image: undefined,
        tag: ownTag,
        release: undefined,
        source:
          source?.kind === 'promote' ? `promotion from ${source.from}` : `build of ${source?.url ?? '?'}`,
      };
    }
    const ref = settings.image!;
    const resolved = await resolveImage(deps.registry(ref.registry), ref, {
      tag: settings.tagImage ? ownTag : undefined,
      dryRun: settings.dryRun,
      log,
    });
    return { image: resolved.pinned, tag: ownTag, release: undefined, source: `image ${resolved.pinned}` };
  }

  const to = settings.rollbackTo;
  const needHistory = (what: string) => {
    if (!deps.history)
      throw new InputError(
        'rollback-to',
        `${what} needs the GitHub deployment history: give a github-token, or an image reference or deploy_ tag`,
      );
    return deps.history;
  };
  const fromRecord = (r: Recorded, what: string): Version => {
    const tag = typeof r.payload.tag === 'string' ? r.payload.tag : ownTag;
    if (target === 'heroku') {
      if (!r.release)
        throw new StepError('version.resolve', what, new Error('the deployment names no Heroku release'));
      return { image: undefined, tag, release: r.release, source: `${what} (release ${r.release})` };
    }
    if (typeof r.payload.image !== 'string')
      throw new StepError('version.resolve', what, new Error('the deployment names no image'));
    return { image: r.payload.image, tag, release: undefined, source: `${what}: ${r.payload.image}` };
  };

  if (to.kind === 'previous') {
    if (target === 'heroku' && !deps.history)
      return {
        image: undefined,
        tag: ownTag,
        release: undefined,
        source: 'the release before the current one',
      };
    const { current, previous } = await findPrevious(
      needHistory('rollback-to previous'),
      settings.environment,
      target,
    );
    if (!previous) {
      if (target === 'heroku')
        return {
          image: undefined,
          tag: ownTag,
          release: undefined,
          source: 'the release before the current one',
        };
      throw new StepError(
        'version.resolve',
        `environment ${settings.environment}`,
        new Error(
          current
            ? `only one successful deployment (${current.deployment.id}) is recorded; there is nothing before it`
            : 'no successful deployment is recorded',
        ),
      );
    }
    return fromRecord(previous, `GitHub deployment ${previous.deployment.id}`);
  }
  if (to.kind === 'deployment') {
    const r = await findById(needHistory('a deployment id'), to.id);
    if (!r)
      throw new InputError(
        'rollback-to',
        `names GitHub deployment ${to.id}, which does not exist in this repository`,
      );
    return fromRecord(r, `GitHub deployment ${to.id}`);
  }
  if (to.kind === 'tag') {
    const r = deps.history ? await findByTag(deps.history, settings.environment, target, to.tag) : undefined;
    if (r) return fromRecord(r, `GitHub deployment ${r.deployment.id}`);
    if (target === 'heroku')
      throw new InputError(
        'rollback-to',
        `names ${to.tag}, but no deployment of this environment carries that tag`,
      );
    const base = settings.image ?? (runningImage ? parseImageReference(runningImage) : undefined);
    if (!base)
      throw new InputError(
        'rollback-to',
        `names ${to.tag}; give image (the repository) so the tag can be found in the registry`,
      );
    const ref: ImageReference = { ...base, tag: to.tag, digest: undefined };
    const resolved = await resolveImage(deps.registry(ref.registry), ref, {
      tag: undefined,
      dryRun: settings.dryRun,
      log,
    });
    return {
      image: resolved.pinned,
      tag: to.tag,
      release: undefined,
      source: `registry tag ${to.tag}: ${resolved.pinned}`,
    };
  }
  if (target === 'heroku')
    throw new InputError(
      'rollback-to',
      'cannot be an image reference for heroku: give previous, a deployment id or a deploy_ tag',
    );
  const resolved = await resolveImage(deps.registry(to.image.registry), to.image, {
    tag: settings.tagImage ? ownTag : undefined,
    dryRun: settings.dryRun,
    log,
  });
  return {
    image: resolved.pinned,
    tag: ownTag,
    release: undefined,
    source: `image ${to.raw}: ${resolved.pinned}`,
  };
}
