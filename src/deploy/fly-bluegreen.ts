import { messageOf } from '../core/errors.ts';
import { mapConcurrent } from '../core/fanout.ts';
import type { Lease } from '../providers/fly/leases.ts';
import type { MachineLifecycleApi } from '../providers/fly/machine-lifecycle.ts';
import type { MachineView } from '../providers/fly/machine-update.ts';
import type { FlyMachine } from '../providers/fly/machines.ts';
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
  /** Resolves once version `version` of `id` is started; throws when it settles otherwise. */
  waitStarted(id: string, version: string, deadline: number, signal: AbortSignal | undefined): Promise<void>;
  /** Resolves once every check of `id` passes; throws at the deadline. */
  waitHealthy(id: string, deadline: number, signal: AbortSignal | undefined): Promise<void>;
  minSecretsVersion: number | undefined;
  since(): number;
}

export interface BlueGreenResult {
  status: 'success' | 'failed';
  units: UnitResult[];
  error?: string;
  /** Set when the run was cancelled: green destroyed, blue untouched. */
  cancelled?: { changed: number; restored: number };
}

/** Why flyctl would refuse this blue-green deploy, or undefined. */
export function refusal(blue: readonly FlyMachine[]): string | undefined {
  if (blue.some((m) => definedCheckCount(m.config) > 0)) return undefined;
  return 'bluegreen needs at least one machine whose config defines a check (flyctl refuses it too)';
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
  const green = new Map<number, { id: string; version: string; launched: boolean }>();
  const deadline = performance.now() + request.healthTimeoutMs;
  let moved = false;
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
      request.log(`${m.id}: green machine ${made.id} created in ${m.region} (no traffic yet)`);
      units[i]!.note = `replaced by ${made.id}`;
    });
    const launched = [...green].filter(([, g]) => g.launched);
    await allOrFirstFailure(launched, launched.length, firstFailure, async ([i, g]) => {
      await kit.waitStarted(g.id, g.version, deadline, signal);
      await kit.waitHealthy(g.id, deadline, signal);
      units[i]!.health = 'passing';
      request.log(`${blue[i]!.id}: green ${g.id} started and healthy`);
    });
    request.signal?.throwIfAborted();
    for (const [i, g] of green) {
      await kit.lifecycle.uncordon(g.id);
      moved = true;
      units[i]!.startedMs = kit.since();
    }
    request.log(`traffic moved: ${green.size} green machine(s) uncordoned`);
    await mapConcurrent(blue, (m) => kit.lifecycle.cordon(m.id, leases.get(m.id)?.nonce), {
      concurrency: 16,
    });
    await mapConcurrent(
      blue,
      async (m) => {
        await kit.lifecycle.destroy(m.id, { nonce: leases.get(m.id)?.nonce, force: true });
        leases.delete(m.id);
      },
      { concurrency: 16 },
    );
    for (const u of units) {
      u.outcome = 'updated';
      u.health ??= 'skipped';
      u.endedMs = kit.since();
    }
    request.log(`blue machine(s) ${blue.map((m) => m.id).join(', ')} destroyed`);
    return { status: 'success', units };
  } catch (error) {
    const cancelled = request.signal?.aborted === true;
    const why = cancelled ? 'cancelled' : messageOf(error);
    if (moved) {
      // Traffic already reaches green: nothing is destroyed, both versions are left serving.
      for (const u of units) {
        u.outcome = 'failed';
        u.error = `after traffic moved: ${why}`;
      }
      return { status: 'failed', units, error: `after traffic moved to green: ${why}` };
    }
    await destroyGreen(
      [...green.values()].map((g) => g.id),
      request,
      kit,
    );
    for (const u of units) {
      u.outcome = 'failed';
      u.error = cancelled ? 'cancelled before traffic moved' : why;
      u.note = 'green destroyed; blue kept serving';
      u.endedMs = kit.since();
    }
    return {
      status: 'failed',
      units,
      error: `${why}; green machine(s) destroyed, blue untouched`,
      ...(cancelled ? { cancelled: { changed: 0, restored: 0 } } : {}),
    };
  } finally {
    await kit.release(leases);
  }
}

async function destroyGreen(ids: string[], request: DeployRequest, kit: BlueGreenKit): Promise<void> {
  const signal = request.signal?.aborted ? request.cleanupSignal : undefined;
  await mapConcurrent(
    ids,
    async (id) => {
      try {
        await kit.lifecycle.destroy(id, { force: true, ...(signal ? { signal } : {}) });
        request.log(`green machine ${id} destroyed`);
      } catch (error) {
        request.log(`warning: could not destroy green machine ${id}: ${messageOf(error)}`);
      }
    },
    { concurrency: 16 },
  );
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
