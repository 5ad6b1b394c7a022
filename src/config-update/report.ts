import { StepError } from '../core/errors.ts';
import { ComposedError, msg } from '../core/message.ts';
import type { UnitResult } from '../core/progress.ts';
import { formatMs } from '../core/summary.ts';
import type { PlannedUnit } from './plan.ts';
import { resultEntry } from './results-file.ts';
import type { Outcome, TargetResult } from './update.ts';

/**
 * Results as data, rendered: progress lines, the totals line, the `results`
 * output and the failure message (the job summary is in summary.ts). Pure.
 */

export interface Totals {
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Dry run: targets that would be sent the update. */
  planned: number;
}

export function totalsOf(results: readonly TargetResult[]): Totals {
  const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  return {
    total: results.length,
    succeeded: count('ok'),
    failed: count('failed'),
    skipped: count('skipped'),
    planned: count('planned'),
  };
}

export function progressUnit(result: TargetResult, listedAt?: string): UnitResult {
  return {
    id: progressName(result.id, listedAt),
    where: result.region ?? undefined,
    outcome: result.woken ? 'ok (woken)' : result.outcome,
    status: result.status ?? undefined,
    attempts: result.attempts,
    ms: result.ms,
    note: result.error ?? undefined,
  };
}

/** Past this many characters a target's name in its progress line is shortened (`progressName`). */
export const PROGRESS_NAME_CHARS = 120;
const HEAD_CHARS = 80;
const TAIL_CHARS = 24;
const MARKER = /\[REDACTED:[a-z0-9-]+\]/g;

/**
 * A target's name as its progress line shows it: the id as it is, or, past PROGRESS_NAME_CHARS,
 * its head (the origin and the start of the path) and its tail around `…`, followed by where
 * the user listed it (`urls-file line 12`), which names the target whatever the cut left out.
 * 10 000 targets with URLs of 3 KB then log about 1.5 MB of progress, not 31 MB; the whole
 * id and URL of each are in `results-file`. `id` must be redacted already, so a cut never
 * leaves a part of a secret that redaction would no longer recognise; nor does it split a
 * `[REDACTED:…]` marker or a UTF-16 surrogate pair. Without `listedAt` (a Fly machine id,
 * never that long) the id is kept whole.
 */
