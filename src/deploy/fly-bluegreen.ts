import { mapConcurrent } from '../core/fanout.ts';
import {
  ComposedError,
  composedOf,
  joinMessages,
  type Line,
  type Message,
  msg,
  own,
} from '../core/message.ts';
import type { Lease } from '../providers/fly/leases.ts';
import type { FlyMachine, MachineLifecycleApi, MachineView } from '../providers/fly/machines.ts';
import { definedCheckCount } from './fly-health.ts';
import { launchesOnUpdate } from './fly-machines.ts';
import { updateBody } from './fly-update.ts';
import type { DeployRequest, UnitResult } from './target.ts';

/**
 * `strategy: bluegreen` on Fly Machines, as flyctl runs it
 * (internal/command/deploy/strategy_bluegreen.go `Deploy`):
 *
 * 1. every blue machine is leased (and stays leased until the end);
 * 2. one green machine per blue one is created beside it: the blue's full config with the new
 *    image, in the blue's region, with `skip_service_registration` so the proxy sends it nothing
 *    yet; a blue that was not running gets a green that is not launched, except one per process
 *    group when no machine of that group would start (`forceStartRepresentatives`);
 * 3. every launched green must reach `started` and pass every check its config defines
 *    (fly-health.ts); a machine with no checks passes once started;
 * 4. traffic moves: every green is uncordoned, then every blue cordoned;
 * 5. the blue machines are destroyed (`force`, as flyctl's `DestroyBlueMachines`).
 *
 * Any failure or cancellation before step 4 destroys the green machines and leaves blue
 * untouched (flyctl `CanDestroyGreenMachines`). flyctl refuses blue-green when no machine
 * defines a check; so does this (`refusal`), before anything is created.
 */

