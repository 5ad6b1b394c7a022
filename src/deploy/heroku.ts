import { StepError } from '../core/errors.ts';
import { abortableSleep } from '../core/http.ts';
import { ComposedError, composedOf, lineText, type Message, msg, own } from '../core/message.ts';
import { Progress } from '../core/progress.ts';
import type { Redactor } from '../core/redact.ts';
import type { HerokuApps } from '../providers/heroku/apps.ts';
import { type HerokuBuildInfo, type HerokuBuilds, streamLines } from '../providers/heroku/builds.ts';
import type { HerokuPipelineCouplings } from '../providers/heroku/pipelines.ts';
import type { HerokuPromotions } from '../providers/heroku/promotions.ts';
import type { HerokuReleaseInfo, HerokuReleases } from '../providers/heroku/releases.ts';
import type { HerokuReleaseActions } from '../providers/heroku/rollbacks.ts';
import type { HerokuDeploySettings } from './inputs.ts';
import type { DeployRequest, DeployTarget, TargetObservation, TargetOutcome, UnitResult } from './target.ts';

/**
 * A Heroku app as a deploy target: a build from `source-url` (its output
 * streamed line by line), a pipeline promotion from `promote-from`, or a
 * rollback to a release. One unit: the app.
 */

export interface HerokuTargetDeps {
  apps: Pick<HerokuApps, 'get'>;
  builds: HerokuBuilds;
  releases: Pick<HerokuReleases, 'latest' | 'current'>;
  releaseActions: HerokuReleaseActions;
  couplings: Pick<HerokuPipelineCouplings, 'findByApp'>;
  promotions: Pick<HerokuPromotions, 'create' | 'targets'>;
  pollMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  streamLines?: typeof streamLines;
  /** Redacts the build output as it streams, across chunk and line boundaries. */
  redactor?: Redactor;
  /** How long the output stream may go on once the build is over (a stream that hangs is cut). */
  streamGraceMs?: number;
  /** A dry-run build or promotion plans without reading the app: nothing is sent at all. */
  skipObserve?: boolean;
}

export function releaseLabel(r: HerokuReleaseInfo | undefined): string | undefined {
  return r ? `release v${r.version}` : undefined;
}

/**
 * The release a `previous` rollback goes to: the newest one before the current that
 * Heroku marks `eligible_for_rollback` and that carries a slug, as the Heroku CLI
 * picks it (heroku/cli src/lib/releases/releases.ts, findByPreviousOrId).
 */
export function releaseBefore(releases: HerokuReleaseInfo[], current: HerokuReleaseInfo | undefined) {
  return releases
    .filter((r) => r.eligibleForRollback && r.slugId && (!current || r.version < current.version))
    .sort((a, b) => b.version - a.version)[0];
}

