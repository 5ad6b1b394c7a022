import { serverView } from '../core/inputs.ts';
import type { FlyMachine } from '../providers/fly/machines.ts';
import type { Shard, StoppedMachines } from './inputs.ts';

/**
 * Which instances get the update call: Fly machines picked by state, region and
 * process group, or the Kamal URLs as given; then the shard of this job. All
 * pure, so every selection rule is a table-driven test.
 */

export interface Target {
  /** Machine id (fly) or host (kamal); unique, and the key shards sort by. */
  id: string;
  region: string | undefined;
  url: string;
  /** Sent as `Fly-Force-Instance-Id` so that Fly's proxy routes the call to this machine. */
  machineId: string | undefined;
  /** The machine's state when listed (fly only). */
  state: string | undefined;
  /** The line of `urls` or `urls-file` the URL is on (kamal only). */
  line?: number;
}

/** What happens to one target; `update` and `wake` send the update call. */
export type Disposition = 'update' | 'wake' | 'skip' | 'fail';

export interface SelectedTarget {
  target: Target;
  disposition: Disposition;
  /** Why a target is not simply updated, e.g. `machine is stopped`. */
  reason?: string;
}

export interface FlySelection {
  listed: number;
  selected: SelectedTarget[];
}

export interface FlyFilters {
  regions: readonly string[];
  processGroup: string | undefined;
  stoppedMachines: StoppedMachines;
}

/** Machines that are gone or going are no longer instances of the app, whatever the policy. */
const GONE = new Set(['destroying', 'destroyed']);

export function processGroupOf(machine: FlyMachine): string | undefined {
  return machine.config?.metadata?.fly_process_group;
}

export function matchesFilters(machine: FlyMachine, filters: Pick<FlyFilters, 'regions' | 'processGroup'>) {
  if (filters.regions.length > 0 && !filters.regions.includes(machine.region.toLowerCase())) return false;
  if (filters.processGroup !== undefined && processGroupOf(machine) !== filters.processGroup) return false;
  return true;
}

export function dispositionOf(state: string, policy: StoppedMachines): Disposition {
  if (state === 'started') return 'update';
  if (policy === 'wake') return 'wake';
  return policy === 'fail' ? 'fail' : 'skip';
}

export function selectFlyTargets(
  machines: readonly FlyMachine[],
  url: string,
  filters: FlyFilters,
): FlySelection {
  const selected = machines
    .filter((m) => !GONE.has(m.state) && matchesFilters(m, filters))
    .map((m): SelectedTarget => {
      const disposition = dispositionOf(m.state, filters.stoppedMachines);
      const target: Target = { id: m.id, region: m.region, url, machineId: m.id, state: m.state };
      if (disposition === 'update') return { target, disposition };
      const reason =
        disposition === 'wake'
          ? `machine is ${m.state}: start it, wait until started, then update`
          : `machine is ${m.state}`;
      return { target, disposition, reason };
    });
  return { listed: machines.length, selected: sortById(selected) };
}

/**
 * Kamal hosts are named by host (with port when given); when two URLs share a
 * host, the path is part of the name too, so names stay unique.
 */
/**
 * One target per URL, its id the host; where hosts repeat, host, path and
 * query; where even those repeat (http and https of one host), the whole URL.
 */
export function selectKamalTargets(urls: readonly string[], lines: readonly number[] = []): SelectedTarget[] {
  const parsed = urls.map((url) => ({ url, parts: new URL(url) }));
  const hostCounts = countsOf(parsed.map((p) => p.parts.host));
  const pathIds = parsed.map(({ parts }) => `${parts.host}${parts.pathname}${parts.search}`);
  const pathCounts = countsOf(pathIds);
  const selected = parsed.map(({ url, parts }, i): SelectedTarget => {
    const id =
      hostCounts.get(parts.host) === 1
        ? parts.host
        : pathCounts.get(pathIds[i]!) === 1
          ? pathIds[i]!
          : serverView(url);
    const line = lines[i];
    return {
      target: {
        id,
        region: undefined,
        url,
        machineId: undefined,
        state: undefined,
        ...(line ? { line } : {}),
      },
      disposition: 'update',
    };
  });
  return sortById(selected);
}

function countsOf(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** Code-point order: the same on every runner, so matrix jobs agree on who owns which target. */
export function sortById<T extends { target: { id: string } }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.target.id < b.target.id ? -1 : a.target.id > b.target.id ? 1 : 0));
}

/** Shard i of n takes every n-th target of the id-sorted list, starting at the i-th. */
export function shardOf<T extends { target: { id: string } }>(
  items: readonly T[],
  shard: Shard | undefined,
): T[] {
  const sorted = sortById(items);
  if (!shard) return sorted;
  return sorted.filter((_, position) => position % shard.count === shard.index - 1);
}

export function noun(kind: 'fly' | 'kamal', count: number): string {
  const word = kind === 'fly' ? 'machine' : 'host';
  return count === 1 ? word : `${word}s`;
}
