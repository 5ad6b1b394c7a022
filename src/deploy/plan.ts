import type { FlyDeploySettings } from './inputs.ts';

/**
 * Rollout batches, as pure functions: which units change together. `rolling`
 * puts the first unit alone (a bad image stops there), then batches of
 * `max-unavailable`; `canary` one unit, then the rest together; `immediate`
 * everything at once.
 */

export type Strategy = FlyDeploySettings['strategy'];
export type MaxUnavailable = FlyDeploySettings['maxUnavailable'];

/** Units changed at once after the first: a fraction of all units rounded up, or a count; at least 1. */
export function batchWidth(total: number, maxUnavailable: MaxUnavailable): number {
  const width =
    'count' in maxUnavailable ? maxUnavailable.count : Math.ceil(total * maxUnavailable.fraction - 1e-9);
  return Math.max(1, Math.min(total, width));
}

export function batchSizes(total: number, strategy: Strategy, maxUnavailable: MaxUnavailable): number[] {
  if (total <= 0) return [];
  if (strategy === 'immediate') return [total];
  if (strategy === 'canary') return total === 1 ? [1] : [1, total - 1];
  const width = batchWidth(total, maxUnavailable);
  const sizes = [1];
  for (let left = total - 1; left > 0; left -= width) sizes.push(Math.min(width, left));
  return sizes;
}

export function splitBatches<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}

export interface PlannedUnit {
  id: string;
  where?: string | undefined;
  from: string | undefined;
}

/** The plan a dry run prints and a real run records: one line per request that changes something. */
export function describeFlyRollout(input: {
  app: string;
  image: string;
  strategy: Strategy;
  batches: PlannedUnit[][];
  unchanged: PlannedUnit[];
  healthWait: boolean;
}): string[] {
  const lines: string[] = [];
  const all = input.batches.flat();
  if (all.length === 0) {
    lines.push(`fly app ${input.app}: every machine already runs ${input.image}; nothing to change`);
    return lines;
  }
  lines.push(
    `fly app ${input.app}: ${all.length} machine(s) to ${input.image}, ${input.strategy}, ${input.batches.length} batch(es)`,
  );
  lines.push(`lease ${all.length} machine(s): POST /apps/${input.app}/machines/{id}/lease`);
  input.batches.forEach((batch, i) => {
    const wait = input.healthWait ? ', wait for started and passing checks' : ', no health wait';
    lines.push(`batch ${i + 1}: update ${batch.map((u) => u.id).join(', ')}${wait}`);
    for (const unit of batch) {
      const where = unit.where ? ` (${unit.where})` : '';
      lines.push(
        `  POST /apps/${input.app}/machines/${unit.id}${where}: config.image ${unit.from ?? '?'} -> ${input.image}`,
      );
    }
  });
  for (const unit of input.unchanged) lines.push(`unchanged: ${unit.id} already runs ${input.image}`);
  lines.push(`release ${all.length} lease(s): DELETE /apps/${input.app}/machines/{id}/lease`);
  return lines;
}