export function progressName(id: string, listedAt: string | undefined): string {
  if (id.length <= PROGRESS_NAME_CHARS || listedAt === undefined) return id;
  let head = HEAD_CHARS;
  let tail = id.length - TAIL_CHARS;
  for (const m of id.matchAll(MARKER)) {
    const end = m.index + m[0].length;
    if (m.index < head && head < end) head = m.index;
    if (m.index < tail && tail < end) tail = end;
  }
  if (isLowSurrogate(id.charCodeAt(head))) head--;
  if (isLowSurrogate(id.charCodeAt(tail))) tail++;
  return `${id.slice(0, head)}…${id.slice(tail)} (${listedAt})`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * What a cancel left: `3 of 10 target(s) updated before the cancellation, 5 not, 2 skipped`.
 * Targets the policy skipped (stopped machines) are counted apart: they were never to be
 * updated, and are not among those a re-run has to reach.
 */
export function cancelledNote(results: readonly TargetResult[]): string {
  const { total, succeeded, skipped } = totalsOf(results);
  const not = total - succeeded - skipped;
  return `${succeeded} of ${total} target(s) updated before the cancellation, ${not} not${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

export function totalsLine(totals: Totals, wallMs: number): string {
  return `Done in ${formatMs(wallMs)}: ${totals.succeeded} ok, ${totals.failed} failed, ${totals.skipped} skipped of ${totals.total}`;
}

/** Targets the policy settles without sending anything: skipped, or failed because `stopped-machines` is fail. */
export function settledWithoutSending(unit: PlannedUnit): TargetResult {
  const failed = unit.disposition === 'fail';
  return {
    id: unit.target.id,
    region: unit.target.region ?? null,
    url: unit.call.url,
    outcome: failed ? 'failed' : 'skipped',
    status: null,
    attempts: 0,
    ms: 0,
    error: failed ? `${unit.reason ?? 'not started'} (stopped-machines: fail)` : (unit.reason ?? null),
    startMs: 0,
    endMs: 0,
  };
}

/**
 * A dry run's result for a target: `planned` (no error) when a real run would
 * send it the update, otherwise `skipped` with the reason the policy gives.
 */
export function plannedOnly(unit: PlannedUnit): TargetResult {
  if (unit.disposition === 'skip' || unit.disposition === 'fail') {
    const what = `${unit.reason ?? 'not started'} (stopped-machines: ${unit.disposition})`;
    return { ...settledWithoutSending(unit), outcome: 'skipped', error: what };
  }
  return { ...settledWithoutSending(unit), outcome: 'planned', error: null };
}

/** Past this many targets the `results` output lists only those that did not succeed. */
export const RESULTS_OUTPUT_ALL_UP_TO = 500;
/** Under the runner's 1 MB per output, with room for the redaction of a long secret. */
export const RESULTS_OUTPUT_BYTES = 900_000;

export interface ResultsOutput {
  json: string;
  /** Entries in `json`. */
  listed: number;
  /** Entries the output would hold without the byte cap. */
  due: number;
}

/**
 * The `results` output, sorted by id. Up to RESULTS_OUTPUT_ALL_UP_TO targets it lists
 * every one; past that only the failed and skipped ones, as action.yml says: neither
 * those updated nor, in a dry run, those planned (the counts are the `total`,
 * `succeeded`, `failed` and `skipped` outputs; every target is in `results-file`). It
 * stops before RESULTS_OUTPUT_BYTES, so that even 10 000 failures stay under the
 * runner's 1 MB per output; `listed < due` then, and the summary says so.
 */
export function resultsOutput(results: readonly TargetResult[]): ResultsOutput {
  const shown =
    results.length <= RESULTS_OUTPUT_ALL_UP_TO
      ? results
      : results.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
  const byId = [...shown].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const entries: string[] = [];
  let bytes = 2;
  for (const r of byId) {
    const entry = JSON.stringify(resultEntry(r));
    bytes += Buffer.byteLength(entry) + 1;
    if (bytes > RESULTS_OUTPUT_BYTES) break;
    entries.push(entry);
  }
  return { json: `[${entries.join(',')}]`, listed: entries.length, due: byId.length };
}

const LISTED_IN_ERROR = 10;

/** Where the user listed a target (`urls-file line 12`), for names shortened as `progressName` does. */
export type ListedAt = (result: TargetResult) => string | undefined;

/** The first LISTED_IN_ERROR failed targets, each named as its progress line names it, and how many more. */
function namedFailures(failed: readonly TargetResult[], listedAt: ListedAt | undefined) {
  const named = failed
    .slice(0, LISTED_IN_ERROR)
    .map((r) => `${progressName(r.id, listedAt?.(r))}${r.error ? ` (${r.error})` : ''}`)
    .join('; ');
  const more = failed.length > LISTED_IN_ERROR ? `; and ${failed.length - LISTED_IN_ERROR} more` : '';
  return { named, more };
}

/** Undefined when the step succeeds; otherwise the error naming how many targets failed and which. */
export function failureOf(
  results: readonly TargetResult[],
  maxFailures: number,
  listedAt?: ListedAt,
): StepError | undefined {
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length <= maxFailures) return undefined;
  const { named, more } = namedFailures(failed, listedAt);
  return new StepError(
    'update',
    msg`update ${failed.length} of ${results.length} targets`,
    new ComposedError(msg`more than max-failures (${maxFailures}) failed: ${named}${more}`),
  );
}

/**
 * The `::warning::` for failures `max-failures` tolerates: the step succeeds,
 * so without it a failed target would only show in the table. Undefined when
 * nothing failed or when the step fails anyway (its error names them).
 */
export function toleratedFailures(
  results: readonly TargetResult[],
  maxFailures: number,
  listedAt?: ListedAt,
): string | undefined {
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length === 0 || failed.length > maxFailures) return undefined;
  const { named, more } = namedFailures(failed, listedAt);
  return `${failed.length} of ${results.length} targets failed, within max-failures (${maxFailures}): ${named}${more}`;
}
