import type { FlyDeploySettings } from './inputs.ts';

/**
 * Rollout batches, as pure functions: which units change together. `rolling`
 * puts the first unit alone (a bad image stops there), then batches of
 * `max-unavailable`; `canary` one unit (a started one, chosen by the target),
 * then the rest in rolling batches as flyctl's canary does (its second phase is
 * a rolling update); `immediate` everything at once.
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
  if (strategy === 'immediate' || strategy === 'bluegreen') return [total];
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
  /** The state of a unit that is updated without being started (fly: stopped, suspended...). */
  notStarted?: string;
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
    const started = batch.filter((u) => u.notStarted === undefined);
    const wait =
      input.healthWait && started.length > 0
        ? `, wait for ${started.length < batch.length ? `${started.map((u) => u.id).join(', ')} to start` : 'started'} and passing checks`
        : ', no health wait';
    lines.push(`batch ${i + 1}: update ${batch.map((u) => u.id).join(', ')}${wait}`);
    for (const unit of batch) {
      const where = unit.where ? ` (${unit.where})` : '';
      const cold =
        unit.notStarted === undefined
          ? ''
          : `, skip_launch: ${unit.notStarted}, updated without starting, not health-checked`;
      lines.push(
        `  POST /apps/${input.app}/machines/${unit.id}${where}: config.image ${unit.from ?? '?'} -> ${input.image}${cold}`,
      );
    }
  });
  for (const unit of input.unchanged) lines.push(`unchanged: ${unit.id} already runs ${input.image}`);
  lines.push(`release ${all.length} lease(s): DELETE /apps/${input.app}/machines/{id}/lease`);
  return lines;
}

/**
 * The plan of `strategy: bluegreen` (fly-bluegreen.ts): green machines beside the blue ones, traffic
 * moved only once every green is started and healthy, then blue destroyed.
 */
export function describeBlueGreen(input: {
  app: string;
  image: string;
  blue: PlannedUnit[];
  unchanged: PlannedUnit[];
}): string[] {
  if (input.blue.length === 0)
    return [`fly app ${input.app}: every machine already runs ${input.image}; nothing to change`];
  const n = input.blue.length;
  const lines = [
    `fly app ${input.app}: ${n} machine(s) to ${input.image}, bluegreen`,
    `lease the ${n} blue machine(s) until the end: POST /apps/${input.app}/machines/{id}/lease`,
    ...input.blue.map(
      (u) =>
        `create a green machine beside ${u.id}${u.where ? ` in ${u.where}` : ''} (same config, new image, skip_service_registration${u.notStarted ? `, not launched: blue is ${u.notStarted}` : ''}): POST /apps/${input.app}/machines`,
    ),
    'wait until every launched green machine is started and passes every check its config defines',
    'move traffic: uncordon every green machine, then cordon every blue one',
    `destroy the ${n} blue machine(s): DELETE /apps/${input.app}/machines/{id}?force=true`,
    'on any failure before traffic moved: destroy the green machines, blue untouched',
  ];
  if (input.unchanged.length > 0)
    lines.push(`${input.unchanged.length} machine(s) already run ${input.image}: left alone`);
  return lines;
}
