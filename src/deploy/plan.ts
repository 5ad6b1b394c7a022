import { joinMessages, type Message, msg, own } from '../core/message.ts';
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

/**
 * The plan a dry run prints and a real run records: one line per request that changes something.
 * Lines are messages (core/message.ts): the app, image and machine ids are values, counts and the
 * strategy our own words.
 */
export function describeFlyRollout(input: {
  app: string;
  image: string;
  strategy: Strategy;
  batches: PlannedUnit[][];
  unchanged: PlannedUnit[];
  healthWait: boolean;
}): Message[] {
  const lines: Message[] = [];
  const all = input.batches.flat();
  if (all.length === 0) {
    lines.push(msg`fly app ${input.app}: every machine already runs ${input.image}; nothing to change`);
    return lines;
  }
  const count = own(all.length);
  lines.push(
    msg`fly app ${input.app}: ${count} machine(s) to ${input.image}, ${own(input.strategy)}, ${own(input.batches.length)} batch(es)`,
  );
  lines.push(msg`lease ${count} machine(s): POST /apps/${input.app}/machines/{id}/lease`);
  input.batches.forEach((batch, i) => {
    const started = batch.filter((u) => u.notStarted === undefined);
    const wait =
      input.healthWait && started.length > 0
        ? msg`, wait for ${started.length < batch.length ? msg`${idsOf(started)} to start` : own('started')} and passing checks`
        : own(', no health wait');
    lines.push(msg`batch ${own(i + 1)}: update ${idsOf(batch)}${wait}`);
    for (const unit of batch) {
      const where = unit.where ? msg` (${unit.where})` : '';
      const cold =
        unit.notStarted === undefined
          ? ''
          : msg`, skip_launch: ${unit.notStarted}, updated without starting, not health-checked`;
      lines.push(
        msg`  POST /apps/${input.app}/machines/${unit.id}${where}: config.image ${unit.from ?? own('?')} -> ${input.image}${cold}`,
      );
    }
  });
  for (const unit of input.unchanged) lines.push(msg`unchanged: ${unit.id} already runs ${input.image}`);
  lines.push(msg`release ${count} lease(s): DELETE /apps/${input.app}/machines/{id}/lease`);
  return lines;
}

function idsOf(units: readonly PlannedUnit[]): Message {
  return joinMessages(
    units.map((u) => u.id),
    ', ',
  );
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
}): Message[] {
  if (input.blue.length === 0)
    return [msg`fly app ${input.app}: every machine already runs ${input.image}; nothing to change`];
  const n = own(input.blue.length);
  const lines = [
    msg`fly app ${input.app}: ${n} machine(s) to ${input.image}, bluegreen`,
    msg`lease the ${n} blue machine(s) until the end: POST /apps/${input.app}/machines/{id}/lease`,
    ...input.blue.map(
      (u) =>
        msg`create a green machine beside ${u.id}${u.where ? msg` in ${u.where}` : ''} (same config, new image, skip_service_registration${u.notStarted ? msg`, not launched: blue is ${u.notStarted}` : ''}): POST /apps/${input.app}/machines`,
    ),
    msg`wait until every launched green machine is started and passes every check its config defines`,
    msg`move traffic: uncordon every green machine, then cordon every blue one`,
    msg`destroy the ${n} blue machine(s): DELETE /apps/${input.app}/machines/{id}?force=true`,
    msg`on any failure before traffic moved: destroy the green machines, blue untouched`,
  ];
  if (input.unchanged.length > 0)
    lines.push(msg`${own(input.unchanged.length)} machine(s) already run ${input.image}: left alone`);
  return lines;
}