export interface BlueGreenKit {
  lifecycle: MachineLifecycleApi;
  read(id: string): Promise<MachineView>;
  acquire(machines: FlyMachine[]): Promise<Map<string, Lease>>;
  release(leases: Map<string, Lease>): Promise<void>;
  /** The state version `version` of `id` settled in (started, stopped, failed...); throws at the deadline. */
  waitSettled(
    id: string,
    version: string,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<string>;
  /** Resolves once every check of `id` passes, with what was seen (`2/2 checks passing`); throws at the deadline. */
  waitHealthy(id: string, deadline: number, signal: AbortSignal | undefined): Promise<string>;
  /**
   * Told the green machines traffic has not moved to, each time that list changes: the main
   * step saves it as state, so the post step destroys what a killed step left (fly-green-state.ts).
   */
  onGreen?(ids: string[]): void;
  minSecretsVersion: number | undefined;
  since(): number;
}

export interface BlueGreenResult {
  status: 'success' | 'failed' | 'rolled-back';
  units: UnitResult[];
  error?: Line;
  /** Set when the run was cancelled: units changed and sent back, and what serves now. */
  cancelled?: { changed: number; restored: number; detail?: Line };
}

/** Why flyctl would refuse this blue-green deploy, or undefined. */
export function refusal(blue: readonly FlyMachine[]): Message | undefined {
  if (blue.some((m) => definedCheckCount(m.config) > 0)) return undefined;
  return own('bluegreen needs at least one machine whose config defines a check (flyctl refuses it too)');
}

/**
 * Indexes of blue machines whose green is launched although the blue was not running: the first
 * of each process group whose machines define checks and none of which would start.
 */
export function forcedStarts(blue: readonly FlyMachine[], groupOf: (m: FlyMachine) => string): Set<number> {
  const willStart = new Set<string>();
  const firstIdle = new Map<string, number>();
  const withChecks = new Set<string>();
  blue.forEach((m, i) => {
    const group = groupOf(m);
    if (definedCheckCount(m.config) > 0) withChecks.add(group);
    if (launchesOnUpdate(m.state)) willStart.add(group);
    else if (!firstIdle.has(group)) firstIdle.set(group, i);
  });
  const forced = new Set<number>();
  for (const group of withChecks) {
    const idle = firstIdle.get(group);
    if (!willStart.has(group) && idle !== undefined) forced.add(idle);
  }
  return forced;
}

interface Green {
  id: string;
  version: string;
  launched: boolean;
}

export async function runBlueGreen(
  blue: FlyMachine[],
  image: string,
  request: DeployRequest,
  kit: BlueGreenKit,
  groupOf: (m: FlyMachine) => string,
): Promise<BlueGreenResult> {
  const units = blue.map(
    (m): UnitResult => ({
      id: m.id,
      where: m.region,
      previousImage: m.config?.image,
      newImage: image,
      outcome: 'skipped',
      batch: 1,
      startedMs: kit.since(),
      endedMs: kit.since(),
    }),
  );
  const refused = refusal(blue);
  if (refused) {
    for (const u of units) u.outcome = 'failed';
    return { status: 'failed', units, error: refused };
  }
  const leases = await kit.acquire(blue);
  const green = new Map<number, Green>();
  /** Greens traffic moved to (uncordoned), by blue index. */
  const promoted = new Set<number>();
  const cordoned = new Set<number>();
  const destroyed = new Set<number>();
  const unpromoted = () => [...green].filter(([i]) => !promoted.has(i)).map(([, g]) => g.id);
  const deadline = performance.now() + request.healthTimeoutMs;
  try {
    const forced = forcedStarts(blue, groupOf);
    const firstFailure = new AbortController();
    const signal = request.signal
      ? AbortSignal.any([request.signal, firstFailure.signal])
      : firstFailure.signal;
    // flyctl creates every green first, a third of them at once (CreateGreenMachines), then waits
    // for all to start, then for all to be healthy. Every task of a phase settles before the
    // phase is judged, so no green is still being created while greens are destroyed; the first
    // failure cuts the others.
    await allOrFirstFailure(blue, Math.ceil(blue.length / 3), firstFailure, async (m, i) => {
      signal.throwIfAborted();
      const current = await kit.read(m.id);
      const launched = launchesOnUpdate(m.state) || forced.has(i);
      const body = updateBody(current, image, { launch: launched, minSecretsVersion: kit.minSecretsVersion });
      const made = await kit.lifecycle.create({ ...body, skipServiceRegistration: true });
      green.set(i, { id: made.id, version: made.version ?? made.instance_id, launched });
      kit.onGreen?.(unpromoted());
      request.log(msg`${m.id}: green machine ${made.id} created in ${m.region} (no traffic yet)`);
      units[i]!.note = msg`replaced by ${made.id}`;
    });
    const launched = [...green].filter(([, g]) => g.launched);
    await allOrFirstFailure(launched, launched.length, firstFailure, async ([i, g]) => {
      const state = await kit.waitSettled(g.id, g.version, deadline, signal);
      if (state !== 'started')
        throw new ComposedError(msg`green machine ${g.id} settled ${state} instead of started`);
      const seen = await kit.waitHealthy(g.id, deadline, signal);
      const checked = definedCheckCount(blue[i]!.config) > 0;
      units[i]!.health = checked ? 'passing' : 'skipped';
      // flyctl waits for no check on a machine whose config defines none: started is enough.
      request.log(
        msg`${blue[i]!.id}: green ${g.id} ${checked ? msg`started and healthy (${seen})` : own('started (no checks defined)')}`,
      );
    });
    request.signal?.throwIfAborted();
    for (const [i, g] of green) {
      request.signal?.throwIfAborted();
      await kit.lifecycle.uncordon(g.id, undefined, request.signal);
      promoted.add(i);
      kit.onGreen?.(unpromoted());
      units[i]!.startedMs = kit.since();
    }
    request.log(msg`traffic moved: ${green.size} green machine(s) uncordoned`);
    await mapConcurrent(
      blue,
      async (m, i) => {
        await kit.lifecycle.cordon(m.id, leases.get(m.id)?.nonce, request.signal);
        cordoned.add(i);
      },
      { concurrency: 16, ...(request.signal ? { signal: request.signal } : {}) },
    );
    await mapConcurrent(
      blue,
      async (m, i) => {
        await kit.lifecycle.destroy(m.id, {
          nonce: leases.get(m.id)?.nonce,
          force: true,
          ...(request.signal ? { signal: request.signal } : {}),
        });
        destroyed.add(i);
        leases.delete(m.id);
      },
      { concurrency: 16, ...(request.signal ? { signal: request.signal } : {}) },
    );
    for (const u of units) {
      u.outcome = 'updated';
      u.health ??= 'skipped';
      u.endedMs = kit.since();
    }
    request.log(
      msg`blue machine(s) ${joinMessages(
        blue.map((m) => m.id),
        ', ',
      )} destroyed`,
    );
    return { status: 'success', units };
  } catch (error) {
    const cancelled = request.signal?.aborted === true;
    const why = cancelled ? own('cancelled') : composedOf(error);
    if (promoted.size > 0)
      return afterTrafficMoved(
        blue,
        units,
        { green, promoted, cordoned, destroyed },
        why,
        request,
        kit,
        leases,
      );
    await destroyGreen(
      [...green.values()].map((g) => g.id),
      request,
      kit,
    );
    for (const u of units) {
      u.outcome = 'failed';
      u.error = cancelled ? own('cancelled before traffic moved') : why;
      u.note = own('green destroyed; blue kept serving');
      u.endedMs = kit.since();
    }
    return {
      status: 'failed',
      units,
      error: msg`${why}; green machine(s) destroyed, blue untouched`,
      ...(cancelled ? { cancelled: { changed: 0, restored: 0 } } : {}),
    };
  } finally {
    await kit.release(leases);
  }
}

/**
 * A failure or cancellation once traffic reached green. flyctl never destroys a green machine
 * traffic was moved to (strategy_bluegreen.go `CanDestroyGreenMachines`); with `auto-rollback`,
 * as for every target, the previous version is sent back where it still exists: its blue machine
 * is uncordoned, then its green destroyed. Every green without traffic is destroyed. The units,
 * the error and the cancellation detail all say which machines serve afterwards.
 */
async function afterTrafficMoved(
  blue: FlyMachine[],
  units: UnitResult[],
  done: { green: Map<number, Green>; promoted: Set<number>; cordoned: Set<number>; destroyed: Set<number> },
  why: Message,
  request: DeployRequest,
  kit: BlueGreenKit,
  leases: Map<string, Lease>,
): Promise<BlueGreenResult> {
  const cancelled = request.signal?.aborted === true;
  const signal = cancelled ? request.cleanupSignal : undefined;
  const unpromoted = [...done.green].filter(([i]) => !done.promoted.has(i));
  await destroyGreen(
    unpromoted.map(([, g]) => g.id),
    request,
    kit,
  );
  const sendBack = request.autoRollback ? [...done.promoted].filter((i) => !done.destroyed.has(i)) : [];
  let restored = 0;
  await mapConcurrent(
    sendBack,
    async (i) => {
      const b = blue[i]!;
      const g = done.green.get(i)!;
      try {
        await kit.lifecycle.uncordon(b.id, leases.get(b.id)?.nonce, signal);
        done.cordoned.delete(i);
        await kit.lifecycle.destroy(g.id, { force: true, ...(signal ? { signal } : {}) });
        done.promoted.delete(i);
        units[i]!.outcome = 'rolled-back';
        units[i]!.newImage = b.config?.image;
        units[i]!.note = msg`${b.id} serves again; green ${g.id} destroyed`;
        restored++;
        request.log(msg`${b.id} uncordoned, serving the previous image again; green ${g.id} destroyed`);
      } catch (error) {
        request.log(msg`warning: could not send ${b.id} back: ${error}`);
      }
    },
    { concurrency: 16 },
  );
  for (const [i, u] of units.entries()) {
    u.endedMs = kit.since();
    if (u.outcome === 'rolled-back') continue;
    const g = done.green.get(i);
    if (g && done.promoted.has(i)) {
      u.outcome = 'updated';
      u.note = msg`green ${g.id} serves; blue ${blue[i]!.id} ${own(done.destroyed.has(i) ? 'destroyed' : done.cordoned.has(i) ? 'kept, cordoned' : 'kept, still serving')}`;
    } else {
      u.outcome = 'failed';
      u.note = g
        ? msg`green ${g.id} destroyed before traffic reached it; blue kept serving`
        : own('blue kept serving');
    }
    u.error = msg`${why} after traffic moved to green`;
  }
  const serving = [...done.promoted].map((i) => done.green.get(i)!.id);
  const keptBlue = blue.filter((_, i) => !done.destroyed.has(i));
  const detail =
    serving.length === 0
      ? own('traffic is back on blue')
      : msg`new version on green ${joinMessages(serving, ', ')}${
          keptBlue.length > 0
            ? msg`; blue ${joinMessages(
                keptBlue.map((m) => m.id),
                ', ',
              )} kept`
            : ''
        }`;
  return {
    status: serving.length === 0 && restored > 0 ? 'rolled-back' : 'failed',
    units,
    error: msg`${why} after traffic moved to green: ${detail}`,
    ...(cancelled ? { cancelled: { changed: restored + serving.length, restored, detail } } : {}),
  };
}

async function destroyGreen(ids: string[], request: DeployRequest, kit: BlueGreenKit): Promise<void> {
  const signal = request.signal?.aborted ? request.cleanupSignal : undefined;
  const left = new Set(ids);
  await mapConcurrent(
    ids,
    async (id) => {
      try {
        await kit.lifecycle.destroy(id, { force: true, ...(signal ? { signal } : {}) });
        left.delete(id);
        request.log(msg`green machine ${id} destroyed`);
      } catch (error) {
        request.log(msg`warning: could not destroy green machine ${id}: ${error}`);
      }
    },
    { concurrency: 16 },
  );
  // What is still listed is left to the post step.
  kit.onGreen?.([...left]);
}

/** Runs `task` on every item; when one throws, aborts `cut` and throws the first error after all settled. */
async function allOrFirstFailure<T>(
  items: readonly T[],
  concurrency: number,
  cut: AbortController,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let failure: { error: unknown } | undefined;
  await mapConcurrent(
    items,
    async (item, index) => {
      try {
        await task(item, index);
      } catch (error) {
        failure ??= { error };
        cut.abort(error);
      }
    },
    { concurrency: Math.max(1, concurrency) },
  );
  if (failure) throw failure.error;
}
