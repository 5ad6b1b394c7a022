import { composedOf, type Line } from '../core/message.ts';
import type { LeasesApi } from '../providers/fly/leases.ts';

/**
 * The Fly leases a deploy is about to take, saved as step state before the
 * first one is asked for. A lease's nonce is only known once it is granted,
 * so the post step finds each lease again with GET .../lease (as flyctl's
 * `machine leases clear` does) and releases it only when its description is
 * this run's — a lease somebody else took since is never touched.
 */

export const FLY_LEASES_STATE = 'fly-leases';

export interface FlyLeaseIntent {
  app: string;
  /** The description our leases carry (`leaseDescription` in fly.ts). */
  description: string;
  machines: string[];
}

export function serializeLeaseIntent(intent: FlyLeaseIntent | undefined): string {
  return intent ? JSON.stringify(intent) : '';
}

/** Undefined for an empty or unreadable state value. */
export function parseLeaseIntent(raw: string): FlyLeaseIntent | undefined {
  if (!raw.trim()) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<FlyLeaseIntent>;
    if (typeof v.app !== 'string' || typeof v.description !== 'string' || !Array.isArray(v.machines))
      return undefined;
    const machines = v.machines.filter((m): m is string => typeof m === 'string');
    return { app: v.app, description: v.description, machines };
  } catch {
    return undefined;
  }
}

export type LeftoverResult = 'released' | 'not held' | 'held by another' | 'failed';

/** Releases every lease of `intent` that a machine still holds under our description. */
export async function releaseLeftoverLeases(
  leases: Pick<LeasesApi, 'current' | 'release'>,
  intent: FlyLeaseIntent,
  signal?: AbortSignal,
): Promise<{ machine: string; result: LeftoverResult; detail?: Line }[]> {
  return Promise.all(
    intent.machines.map(async (machine) => {
      try {
        const held = await leases.current(machine, signal);
        if (!held?.nonce) return { machine, result: 'not held' as const };
        if (held.description !== intent.description)
          return { machine, result: 'held by another' as const, detail: held.description ?? '' };
        await leases.release({ machineId: machine, nonce: held.nonce, expiresAt: held.expiresAt }, signal);
        return { machine, result: 'released' as const };
      } catch (error) {
        return { machine, result: 'failed' as const, detail: composedOf(error) };
      }
    }),
  );
}
