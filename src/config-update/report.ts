import { StepError } from '../core/errors.ts';
import type { UnitResult } from '../core/progress.ts';
import { formatMs, type GanttBar, mermaidGantt, summaryTable } from '../core/summary.ts';
import type { PlannedUnit } from './plan.ts';
import { resultEntry } from './results-file.ts';
import type { Outcome, TargetResult } from './update.ts';

/**
 * Results as data, rendered: progress lines, the totals line, the `results`
 * output, the job summary (table + gantt) and the failure message. Pure.
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

export function progressUnit(result: TargetResult): UnitResult {
  return {
    id: result.id,
    where: result.region ?? undefined,
    outcome: result.woken ? 'ok (woken)' : result.outcome,
    status: result.status ?? undefined,
    attempts: result.attempts,
    ms: result.ms,
    note: result.error ?? undefined,
  };
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

/** The `results` output: the spec's fields, in target order. */
/** Past this many targets the `results` output lists only those that did not succeed. */
export const RESULTS_OUTPUT_ALL_UP_TO = 500;

/**
 * The `results` output, sorted by id. Up to RESULTS_OUTPUT_ALL_UP_TO targets it lists
 * every one; past that only the failed and skipped ones (the counts are the `total`,
 * `succeeded`, `failed` and `skipped` outputs; every target is in `results-file`),
 * so that 10 000 targets stay under the runner's 1 MB per output.
 */
export function resultsJson(results: readonly TargetResult[]): string {
  const shown =
    results.length <= RESULTS_OUTPUT_ALL_UP_TO ? results : results.filter((r) => r.outcome !== 'ok');
  const byId = [...shown].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return JSON.stringify(byId.map(resultEntry));
}

const LISTED_IN_ERROR = 10;

/** Undefined when the step succeeds; otherwise the error naming how many targets failed and which. */
export function failureOf(results: readonly TargetResult[], maxFailures: number): StepError | undefined {
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length <= maxFailures) return undefined;
  const named = failed
    .slice(0, LISTED_IN_ERROR)
    .map((r) => `${r.id}${r.error ? ` (${r.error})` : ''}`)
    .join('; ');
  const more = failed.length > LISTED_IN_ERROR ? `; and ${failed.length - LISTED_IN_ERROR} more` : '';
  return new StepError(
    'update',
    `${failed.length} of ${results.length} targets`,
    new Error(`more than max-failures (${maxFailures}) failed: ${named}${more}`),
  );
}

/**
 * The `::warning::` for failures `max-failures` tolerates: the step succeeds,
 * so without it a failed target would only show in the table. Undefined when
 * nothing failed or when the step fails anyway (its error names them).
 */
export function toleratedFailures(results: readonly TargetResult[], maxFailures: number): string | undefined {
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length === 0 || failed.length > maxFailures) return undefined;
  const named = failed
    .slice(0, LISTED_IN_ERROR)
    .map((r) => `${r.id}${r.error ? ` (${r.error})` : ''}`)
    .join('; ');
  const more = failed.length > LISTED_IN_ERROR ? `; and ${failed.length - LISTED_IN_ERROR} more` : '';
  return `${failed.length} of ${results.length} targets failed, within max-failures (${maxFailures}): ${named}${more}`;
}

export interface SummaryInput {
  title: string;
  results: readonly TargetResult[];
  wallMs: number;
  concurrency: number;
  dryRun: boolean;
  /** Extra lines under the title, e.g. filters and shard. */
  notes?: readonly string[];
}

/** Past these, the summary keeps every failure and the slowest successes, and says so. */
export const TABLE_ROWS = 300;
export const GANTT_BARS = 60;

export function renderSummary(input: SummaryInput): string {
  const totals = totalsOf(input.results);
  const parts = [`## ${input.title}`, ''];
  if (input.dryRun) parts.push('**Dry run**: nothing was sent to the targets.', '');
  parts.push(
    input.dryRun
      ? `${totals.total} targets: **${totals.planned} planned**, ${totals.skipped} skipped.`
      : `${totals.total} targets: **${totals.succeeded} ok**, **${totals.failed} failed**, ${totals.skipped} skipped in ${formatMs(input.wallMs)} at concurrency ${input.concurrency}.`,
  );
  for (const note of input.notes ?? []) parts.push('', note);
  const ordered = worstFirst(input.results);
  const rows = ordered.slice(0, TABLE_ROWS);
  parts.push(
    '',
    summaryTable(
      ['target', 'region', 'outcome', 'status', 'attempts', 'time', 'error'],
      rows.map((r) => [
        r.id,
        r.region ?? '',
        outcomeCell(r),
        r.status ?? '',
        r.attempts,
        r.outcome === 'skipped' || r.outcome === 'planned' ? '' : formatMs(r.ms),
        r.error ?? '',
      ]),
    ),
  );
  if (ordered.length > rows.length) {
    parts.push(
      '',
      `_${ordered.length - rows.length} more targets (fastest successes) are in the \`results\` output._`,
    );
  }
  const bars = ganttBars(input.results);
  if (!input.dryRun && bars.length > 0) {
    const shown = input.results.filter((r) => r.outcome === 'ok' || r.outcome === 'failed').length;
    const title =
      bars.length < shown ? `Fan-out - the ${bars.length} slowest or failed of ${shown} targets` : 'Fan-out';
    parts.push('', mermaidGantt(title, bars));
  }
  return `${parts.join('\n')}\n`;
}

function outcomeCell(r: TargetResult): string {
  if (r.outcome === 'failed') return '❌ failed';
  if (r.outcome === 'skipped') return '⏭️ skipped';
  if (r.outcome === 'planned') return '📝 planned';
  return r.woken ? '✅ ok (woken)' : '✅ ok';
}

/** Failures first, then the slowest: what a reader came to the summary for. */
export function worstFirst(results: readonly TargetResult[]): TargetResult[] {
  const rank = (o: Outcome) => (o === 'failed' ? 0 : o === 'ok' ? 1 : o === 'planned' ? 2 : 3);
  return [...results].sort(
    (a, b) => rank(a.outcome) - rank(b.outcome) || b.ms - a.ms || (a.id < b.id ? -1 : 1),
  );
}

/** One bar per target that was sent, failures marked `crit`, chronological; capped to the worst ones. */
export function ganttBars(results: readonly TargetResult[]): GanttBar[] {
  const sent = results.filter((r) => (r.outcome === 'ok' || r.outcome === 'failed') && r.endMs > 0);
  const keep = new Set(worstFirst(sent).slice(0, GANTT_BARS));
  return sent
    .filter((r) => keep.has(r))
    .sort((a, b) => a.startMs - b.startMs)
    .map((r) => ({
      section: r.outcome === 'failed' ? 'failed' : 'ok',
      label: `${r.id}${r.region ? ` ${r.region}` : ''} ${r.status ?? '-'} x${r.attempts}`,
      startMs: r.startMs,
      endMs: r.endMs,
      ...(r.outcome === 'failed' ? { status: 'crit' as const } : {}),
    }));
}
