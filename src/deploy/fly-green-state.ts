import { ApiError } from '../core/errors.ts';
import { composedOf, joinMessages, type Line, msg, own } from '../core/message.ts';
import type { FlyMachine, MachineLifecycleApi, MachinesApi } from '../providers/fly/machines.ts';

/**
 * The green machines of a blue-green deploy that traffic has not moved to yet, and the blue
 * machines they are to replace, saved as step state each time the green list changes (a green
 * created, destroyed or uncordoned). A step killed before it could destroy them (SIGKILL, or the
 * runner's SIGTERM after a cancellation) leaves them running, cordoned, billed: the post step
 * (`post-if: always()`) destroys them. A green that was uncordoned is taken off the list first,
 * but a kill between the uncordon and the state write leaves a listed green that may serve, so
 * the post step reads every listed green and blue first ({@link destroyLeftoverGreen}).
 */

export const FLY_GREEN_STATE = 'fly-green';

export interface GreenLeftovers {
  app: string;
  machines: string[];
  /** The blue machines of the same deploy; absent in state an older version wrote. */
  blue?: string[];
}

export function serializeGreen(state: GreenLeftovers): string {
  return state.machines.length > 0 ? JSON.stringify(state) : '';
}

const ids = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((m): m is string => typeof m === 'string') : undefined;

/** Undefined for an empty or unreadable state value. */
export function parseGreen(raw: string): GreenLeftovers | undefined {
  if (!raw.trim()) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<GreenLeftovers>;
    const machines = ids(v.machines);
    if (typeof v.app !== 'string' || !machines) return undefined;
    const blue = ids(v.blue);
    return { app: v.app, machines, ...(blue ? { blue } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * `kept`: the green is uncordoned (the Fly Proxy may route to it) and no blue machine is known to
 * serve, so destroying it could leave the app with nothing serving.
 */
export type GreenResult = 'destroyed' | 'already gone' | 'kept' | 'failed';

export interface GreenOutcome {
  machine: string;
  result: GreenResult;
  detail?: Line;
}

/** The machine, or undefined when it is gone (404); other errors are thrown. */
async function readMachine(api: Pick<MachinesApi, 'get'>, id: string): Promise<FlyMachine | undefined> {
  try {
    const m = await api.get(id);
    return m.state === 'destroyed' ? undefined : m;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Destroys (force) the listed green machines that no traffic depends on. Each listed green and
 * blue machine is read first: `cordoned` (contracts/fly `Machine.cordoned`; Machines_cordon: the
 * proxy routes nothing to a cordoned machine) tells which may serve. A cordoned green is
 * destroyed. An uncordoned green is cordoned, then destroyed, only while at least one blue
 * machine exists uncordoned; otherwise it is kept, so the only machines that may serve are never
 * destroyed. A green that cannot be read is kept. A 404 means it is gone already.
 */
export async function destroyLeftoverGreen(
  machines: Pick<MachinesApi, 'get'> & Pick<MachineLifecycleApi, 'destroy' | 'cordon'>,
  state: GreenLeftovers,
  signal?: AbortSignal,
): Promise<GreenOutcome[]> {
  const opts = signal ? { signal } : {};
  const blueServing = (
    await Promise.all(
      (state.blue ?? []).map((id) =>
        readMachine(machines, id).then(
          (m) => (m && m.cordoned !== true ? id : undefined),
          () => undefined,
        ),
      ),
    )
  ).filter((id): id is string => id !== undefined);
  return Promise.all(
    state.machines.map(async (machine): Promise<GreenOutcome> => {
      try {
        const green = await readMachine(machines, machine);
        if (!green) return { machine, result: 'already gone' };
        const serving = green.cordoned !== true;
        if (serving && blueServing.length === 0) {
          return {
            machine,
            result: 'kept',
            detail: msg`it is uncordoned and ${own(state.blue ? 'every blue machine is cordoned or gone' : 'no blue machine is known')}, so it may be all that serves`,
          };
        }
        if (serving) await machines.cordon(machine, undefined, signal);
        await machines.destroy(machine, { force: true, ...opts });
        return {
          machine,
          result: 'destroyed',
          ...(serving ? { detail: msg`cordoned first; blue ${joinMessages(blueServing, ', ')} serves` } : {}),
        };
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return { machine, result: 'already gone' };
        return { machine, result: 'failed', detail: composedOf(error) };
      }
    }),
  );
}
