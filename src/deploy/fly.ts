import { ApiError, StepError } from '../core/errors.ts';
import { mapConcurrent } from '../core/fanout.ts';
import { abortableSleep } from '../core/http.ts';
import {
  ComposedError,
  composedOf,
  joinMessages,
  type Line,
  lineText,
  type Message,
  msg,
  own,
} from '../core/message.ts';
import { Progress } from '../core/progress.ts';
import { formatMs } from '../core/summary.ts';
import type { Lease, LeasesApi } from '../providers/fly/leases.ts';
import type {
  FlyMachine,
  MachineLifecycleApi,
  MachinesApi,
  MachineUpdateApi,
  MachineView,
} from '../providers/fly/machines.ts';
import { runBlueGreen } from './fly-bluegreen.ts';
import type { GreenLeftovers } from './fly-green-state.ts';
import { healthOf } from './fly-health.ts';
import type { FlyLeaseIntent } from './fly-lease-state.ts';
import {
  launchesOnUpdate,
  processGroupOf,
  rolloutOrder,
  runsImage,
  selectMachines,
  TRANSITIONAL_STATES,
} from './fly-machines.ts';
import { updateBody } from './fly-update.ts';
import type { FlyDeploySettings } from './inputs.ts';
import { batchSizes, describeBlueGreen, describeFlyRollout, type PlannedUnit, splitBatches } from './plan.ts';
import type { DeployRequest, DeployTarget, TargetObservation, TargetOutcome, UnitResult } from './target.ts';

/**
 * Fly Machines as a deploy target, as flyctl deploys existing machines: the
 * app's active platform machines (fly-machines.ts), leased; each gets its full
 * config back with the image changed (fly-update.ts), is launched only when it
 * was running, and is healthy once every check its config defines passes
 * (fly-health.ts); batch by batch. Leases are released on every path; a failed
 * health wait with auto-rollback puts the previous image back on every machine
 * that was changed.
 */

export interface FlyTargetDeps {
  machines: Pick<MachinesApi, 'list'>;
  updates: MachineUpdateApi;
  leases: LeasesApi;
  /** Create, destroy, cordon and uncordon: needed by `strategy: bluegreen` only. */
  lifecycle?: MachineLifecycleApi;
  /** Between polls of a machine's checks; grows from `min` to `max`. */
  checkPollMs?: { min: number; max: number };
  leaseTtlSeconds?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Told which machines are about to be leased before the first lease is asked for, and
   * `undefined` once every lease is released: the main step saves it as state, so the post step
   * can release what a killed step still held (fly-lease-state.ts).
   */
  onLeases?: (intent: FlyLeaseIntent | undefined) => void;
  /** Told the green machines of a blue-green deploy that traffic has not moved to (fly-green-state.ts). */
  onGreen?: (state: GreenLeftovers) => void;
}

interface Changed {
  machine: FlyMachine;
  previousImage: string;
  unit: UnitResult;
}

