import { ApiError, messageOf } from '../core/errors.ts';
import type { MachineLifecycleApi } from '../providers/fly/machines.ts';

/**
 * The green machines of a blue-green deploy that traffic has not moved to yet,
 * saved as step state each time the list changes (a green created, destroyed or
 * uncordoned). A step killed before it could destroy them (SIGKILL, or the
 * runner's SIGTERM after a cancellation) leaves them running, cordoned, billed:
 * the post step (`post-if: always()`) destroys every one still listed. A green
 * that was uncordoned is taken off the list first, so the post step never
 * destroys a machine traffic was moved to.
 */

export const FLY_GREEN_STATE = 'fly-green';

export interface GreenLeftovers {
  app: string;
  machines: string[];
}

export function serializeGreen(state: GreenLeftovers): string {
  return state.machines.length > 0 ? JSON.stringify(state) : '';
}

/** Undefined for an empty or unreadable state value. */
export function parseGreen(raw: string): GreenLeftovers | undefined {
  if (!raw.trim()) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<GreenLeftovers>;
    if (typeof v.app !== 'string' || !Array.isArray(v.machines)) return undefined;
    return { app: v.app, machines: v.machines.filter((m): m is string => typeof m === 'string') };
  } catch {
    return undefined;
  }
}

export type GreenResult = 'destroyed' | 'already gone' | 'failed';

/** Destroys (force) every listed green machine; a 404 means it is gone already. */
export async function destroyLeftoverGreen(
  machines: Pick<MachineLifecycleApi, 'destroy'>,
  state: GreenLeftovers,
  signal?: AbortSignal,
): Promise<{ machine: string; result: GreenResult; detail?: string }[]> {
  return Promise.all(
    state.machines.map(async (machine) => {
      try {
        await machines.destroy(machine, { force: true, ...(signal ? { signal } : {}) });
        return { machine, result: 'destroyed' as const };
      } catch (error) {
        if (error instanceof ApiError && error.status === 404)
          return { machine, result: 'already gone' as const };
        return { machine, result: 'failed' as const, detail: messageOf(error) };
      }
    }),
  );
}