export function createHerokuTarget(settings: HerokuDeploySettings, deps: HerokuTargetDeps): DeployTarget {
  const sleep = deps.sleep ?? abortableSleep;
  const pollMs = deps.pollMs ?? 1000;
  const stream = deps.streamLines ?? streamLines;
  let observed: Promise<{ current: HerokuReleaseInfo | undefined; webUrl: string }> | undefined;

  const look = () => {
    if (deps.skipObserve) observed ??= Promise.resolve({ current: undefined, webUrl: '' });
    observed ??= Promise.all([deps.apps.get(settings.app), deps.releases.current(settings.app)])
      .then(([app, current]) => ({ current, webUrl: app.webUrl }))
      .catch((error: unknown) => {
        throw new StepError(
          'heroku.observe',
          msg`read Heroku app ${settings.app} and its current release`,
          error,
        );
      });
    return observed;
  };

  async function observe(): Promise<TargetObservation> {
    const { current, webUrl } = await look();
    return { previousImage: releaseLabel(current), url: webUrl || undefined };
  }

  async function run(request: DeployRequest): Promise<TargetOutcome> {
    const { current, webUrl } = await look();
    const t0 = performance.now();
    const unit: UnitResult = {
      id: settings.app,
      previousImage: releaseLabel(current),
      outcome: 'planned',
      batch: 1,
      startedMs: 0,
      endedMs: 0,
    };
    const plan = describe(request);
    const base = { previousImage: releaseLabel(current), url: webUrl || undefined, plan };
    if (request.dryRun) return { ...base, status: 'success', units: [unit] };
    const progress = new Progress(1, request.log);
    const finish = (outcome: TargetOutcome): TargetOutcome => {
      unit.endedMs = performance.now() - t0;
      progress.done({
        id: unit.id,
        outcome: unit.outcome,
        status: unit.newImage,
        ms: unit.endedMs,
        note: lineText(unit.error),
      });
      return outcome;
    };
    if (request.operation === 'rollback' && current && request.release === current.id) {
      unit.outcome = 'unchanged';
      unit.newImage = releaseLabel(current);
      request.log(msg`${settings.app} already runs release v${current.version}; nothing to roll back`);
      return finish({ ...base, status: 'success', units: [unit], release: current.id });
    }
    try {
      const release =
        request.operation === 'rollback'
          ? await rollback(request)
          : settings.source?.kind === 'promote'
            ? await promote(settings.source.from, request)
            : await build(request);
      unit.outcome = 'updated';
      unit.health = 'passing';
      unit.newImage = releaseLabel(release);
      return finish({ ...base, status: 'success', units: [unit], release: release.id });
    } catch (error) {
      unit.outcome = 'failed';
      unit.health = 'failing';
      unit.error = composedOf(error);
      return finish({ ...base, status: 'failed', units: [unit], error: unit.error });
    }
  }

  function describe(request: DeployRequest): Message[] {
    const app = settings.app;
    if (request.operation === 'rollback')
      return [
        msg`POST /apps/${app}/releases {release: ${request.release ?? own('the release before the current one')}}`,
      ];
    if (settings.source?.kind === 'promote')
      return [
        msg`promote ${settings.source.from} -> ${app}: POST /pipeline-promotions`,
        msg`wait for the promotion target to succeed`,
      ];
    return [
      msg`POST /apps/${app}/builds {source_blob.url: ${settings.source?.url ?? own('?')}, version: ${request.deployTag}} unless a build of ${request.deployTag} is already under way`,
      msg`stream the build output, wait for the build and its release`,
    ];
  }

  async function build(request: DeployRequest): Promise<HerokuReleaseInfo> {
    const source = settings.source;
    if (source?.kind !== 'url') throw new Error('source-url is required to build');
    const created = await startBuild(source.url, request);
    let streamed: Promise<void> = Promise.resolve();
    const cut = new AbortController();
    if (created.outputStreamUrl) {
      streamed = stream(created.outputStreamUrl, (line) => request.log(msg`  ${line}`), {
        signal: request.signal ? AbortSignal.any([request.signal, cut.signal]) : cut.signal,
        redactor: deps.redactor,
      }).catch((error: unknown) =>
        request.log(
          msg`warning: build output stream ended early: ${cut.signal.aborted ? msg`no more output ${own(deps.streamGraceMs ?? 5000)} ms after the build ended` : error}`,
        ),
      );
    }
    const deadline = performance.now() + request.healthTimeoutMs + 30 * 60_000;
    let done = created;
    try {
      while (done.status === 'pending') {
        if (performance.now() > deadline) throw new ComposedError(msg`build ${created.id} still pending`);
        await sleep(pollMs, request.signal);
        done = await deps.builds.get(settings.app, created.id);
      }
    } catch (error) {
      if (request.signal?.aborted) await cancelBuild(created.id, request);
      throw error;
    }
    // The build's outcome comes from the API; a stream that never ends must not hold the deploy.
    const grace = setTimeout(() => cut.abort(), deps.streamGraceMs ?? 5000);
    await streamed;
    clearTimeout(grace);
    if (done.status !== 'succeeded') throw new ComposedError(msg`build ${created.id} ${done.status}`);
    if (!done.releaseId) throw new ComposedError(msg`build ${created.id} succeeded without a release`);
    return waitRelease(done.releaseId, request);
  }

  /**
   * A cancelled step cancels its build, so no release lands after the step said it stopped; a
   * build that cannot be cancelled in the runner's grace is named in the log.
   */
  async function cancelBuild(id: string, request: DeployRequest): Promise<void> {
    try {
      const after = await deps.builds.cancel(settings.app, id, request.cleanupSignal);
      request.log(msg`Cancelled: build ${id} cancelled (now ${after.status}); the app keeps its release`);
    } catch (error) {
      request.log(msg`warning: could not cancel build ${id}: ${error}`);
    }
  }

  /**
   * The build POST is never sent twice: its answer may be lost after Heroku started the build.
   * Each build carries the deploy tag as `source_blob.version`, and a re-run (which continues
   * the earlier attempt's deploy, tag included) first looks for it among the app's newest builds:
   * one still running or succeeded is followed instead of building again; a failed one is not.
   */
  async function startBuild(url: string, request: DeployRequest): Promise<HerokuBuildInfo> {
    const mine = (await deps.builds.recent(settings.app)).find((b) => b.version === request.deployTag);
    if (mine && mine.status !== 'failed') {
      request.log(
        msg`build ${mine.id} of ${request.deployTag} was started by an earlier attempt: following it`,
      );
      return mine;
    }
    const created = await deps.builds.create(settings.app, { url, version: request.deployTag });
    request.log(msg`build ${created.id} started`);
    return created;
  }

  async function promote(from: string, request: DeployRequest): Promise<HerokuReleaseInfo> {
    const [source, target] = await Promise.all([
      deps.couplings.findByApp(from),
      deps.couplings.findByApp(settings.app),
    ]);
    if (!source) throw new ComposedError(msg`app ${from} is in no pipeline`);
    if (!target || target.pipelineId !== source.pipelineId)
      throw new ComposedError(msg`app ${settings.app} is not in the pipeline of ${from}`);
    const promotion = await deps.promotions.create({
      pipelineId: source.pipelineId,
      sourceAppId: source.appId,
      targetAppIds: [target.appId],
    });
    request.log(msg`promotion ${promotion.id} from ${from} started`);
    const deadline = performance.now() + request.healthTimeoutMs;
    for (;;) {
      const mine = (await deps.promotions.targets(promotion.id)).find((t) => t.appId === target.appId);
      if (mine && mine.status === 'succeeded' && mine.releaseId) return waitRelease(mine.releaseId, request);
      if (mine && mine.status === 'failed')
        throw new ComposedError(
          msg`promotion to ${settings.app} failed: ${mine.errorMessage ?? own('no reason given')}`,
        );
      if (performance.now() > deadline) throw new ComposedError(msg`promotion ${promotion.id} still pending`);
      await sleep(pollMs, request.signal);
    }
  }

  async function rollback(request: DeployRequest): Promise<HerokuReleaseInfo> {
    let releaseId = request.release;
    if (!releaseId) {
      const { current } = await look();
      const before = releaseBefore(await deps.releases.latest(settings.app, 50), current);
      if (!before) throw new ComposedError(msg`app ${settings.app} has no earlier release to roll back to`);
      releaseId = before.id;
    }
    const made = await deps.releaseActions.rollback(settings.app, releaseId);
    request.log(msg`rollback release v${made.version} created`);
    return waitRelease(made.id, request);
  }

  /** A release with a release phase stays `pending` until that phase finishes. */
  async function waitRelease(id: string, request: DeployRequest): Promise<HerokuReleaseInfo> {
    const deadline = performance.now() + request.healthTimeoutMs;
    for (;;) {
      const release = await deps.releaseActions.get(settings.app, id);
      if (!release) throw new ComposedError(msg`release ${id} not found`);
      if (release.status === 'succeeded') return release;
      if (release.status === 'failed' || release.status === 'expired')
        throw new ComposedError(msg`release v${release.version} ${release.status}`);
      if (performance.now() > deadline)
        throw new ComposedError(msg`release v${release.version} still ${release.status}`);
      await sleep(pollMs, request.signal);
    }
  }

  return { observe, run };
}