export function createFlyTarget(settings: FlyDeploySettings, deps: FlyTargetDeps): DeployTarget {
  const sleep = deps.sleep ?? abortableSleep;
  // Polls of one machine start 250 ms apart, under Fly's documented Get Machine rate of 5 a
  // second (providers/fly/rate-limit.ts), and slow down from there.
  const poll = deps.checkPollMs ?? { min: 250, max: 2000 };
  const ttl = deps.leaseTtlSeconds ?? 120;
  let observed: Promise<FlyMachine[]> | undefined;

  const observeMachines = () => {
    // The group is matched here, not by the list's metadata filter, so machines that still carry
    // the older `process_group` key are found too.
    observed ??= deps.machines
      .list()
      .then((list) => selectMachines(list, settings.processGroup).deploy)
      .catch((error: unknown) => {
        throw new StepError('fly.observe', msg`list the machines of Fly app ${settings.app}`, error);
      });
    return observed;
  };

  async function observe(): Promise<TargetObservation> {
    const machines = await observeMachines();
    return { previousImage: machines[0]?.config?.image, url: `https://${settings.app}.fly.dev` };
  }

  async function run(request: DeployRequest): Promise<TargetOutcome> {
    const image = request.image;
    if (!image)
      throw new StepError(
        'fly.plan',
        msg`deploy to Fly app ${settings.app}`,
        new Error('no image to deploy'),
      );
    const machines = await observeMachines();
    if (machines.length === 0) {
      const group = settings.processGroup ? msg` in process group ${settings.processGroup}` : '';
      throw new StepError(
        'fly.observe',
        msg`deploy to Fly app ${settings.app}`,
        new ComposedError(msg`no machines${group} to deploy to`),
      );
    }
    const toChange = rolloutOrder(
      machines.filter((m) => !runsImage(m, image)),
      settings.strategy,
    );
    const unchanged = machines.filter((m) => runsImage(m, image));
    const batches = splitBatches(
      toChange,
      batchSizes(toChange.length, settings.strategy, settings.maxUnavailable),
    );
    const planned = (m: FlyMachine): PlannedUnit => ({
      id: m.id,
      where: m.region,
      from: m.config?.image,
      ...(launchesOnUpdate(m.state) ? {} : { notStarted: m.state }),
    });
    const plan =
      settings.strategy === 'bluegreen'
        ? describeBlueGreen({
            app: settings.app,
            image,
            blue: toChange.map(planned),
            unchanged: unchanged.map(planned),
          })
        : describeFlyRollout({
            app: settings.app,
            image,
            strategy: settings.strategy,
            batches: batches.map((b) => b.map(planned)),
            unchanged: unchanged.map(planned),
            healthWait: settings.strategy !== 'immediate',
          });
    const base = {
      previousImage: machines[0]?.config?.image,
      url: `https://${settings.app}.fly.dev`,
      plan,
    };
    const unchangedUnits: UnitResult[] = unchanged.map((m) => ({
      id: m.id,
      where: m.region,
      previousImage: m.config?.image,
      newImage: image,
      outcome: 'unchanged',
      health: 'skipped',
      batch: 0,
      startedMs: 0,
      endedMs: 0,
    }));
    if (request.dryRun) {
      const units = batches.flatMap((batch, i) =>
        batch.map(
          (m): UnitResult => ({
            id: m.id,
            where: m.region,
            previousImage: m.config?.image,
            newImage: image,
            outcome: 'planned',
            batch: i + 1,
            startedMs: 0,
            endedMs: 0,
          }),
        ),
      );
      return { ...base, status: 'success', units: [...units, ...unchangedUnits] };
    }
    if (toChange.length === 0) return { ...base, status: 'success', units: unchangedUnits };

    const t0 = performance.now();
    const since = () => performance.now() - t0;
    if (settings.strategy === 'bluegreen') {
      const lifecycle = deps.lifecycle;
      if (!lifecycle)
        throw new StepError(
          'fly.plan',
          msg`app ${settings.app}`,
          new Error('bluegreen needs the machine lifecycle calls'),
        );
      const result = await runBlueGreen(
        toChange,
        image,
        request,
        {
          lifecycle,
          read: (id) => deps.updates.get(id),
          acquire: async (blue) => {
            deps.onLeases?.({
              app: settings.app,
              description: leaseDescription(request),
              machines: blue.map((m) => m.id),
            });
            return acquireLeases(blue, request);
          },
          release: async (leases) => {
            await releaseLeases(leases, request);
            if (leases.size === 0) deps.onLeases?.(undefined);
          },
          waitSettled,
          waitHealthy,
          ...(deps.onGreen
            ? {
                onGreen: (ids: string[]) =>
                  deps.onGreen?.({ app: settings.app, machines: ids, blue: toChange.map((m) => m.id) }),
              }
            : {}),
          minSecretsVersion: settings.minSecretsVersion,
          since,
        },
        processGroupOf,
      );
      return { ...base, ...result, units: [...result.units, ...unchangedUnits] };
    }
    deps.onLeases?.({
      app: settings.app,
      description: leaseDescription(request),
      machines: toChange.map((m) => m.id),
    });
    const leases = await acquireLeases(toChange, request);
    // Under our leases nobody else changes these machines: every full config is read once, all
    // at once, and each machine's update waits only for its own read.
    const configs = new Map(
      toChange.map((m) => {
        const read = deps.updates.get(m.id).catch((error: unknown) => {
          throw new StepError('fly.read', msg`read the config of machine ${m.id}`, error);
        });
        read.catch(() => undefined);
        return [m.id, read] as const;
      }),
    );
    const refresher = setInterval(
      () => {
        for (const [id, lease] of leases) {
          deps.leases.refresh(lease, ttl).then(
            (fresh) => leases.set(id, fresh),
            (error: unknown) => request.log(msg`warning: could not refresh the lease of ${id}: ${error}`),
          );
        }
      },
      Math.max(1000, (ttl * 1000) / 3),
    );
    refresher.unref();
    const progress = new Progress(toChange.length, request.log);
    const changed: Changed[] = [];
    const units: UnitResult[] = [];
    let failure: Line | undefined;
    try {
      for (const [index, batch] of batches.entries()) {
        if (failure || request.signal?.aborted) {
          for (const m of batch) units.push(skippedUnit(m, image, index + 1, since()));
          continue;
        }
        const results = await mapConcurrent(
          batch,
          async (machine) => {
            const unit = await rollOne(
              machine,
              configs.get(machine.id)!,
              image,
              index + 1,
              request,
              leases,
              since,
              changed,
            );
            progress.done({
              id: unit.id,
              where: unit.where,
              outcome: unit.outcome,
              status: unit.health,
              ms: unit.endedMs - unit.startedMs,
              note: lineText(unit.error ?? unit.note),
            });
            return unit;
          },
          { concurrency: batch.length },
        );
        units.push(...results);
        const failed = results.filter((u) => u.outcome === 'failed');
        if (failed.length > 0)
          failure = joinMessages(
            failed.map((u) => msg`${u.id}: ${u.error}`),
            '; ',
          );
      }
      const cancelled = request.signal?.aborted === true;
      if (cancelled) {
        // Only what was already changed is touched: the rollback is sent, not waited for, and
        // the leases are released, all within the runner's grace before SIGTERM.
        if (request.autoRollback && changed.length > 0)
          request.log(
            msg`Cancelled: sending ${changed.length} changed machine(s) back to their previous image, not waiting for them`,
          );
        else
          request.log(
            msg`Cancelled: ${changed.length} machine(s) were changed; no further machine is started`,
          );
      }
      if ((failure || cancelled) && request.autoRollback && changed.length > 0) {
        if (!cancelled)
          request.log(msg`Rolling back ${changed.length} changed machine(s) to their previous image`);
        await mapConcurrent(changed, (c) => restore(c, request, leases, since), {
          concurrency: changed.length,
        });
        const restored = changed.filter((c) => c.unit.outcome === 'rolled-back').length;
        return {
          ...base,
          status: restored === changed.length ? 'rolled-back' : 'failed',
          units: [...units, ...unchangedUnits],
          error: cancelled ? own('cancelled') : failure,
          ...(cancelled ? { cancelled: { changed: changed.length, restored } } : {}),
        };
      }
      if (cancelled)
        return {
          ...base,
          status: 'failed',
          units: [...units, ...unchangedUnits],
          error: own('cancelled'),
          cancelled: { changed: changed.length, restored: 0 },
        };
    } finally {
      clearInterval(refresher);
      await releaseLeases(leases, request);
      if (leases.size === 0) deps.onLeases?.(undefined);
    }
    return failure
      ? { ...base, status: 'failed', units: [...units, ...unchangedUnits], error: failure }
      : { ...base, status: 'success', units: [...units, ...unchangedUnits] };
  }

  async function acquireLeases(machines: FlyMachine[], request: DeployRequest): Promise<Map<string, Lease>> {
    const held = new Map<string, Lease>();
    const errors: Message[] = [];
    await mapConcurrent(
      machines,
      async (m) => {
        try {
          held.set(
            m.id,
            await deps.leases.acquire(m.id, {
              ttlSeconds: ttl,
              description: leaseDescription(request),
            }),
          );
        } catch (error) {
          errors.push(msg`${m.id}: ${error}`);
        }
      },
      { concurrency: 32 },
    );
    if (errors.length > 0) {
      await releaseLeases(held, request);
      if (held.size === 0) deps.onLeases?.(undefined);
      throw new StepError(
        'fly.lease',
        msg`take the leases on the machines of Fly app ${settings.app}`,
        new ComposedError(joinMessages(errors, '; ')),
      );
    }
    return held;
  }

  async function releaseLeases(leases: Map<string, Lease>, request: DeployRequest): Promise<void> {
    await mapConcurrent(
      [...leases.values()],
      async (lease) => {
        try {
          await deps.leases.release(lease, request.cleanupSignal);
          leases.delete(lease.machineId);
        } catch (error) {
          request.log(
            msg`warning: could not release the lease of ${lease.machineId} (it expires on its own): ${error}`,
          );
        }
      },
      { concurrency: 32 },
    );
  }

  async function rollOne(
    listed: FlyMachine,
    read: Promise<MachineView>,
    image: string,
    batch: number,
    request: DeployRequest,
    leases: Map<string, Lease>,
    since: () => number,
    changed: Changed[],
  ): Promise<UnitResult> {
    const startedMs = since();
    const machine = listed;
    const unit: UnitResult = {
      id: machine.id,
      where: machine.region,
      previousImage: machine.config?.image,
      newImage: image,
      outcome: 'updated',
      batch,
      startedMs,
      endedMs: startedMs,
    };
    const deadline = performance.now() + request.healthTimeoutMs;
    let previousImage: string | undefined;
    try {
      const current = await read;
      previousImage = String(current.config?.image ?? machine.config?.image ?? '');
      unit.previousImage = previousImage;
      const nonce = leases.get(machine.id)!.nonce;
      // Running (or meant to run) when listed or now: the new version is launched, as flyctl does.
      const launch = launchesOnUpdate(machine.state) || launchesOnUpdate(current.state);
      // A machine on its way to stopped or suspended cannot be launched by the update: it gets
      // the config without launching and is started under our lease once the transition is over.
      const startAfter = launch && TRANSITIONAL_STATES.has(current.state);
      const updated = await deps.updates
        .update(machine.id, {
          ...updateBody(current, image, {
            launch: launch && !startAfter,
            minSecretsVersion: settings.minSecretsVersion,
          }),
          nonce,
        })
        .catch(async (error: unknown) => {
          if (previousImage !== undefined && outcomeUnknown(error))
            await noteUnansweredUpdate(machine, image, previousImage, unit, changed, request);
          throw error;
        });
      changed.push({ machine, previousImage, unit });
      if (!launch) {
        unit.health = 'skipped';
        unit.note = msg`was ${current.state}: updated without starting, not health-checked`;
      } else if (settings.strategy === 'immediate') {
        unit.health = 'skipped';
        if (startAfter) await startUnderLease(machine.id, nonce, deadline, request.signal);
      } else {
        const version = versionOf(updated);
        if (startAfter) await startUnderLease(machine.id, nonce, deadline, request.signal);
        await waitRunning(machine.id, version, nonce, deadline, request.signal);
        await waitHealthy(machine.id, deadline, request.signal);
        unit.health = 'passing';
      }
    } catch (error) {
      unit.outcome = 'failed';
      unit.health = error instanceof HealthTimeout ? 'failing' : unit.health;
      unit.error = request.signal?.aborted ? own('cancelled before it was healthy') : composedOf(error);
    }
    unit.endedMs = since();
    return unit;
  }

  /**
   * An update whose answer never came (timeout, dropped connection, 5xx) may have been applied:
   * the machine is read again, and if it runs the new image it counts as changed, so an
   * auto-rollback puts it back too instead of leaving it half-deployed.
   */
  async function noteUnansweredUpdate(
    machine: FlyMachine,
    image: string,
    previousImage: string,
    unit: UnitResult,
    changed: Changed[],
    request: DeployRequest,
  ): Promise<void> {
    try {
      const now = await deps.updates.get(machine.id);
      if (now.config?.image !== image) return;
      changed.push({ machine, previousImage, unit });
      request.log(msg`${machine.id}: the update's answer was lost, but the machine runs the new image`);
    } catch (error) {
      request.log(msg`warning: could not read ${machine.id} after its update failed: ${error}`);
    }
  }

  /** Sends the previous image back; after a cancellation it does not wait for it to start. */
  async function restore(
    c: Changed,
    request: DeployRequest,
    leases: Map<string, Lease>,
    since: () => number,
  ): Promise<void> {
    const started = since();
    const cancelled = request.signal?.aborted === true;
    const signal = cancelled ? request.cleanupSignal : undefined;
    try {
      const current = await deps.updates.get(c.machine.id, signal);
      const nonce = leases.get(c.machine.id)!.nonce;
      const launch = launchesOnUpdate(c.machine.state) || launchesOnUpdate(current.state);
      const updated = await deps.updates.update(c.machine.id, {
        ...updateBody(current, c.previousImage, { launch, minSecretsVersion: settings.minSecretsVersion }),
        nonce,
        ...(signal ? { signal } : {}),
      });
      if (!cancelled && launch) {
        await waitRunning(
          c.machine.id,
          versionOf(updated),
          nonce,
          performance.now() + request.healthTimeoutMs,
          request.signal,
        );
      }
      c.unit.outcome = 'rolled-back';
      c.unit.newImage = c.previousImage;
      request.log(
        msg`${c.machine.id} ${cancelled ? own('sent back') : own('rolled back')} to ${c.previousImage} in ${formatMs(since() - started)}`,
      );
    } catch (error) {
      c.unit.outcome = 'failed';
      c.unit.error = msg`${c.unit.error ? msg`${c.unit.error}; ` : ''}rollback failed: ${error}`;
      request.log(msg`${c.machine.id} could not be rolled back: ${error}`);
    }
    c.unit.endedMs = since();
  }

  /**
   * POST /start under our lease. 412 means the machine is in a state it cannot start from (a
   * transition such as stopping): asked again until the deadline, then reported with the
   * platform's reason.
   */
  async function startUnderLease(
    id: string,
    nonce: string,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    let delay = poll.min;
    for (;;) {
      const answer = await deps.updates.start(id, nonce);
      if (answer.refused === undefined) return;
      const left = deadline - performance.now();
      if (left <= 0)
        throw new HealthTimeout(
          `could not be started within the health timeout: the Machines API kept refusing the start with 412 (${answer.refused})`,
        );
      await sleep(Math.min(delay, left), signal);
      delay = Math.min(poll.max, Math.round(delay * 1.5));
    }
  }

  /**
   * Waits until the new version settles (flyctl internal/machine/update.go waits for `settled`
   * and fails on `failed`). A version that settles stopped or suspended is started under our
   * lease, then waited for again; `replaced` means someone else changed the machine meanwhile.
   */
  async function waitRunning(
    id: string,
    version: string,
    nonce: string,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    let startedOnce = false;
    for (;;) {
      const state = await waitSettled(id, version, deadline, signal);
      if (state === 'started') return;
      if (state === 'failed')
        throw new ComposedError(msg`version ${version} failed to start (machine state failed)`);
      if (state === 'replaced' || state === 'destroyed')
        throw new ComposedError(
          msg`version ${version} was ${state} by another change while this deploy held the lease`,
        );
      if (startedOnce)
        throw new ComposedError(
          msg`version ${version} stopped again after it was started (machine state ${state})`,
        );
      startedOnce = true;
      await startUnderLease(id, nonce, deadline, signal);
    }
  }

  /**
   * Waits until version `version` of `id` settles (flyctl internal/machine/update.go waits for
   * `settled`) and returns where: started, stopped, suspended, failed, or replaced/destroyed when
   * another change overtook it. Any other answer is not settled yet and is asked again; at the
   * deadline it throws, naming the state the machine is in.
   */
  async function waitSettled(
    id: string,
    version: string,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) {
        const now = await deps.updates.get(id).catch(() => undefined);
        throw new HealthTimeout(
          `version ${version} of ${id} did not start within the health timeout${now ? ` (machine is ${now.state})` : ''}`,
        );
      }
      const answer = await deps.updates.waitFor(id, {
        version,
        state: 'settled',
        timeoutSeconds: left / 1000,
        ...(signal ? { signal } : {}),
      });
      if (!answer.reached) continue;
      const state = answer.state ?? (await deps.updates.get(id)).state;
      if (SETTLED.has(state)) return state;
      await sleep(Math.min(poll.min, Math.max(0, deadline - performance.now())), signal);
    }
  }

  async function waitHealthy(id: string, deadline: number, signal: AbortSignal | undefined): Promise<string> {
    let delay = poll.min;
    for (;;) {
      const verdict = healthOf(await deps.updates.get(id));
      if (verdict.healthy) return verdict.summary;
      const left = deadline - performance.now();
      if (left <= 0)
        throw new HealthTimeout(`checks not passing within the health timeout: ${verdict.summary}`);
      await sleep(Math.min(delay, left), signal);
      delay = Math.min(poll.max, Math.round(delay * 1.5));
    }
  }

  return { observe, run };
}

