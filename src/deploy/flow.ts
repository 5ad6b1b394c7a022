import { randomUUID } from 'node:crypto';
import type { ActionContext } from '../core/action.ts';
import { CancelledError, isCancelled, RECORD_BUDGET_MS, untilAborted } from '../core/cancellation.ts';
import { InputError, StepError } from '../core/errors.ts';
import { ComposedError, type Line, type Message, msg, own, redactMessage } from '../core/message.ts';
import { redactedData } from '../core/redacted-data.ts';
import type { GitHubDeployments } from '../providers/github/deployments.ts';
import type { ImageReference } from '../providers/registry/reference.ts';
import { DEPLOYMENT_STATE } from './deployment-state.ts';
import {
  type DeployPayload,
  findById,
  findByTag,
  findEarlierAttempt,
  findPrevious,
  type Recorded,
  ROLLED_BACK_NOTE,
  releaseNote,
  UNCHANGED_NOTE,
} from './history.ts';
import { describeIdentity, identityOfSettings, type TargetIdentity } from './identity.ts';
import { deployTagOf, digestOf, pinImage, type RegistryApi, tagPinned } from './image.ts';
import type { DeployOrRollback, DeploySettings } from './inputs.ts';
import { GITHUB_REGISTRY } from './registry-credentials.ts';
import { type DeployReport, type DeployStatus, REPORT_WORDS, renderSummary } from './report.ts';
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
}

interface Version {
  image: string | undefined;
  tag: string;
  release: string | undefined;
  /** What the user sees as where the version came from. */
  source: string;
  /** Adds the deploy tag in the registry once it is known (a re-run reuses its earlier attempt's). */
  tagImage?: (tag: string) => Promise<void>;
  /** Why going to this version may change nothing, and how to go further back: said when it does. */
  unchangedHint?: string;
}