class HealthTimeout extends Error {}

/** Where a version ends up (fly.io/docs/machines/machine-states); `replaced`/`destroyed`: overtaken. */
const SETTLED = new Set(['started', 'stopped', 'suspended', 'failed', 'replaced', 'destroyed']);

/** The version an update created: `version`, or the deprecated `instance_id` it equals. */
function versionOf(machine: MachineView): string {
  return machine.version ?? machine.instance_id;
}

/** No answer, or a server error: the request may or may not have been carried out. */
function outcomeUnknown(error: unknown): boolean {
  return error instanceof ApiError && (error.status === undefined || error.status >= 500);
}

/**
 * What our leases say: the workflow run (the same in every attempt), so a lease whose answer was
 * lost — in this attempt, or in an earlier one of the run that failed — is adopted, not waited out.
 */
export function leaseDescription(request: Pick<DeployRequest, 'runLabel' | 'deployId'>): string {
  return `ops-actions deploy ${request.runLabel ?? request.deployId}`;
}

function skippedUnit(m: FlyMachine, image: string, batch: number, at: number): UnitResult {
  return {
    id: m.id,
    where: m.region,
    previousImage: m.config?.image,
    newImage: image,
    outcome: 'skipped',
    batch,
    startedMs: at,
    endedMs: at,
  };
}