export async function runDeploy(
  settings: DeployOrRollback,
  ctx: ActionContext,
  deps: DeployDeps,
): Promise<void> {
  const target = settings.target.kind;
  const identity = identityOfSettings(settings.target);
  const freshId = (deps.newId ?? randomUUID)();
  const ownTag = deployTagOf(freshId);
  const env = ctx.env;
  if (!deps.history)
    ctx.warning(
      'github-token is empty: this deploy is not recorded as a GitHub deployment, and rollback-to previous cannot look up the history',
    );
  if (settings.dryRun) ctx.info('Dry run: planning only; nothing that changes anything is sent.');

  const unverified = await checkPushAccess(settings, ctx, deps);
  const observation = await ctx.log.step(
    'target.observe',
    { target },
    async () => (await deps.target.observe?.()) ?? {},
  );
  const version = await ctx.log.step('version.resolve', { operation: settings.operation }, () =>
    resolveVersion(settings, ctx, deps, identity, ownTag),
  );

  const runId = env.GITHUB_RUN_ID?.trim() || undefined;
  const job = env.GITHUB_JOB?.trim() || undefined;
  const history = deps.history && !settings.dryRun ? deps.history : undefined;
  const earlier =
    history && runId
      ? await ctx.log.step('github.deployment.find', { environment: settings.environment, run: runId }, () =>
          findEarlierAttempt(history, {
            environment: settings.environment,
            runId,
            job,
            sha: /^[0-9a-f]{40}$/.test(env.GITHUB_SHA ?? '') ? env.GITHUB_SHA : undefined,
            identity,
            operation: settings.operation,
            image: version.image,
            release: version.release,
            tag: version.tag === ownTag ? undefined : version.tag,
          }).catch((error: unknown) => {
            throw new StepError(
              'github.deployment.find',
              msg`read the GitHub deployments of environment ${settings.environment} (to continue an earlier attempt of this run)`,
              error,
            );
          }),
        )
      : undefined;
  // A re-run continues the earlier attempt's deploy: same id, same tag, so the registry tag, the
  // target's state (Heroku build version, ssh container name) and the record line up.
  const deployId = earlier?.payload.deploy_id ?? freshId;
  if (earlier && version.tag === ownTag) version.tag = earlier.payload.tag ?? deployTagOf(deployId);
  if (earlier)
    ctx.info(
      msg`Attempt ${env.GITHUB_RUN_ATTEMPT ?? own('?')} of run ${runId}: continuing GitHub deployment ${earlier.deployment.id} (${version.tag}), which attempt ${earlier.payload.run_attempt ?? own('?')} created`,
    );
  ctx.cancellation.signal.throwIfAborted();
  let reportedTag: string | undefined;
  if (version.tagImage) {
    const tagImage = version.tagImage;
    await ctx.log.step('image.tag', { tag: version.tag }, () =>
      tagImage(version.tag).catch((error: unknown) => {
        throw new StepError('image.tag', msg`tag image ${version.image ?? ''} as ${version.tag}`, error);
      }),
    );
    // The tag is in the registry from here on, even if recording the GitHub deployment fails next.
    if (!settings.dryRun) reportedTag = setDeployTag(ctx, settings, version, deployId, false);
  }
  ctx.setOwnOutput('deploy-id', deployId);
  if (version.image) ctx.setOutput('image', version.image);
  if (observation.previousImage) ctx.setOutput('previous-image', observation.previousImage);
  // A dry run's own tag is never created: the line says it would be.
  ctx.info(
    settings.dryRun && version.tag === deployTagOf(deployId)
      ? msg`${settings.operation} ${deployId} (dry run, would tag ${version.tag}): ${version.source}`
      : msg`${settings.operation} ${deployId} (${version.tag}): ${version.source}`,
  );

  const payload: DeployPayload = {
    deploy_id: deployId,
    image: version.image,
    digest: digestOf(version.image),
    tag: version.tag,
    target,
    target_name: identity.name,
    previous_image: observation.previousImage,
    operation: settings.operation,
    ...(version.release ? { release: version.release } : {}),
    ...(runId ? { run_id: runId, run_attempt: env.GITHUB_RUN_ATTEMPT?.trim() || '1' } : {}),
    ...(runId && job ? { job } : {}),
  };
  const logUrl = runUrl(env);
  let deploymentId: number | undefined = earlier?.deployment.id;
  if (history && !earlier) {
    const created = await ctx.log.step(
      'github.deployment.create',
      { environment: settings.environment },
      () =>
        history
          .create({
            ref: env.GITHUB_SHA || env.GITHUB_REF || 'HEAD',
            environment: settings.environment,
            description: redactMessage(
              msg`${own(settings.operation)} ${version.tag} to ${describeIdentity(identity)}`,
              ctx.secrets.redactor,
            ),
            payload: payload as unknown as Record<string, unknown>,
            task: 'deploy',
            transientEnvironment: false,
            productionEnvironment: /^prod/i.test(settings.environment),
          })
          .catch((error: unknown) => {
            throw new StepError(
              'github.deployment.create',
              msg`record a GitHub deployment in environment ${settings.environment}`,
              error,
            );
          }),
    );
    deploymentId = created.id;
  }
  if (history && deploymentId !== undefined) ctx.saveState(DEPLOYMENT_STATE, String(deploymentId));
  reportedTag ??= setDeployTag(ctx, settings, version, deployId, deploymentId !== undefined);
  if (history && deploymentId !== undefined) {
    ctx.setOwnOutput('deployment-id', String(deploymentId));
    await recordStatus(ctx, history, deploymentId, {
      state: 'in_progress',
      description: msg`${own(settings.operation)} of ${version.tag} in progress`,
      logUrl,
      environmentUrl: observation.url,
    });
  }

  const request: DeployRequest = {
    operation: settings.operation,
    deployId,
    deployTag: version.tag,
    image: version.image,
    ...(runId
      ? {
          runLabel: `${env.GITHUB_REPOSITORY ?? 'unknown repository'} run ${runId}${job ? ` job ${job}` : ''}`,
        }
      : {}),
    dryRun: settings.dryRun,
    healthTimeoutMs: settings.healthTimeoutMs,
    autoRollback: settings.autoRollback,
    log: (line) => ctx.info(line),
    signal: ctx.cancellation.signal,
    cleanupSignal: ctx.cancellation.cleanupSignal(),
    ...(version.release ? { release: version.release } : {}),
  };
  let outcome: TargetOutcome;
  try {
    ctx.cancellation.signal.throwIfAborted();
    outcome = await ctx.log.step('target.rollout', { target, deploy_id: deployId }, () =>
      deps.target.run(request),
    );
  } catch (error) {
    ctx.setOwnOutput('status', 'failed');
    if (deps.history && deploymentId !== undefined)
      await recordStatus(ctx, deps.history, deploymentId, {
        state: 'error',
        description: isCancelled(error) ? cancelledNote(undefined) : msg`failed: ${error}`,
        logUrl,
      });
    throw error;
  }
  // A target that stopped on the signal without counting (ssh, heroku) is counted from its units.
  if (!outcome.cancelled && ctx.cancellation.signal.aborted && !settings.dryRun)
    outcome.cancelled = {
      changed: outcome.units.filter((u) => u.outcome === 'updated' || u.outcome === 'rolled-back').length,
      restored: outcome.units.filter((u) => u.outcome === 'rolled-back').length,
    };
  if (outcome.cancelled) {
    await finishCancelled(ctx, settings, outcome, {
      history: deps.history,
      deploymentId,
      logUrl,
      report: {
        deployId,
        deployTag: reportedTag,
        image: version.image,
        previousImage: observation.previousImage,
      },
    });
    return;
  }

  if (settings.dryRun) for (const line of outcome.plan) ctx.info(msg`plan: ${line}`);
  const status: DeployStatus =
    settings.dryRun && outcome.status === 'success'
      ? 'planned'
      : changedNothing(settings, outcome)
        ? 'unchanged'
        : outcome.status;
  if (deps.history && deploymentId !== undefined) {
    const success = outcome.status === 'success';
    const deployed = outcome.release ? releaseNote({ id: outcome.release }) : version.tag;
    await recordStatus(ctx, deps.history, deploymentId, {
      state: success ? 'success' : 'failure',
      description:
        status === 'unchanged'
          ? msg`${own(UNCHANGED_NOTE)} already running ${deployed}`
          : success
            ? msg`deployed ${deployed}`
            : outcome.status === 'rolled-back'
              ? msg`${own(ROLLED_BACK_NOTE)} ${outcome.error ?? own('health check failed')}`
              : msg`failed: ${outcome.error ?? own('unknown error')}`,
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

  ctx.setOwnOutput('status', status);
  if (outcome.url) ctx.setOutput('url', outcome.url);
  if (!observation.previousImage && outcome.previousImage)
    ctx.setOutput('previous-image', outcome.previousImage);
  await writeReport(ctx, {
    operation: settings.operation,
    target,
    environment: settings.environment,
    deployId,
    deployTag: reportedTag,
    image: version.image,
    previousImage: observation.previousImage,
    deploymentId,
    dryRun: settings.dryRun,
    ...(unverified ? { unverified } : {}),
    outcome: { ...outcome, status },
  });
  if (outcome.status !== 'success') {
    const why = outcome.error ?? own('see the job summary');
    throw new StepError(
      'rollout',
      rolloutDoing(settings),
      new ComposedError(outcome.status === 'rolled-back' ? msg`rolled back: ${why}` : msg`${why}`),
    );
  }
  if (status === 'unchanged') {
    ctx.notice(
      msg`rollback to ${reportedTag || version.image || version.source} changed nothing: ${describeIdentity(identity)} already runs it${version.unchangedHint ? msg` (${version.unchangedHint})` : ''}`,
    );
    return;
  }
  if (settings.dryRun) {
    ctx.info(msg`${settings.operation} to ${describeIdentity(identity)}: dry run, nothing changed`);
    return;
  }
  ctx.info(
    msg`${settings.operation} ${reportedTag || version.image || version.source} to ${describeIdentity(identity)}: success`,
  );
}

/**
 * `tag-image: true` PUTs a tag into the image's repository: without push
 * access the deploy would fail halfway, after the target was touched, so
 * push access is learnt first (`RegistryClient.pushAccess`) and its absence is
 * an input error naming `tag-image` and the credentials to give.
 */
async function checkPushAccess(
  settings: DeploySettings,
  ctx: ActionContext,
  deps: DeployDeps,
): Promise<string | undefined> {
  const ref = imageToTag(settings);
  if (!ref) return undefined;
  const access = await ctx.log.step('image.push-access', { repository: ref.repository }, () =>
    deps.registry(ref.registry).pushAccess(ref.repository, { probe: !settings.dryRun }),
  );
  if (access.allowed && access.unverified) {
    const note = `tag-image: push rights to ${ref.registry}/${ref.repository} are not verified by this dry run (${access.how}); the real run checks them before any target is touched and fails there if they are missing`;
    ctx.warning(note);
    return note;
  }
  if (access.allowed) {
    ctx.info(msg`Push access to ${ref.registry}/${ref.repository} for the deploy tag: ${access.how}`);
    return undefined;
  }
  const ghcr =
    ref.registry === GITHUB_REGISTRY
      ? '; with github-token the job needs `permissions: packages: write`, and the package must grant this repository write access'
      : '';
  throw new InputError(
    'tag-image',
    msg`is true, so the deploy tag is pushed to ${ref.registry}/${ref.repository}, but push permission is missing: ${access.missing}. Give registry-username and registry-password of an account that may push there${ghcr}, or set tag-image: false`,
  );
}

/** The image a deploy tags (`tag-image: true`): the one deployed, or rolled back to by reference. */
function imageToTag(settings: DeploySettings): ImageReference | undefined {
  if (!settings.tagImage || settings.target.kind === 'heroku') return undefined;
  if (settings.operation === 'deploy') return settings.image;
  return settings.rollbackTo.kind === 'image' ? settings.rollbackTo.image : undefined;
}

/**
 * The `deploy-tag` output names a tag that exists: one rollback-to named or a recorded deployment
 * carries (it came from outside: a short secret may redact it), or this deploy's own tag where it
 * was made: in the registry (tag-image), in the GitHub deployment (rollback-to finds it), as the
 * Heroku build's version, on the ssh container. A dry run makes none; neither does a Fly deploy or
 * rollback to an image without tag-image and github-token, nor a Heroku promotion or rollback to the
 * release before without github-token (they make a release, not a build). Then it is empty, and a line says why.
 */
function setDeployTag(
  ctx: ActionContext,
  settings: DeployOrRollback,
  version: Version,
  deployId: string,
  recorded: boolean,
): string {
  if (settings.dryRun) {
    ctx.setOwnOutput('deploy-tag', '');
    return '';
  }
  if (version.tag !== deployTagOf(deployId)) {
    ctx.setOutput('deploy-tag', version.tag);
    return version.tag;
  }
  const target = settings.target.kind;
  const made =
    version.tagImage !== undefined ||
    recorded ||
    target === 'ssh' ||
    (settings.target.kind === 'heroku' &&
      settings.operation === 'deploy' &&
      settings.target.source?.kind !== 'promote');
  ctx.setOwnOutput('deploy-tag', made ? version.tag : '');
  if (!made)
    ctx.info(
      target === 'heroku'
        ? msg`deploy-tag is empty: a Heroku ${own(settings.operation === 'deploy' ? 'promotion' : 'rollback')} makes a release, not a build that ${version.tag} could name, and without github-token no GitHub deployment records it`
        : msg`deploy-tag is empty: ${version.tag} was not added to the image (tag-image is false), and without github-token no GitHub deployment records it`,
    );
  return made ? version.tag : '';
}

/** A real rollback whose every unit already ran the version; a dry run changes nothing by design. */
function changedNothing(settings: DeployOrRollback, outcome: TargetOutcome): boolean {
  return (
    settings.operation === 'rollback' &&
    !settings.dryRun &&
    outcome.status === 'success' &&
    outcome.units.length > 0 &&
    outcome.units.every((u) => u.outcome === 'unchanged')
  );
}

/**
 * A cancelled rollout: its final `error` status, its summary and its log line, then a failed step,
 * all before the runner's SIGTERM (RECORD_BUDGET_MS after the signal).
 */
async function finishCancelled(
  ctx: ActionContext,
  settings: DeployOrRollback,
  outcome: TargetOutcome,
  r: {
    history: DeployDeps['history'];
    deploymentId: number | undefined;
    logUrl: string | undefined;
    report: Pick<DeployReport, 'deployId' | 'deployTag' | 'image' | 'previousImage'>;
  },
): Promise<never> {
  const note = cancelledNote(outcome.cancelled);
  if (r.history && r.deploymentId !== undefined)
    await recordStatus(ctx, r.history, r.deploymentId, {
      state: 'error',
      description: note,
      logUrl: r.logUrl,
    });
  ctx.setOwnOutput('status', outcome.status);
  for (const unit of outcome.units)
    ctx.log.write({
      step: 'unit',
      outcome: unit.outcome === 'failed' ? 'failed' : unit.outcome === 'skipped' ? 'skipped' : 'ok',
      ids: { unit: unit.id, batch: unit.batch, result: unit.outcome },
      ...(unit.error ? { detail: unit.error } : {}),
    });
  await writeReport(ctx, {
    operation: settings.operation,
    target: settings.target.kind,
    environment: settings.environment,
    deploymentId: r.deploymentId,
    dryRun: false,
    outcome: { ...outcome, error: note },
    ...r.report,
  });
  throw ctx.cancellation.signal.reason instanceof CancelledError
    ? new CancelledError(ctx.cancellation.signal.reason.signalName, cancelledNote(outcome.cancelled, ''))
    : new StepError('rollout', rolloutDoing(settings), new ComposedError(note));
}

/** The job summary: our wording as written around the report's values, each redacted (core/redacted-data.ts). */
function writeReport(ctx: ActionContext, report: DeployReport): Promise<void> {
  // The deploy id is ours, and so is its tag unless rollback-to named another one: kept wherever
  // they occur (a plan line names the tag).
  const own = [
    report.deployId,
    ...(report.deployTag === deployTagOf(report.deployId) ? [report.deployTag] : []),
  ];
  const redacted = redactedData(report, ctx.secrets.redactor, REPORT_WORDS, own);
  return ctx.writeSummary(renderSummary(redacted), { fromRedactedData: true });
}

/** `deploy to fly (production)`, `roll back heroku (staging)`: what a failed rollout could not do. */
function rolloutDoing(settings: DeployOrRollback): Message {
  const verb = settings.operation === 'rollback' ? 'roll back' : 'deploy to';
  return msg`${own(verb)} ${own(settings.target.kind)} (${settings.environment})`;
}

/**
 * `cancelled: 2 unit(s) changed, 2 sent back to their previous version`: what the record and
 * summary say; `lead` replaces `cancelled: ` (a CancelledError says `cancelled (SIGINT): ` itself).
 */
export function cancelledNote(counts: TargetOutcome['cancelled'], lead = 'cancelled: '): Message {
  if (!counts) return msg`cancelled before any unit was changed`;
  if (counts.changed === 0) return msg`${own(lead)}no unit was changed`;
  const detail = counts.detail ? msg`; ${counts.detail}` : '';
  return msg`${own(lead)}${own(counts.changed)} unit(s) changed, ${own(counts.restored)} sent back to their previous version${detail}`;
}

/**
 * One deployment status. `in_progress` goes under the run's cancellation (a cancel cuts its
 * rate-limit wait at once); a final status is a record of the outcome and goes under the
 * clean-up budget (RECORD_BUDGET_MS after a cancel), so a cancelled or failed run still says so.
 */
async function recordStatus(
  ctx: ActionContext,
  history: NonNullable<DeployDeps['history']>,
  id: number,
  status: Omit<Parameters<GitHubDeployments['setStatus']>[1], 'description'> & { description?: Line },
): Promise<void> {
  const final = status.state !== 'in_progress';
  // GitHub shows the description on the deployment: redacted like everything we write (core/message.ts).
  const { description, ...rest } = status;
  const sent =
    description === undefined
      ? rest
      : { ...rest, description: redactMessage(description, ctx.secrets.redactor) };
  const signal = final ? ctx.cancellation.cleanupSignal(RECORD_BUDGET_MS) : ctx.cancellation.signal;
  await ctx.log
    .step('github.deployment.status', { deployment: id, state: status.state }, () =>
      untilAborted(history.setStatus(id, sent, signal), signal),
    )
    .then(
      () => {
        if (final) ctx.saveState(DEPLOYMENT_STATE, '');
      },
      (error: unknown) =>
        ctx.warning(msg`could not record status ${status.state} on GitHub deployment ${id}: ${error}`),
    );
}

function runUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return undefined;
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  return `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
}

async function resolveVersion(
  settings: DeployOrRollback,
  ctx: ActionContext,
  deps: DeployDeps,
  identity: TargetIdentity,
  ownTag: string,
): Promise<Version> {
  const log = (line: Line) => ctx.info(line);
  const target = settings.target.kind;
  /** Pinned now; tagged later, under the tag this deploy ends up with. */
  const warn = (line: Line) => ctx.warning(line);
  const pin = async (ref: ImageReference, input: string) => {
    const registry = deps.registry(ref.registry);
    const pinned = await pinImage(registry, ref, {
      forTag: settings.tagImage,
      dryRun: settings.dryRun,
      input,
      log,
      warn,
    });
    const tagging = settings.tagImage
      ? {
          tagImage: async (tag: string) => {
            await tagPinned(registry, pinned, tag, { dryRun: settings.dryRun, log });
          },
        }
      : {};
    return { image: pinned.pinned, tagging };
  };
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
    const pinned = await pin(ref, 'image');
    return {
      image: pinned.image,
      tag: ownTag,
      release: undefined,
      source: `image ${pinned.image}`,
      ...pinned.tagging,
    };
  }

  const to = settings.rollbackTo;
  const needHistory = (what: string) => {
    if (!deps.history)
      throw new InputError(
        'rollback-to',
        msg`${what} needs the GitHub deployment history: give a github-token, or an image reference`,
      );
    return deps.history;
  };
  const fromRecord = (r: Recorded, what: string): Version => {
    const tag = typeof r.payload.tag === 'string' ? r.payload.tag : ownTag;
    if (target === 'heroku') {
      if (!r.release)
        throw new StepError(
          'version.resolve',
          msg`find the version to roll back to in ${what}`,
          new Error('the deployment names no Heroku release'),
        );
      return { image: undefined, tag, release: r.release, source: `${what} (release ${r.release})` };
    }
    if (typeof r.payload.image !== 'string')
      throw new StepError(
        'version.resolve',
        msg`find the version to roll back to in ${what}`,
        new Error('the deployment names no image'),
      );
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
    const found = await findPrevious(needHistory('rollback-to previous'), settings.environment, identity);
    const { latest, previous, before } = found;
    const further = before
      ? `to go further back, give rollback-to ${before.deployment.id} (${before.payload.tag ?? 'its deploy tag'})`
      : 'nothing older is recorded';
    if (!previous) {
      if (target === 'heroku')
        return {
          image: undefined,
          tag: ownTag,
          release: undefined,
          source: 'the release before the current one',
        };
      const unnamed =
        found.unidentified > 0
          ? `; ${found.unidentified} deployment(s) of this environment were recorded without naming their target and are not considered: give rollback-to an image reference`
          : '';
      throw new StepError(
        'version.resolve',
        msg`find the previous version of ${describeIdentity(identity)} in environment ${settings.environment}`,
        new Error(
          !latest
            ? `no deployment of ${describeIdentity(identity)} is recorded${unnamed}`
            : latest.succeeded
              ? `only one version of ${describeIdentity(identity)} is recorded (GitHub deployment ${latest.deployment.id}); there is nothing before it${unnamed}`
              : `the latest deploy of ${describeIdentity(identity)} (GitHub deployment ${latest.deployment.id}) did not succeed, and no successful deployment before it is recorded${unnamed}`,
        ),
      );
    }
    const version = fromRecord(previous, `GitHub deployment ${previous.deployment.id}`);
    if (latest && !latest.succeeded) {
      const how = latest.rolledBack
        ? 'failed and was rolled back'
        : latest.latestState === undefined
          ? 'has no status (it was cut off before it began)'
          : ['in_progress', 'queued', 'pending'].includes(latest.latestState)
            ? `is still ${latest.latestState} (or its run was killed)`
            : `ended with ${latest.latestState}`;
      ctx.info(
        msg`The latest deploy of ${describeIdentity(identity)}, GitHub deployment ${latest.deployment.id} (${latest.payload.tag ?? own('?')}), ${how}: previous is the version that ran before it.`,
      );
      version.unchangedHint = `the latest deploy, GitHub deployment ${latest.deployment.id}, ${how}; ${further}`;
    } else {
      version.unchangedHint = further;
    }
    return version;
  }
  if (to.kind === 'deployment') {
    const r = await findById(needHistory('a deployment id'), to.id, identity);
    return fromRecord(r, `GitHub deployment ${to.id}`);
  }
  if (to.kind === 'tag') {
    const r = await findByTag(
      needHistory(`a deploy tag (${to.tag})`),
      settings.environment,
      identity,
      to.tag,
    );
    return fromRecord(r, `GitHub deployment ${r.deployment.id}`);
  }
  if (target === 'heroku')
    throw new InputError(
      'rollback-to',
      msg`cannot be an image reference for heroku: give previous, a deployment id or a deploy_ tag`,
    );
  const pinned = await pin(to.image, 'rollback-to');
  return {
    image: pinned.image,
    tag: ownTag,
    release: undefined,
    source: to.raw === pinned.image ? `image ${pinned.image}` : `image ${to.raw}: ${pinned.image}`,
    ...pinned.tagging,
  };
}
