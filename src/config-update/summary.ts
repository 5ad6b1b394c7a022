import { formatMs, type GanttBar, mermaidGantt, summaryTable } from '../core/summary.ts';
import { RESULTS_OUTPUT_ALL_UP_TO, type ResultsOutput, totalsOf } from './report.ts';
import type { Outcome, TargetResult } from './update.ts';
import { shorten } from './update.ts';

/**
 * The job summary of a fan-out, pure. A small fleet gets one row per target and
 * a gantt chart. Past FULL_TABLE_UP_TO targets it is aggregated, so that it stays
 * far under the runner's 1 MiB per step summary (a bigger one is dropped whole)
 * at any size: per outcome, per region, the failure reasons, every failed and
 * skipped target up to NOT_UPDATED_ROWS, and the SLOWEST_ROWS slowest successes.
 * Every target is in `results-file`.
 */

export interface SummaryInput {
  title: string;
  results: readonly TargetResult[];
  wallMs: number;
  concurrency: number;
  dryRun: boolean;
  /** Extra lines under the title, e.g. filters and shard. */
  notes?: readonly string[];
  /** What the `results` output holds (resultsOutput), to say what it leaves out. */
  output?: Pick<ResultsOutput, 'listed' | 'due'>;
}

/** Up to this many targets, one table row each, and the gantt chart. */
export const FULL_TABLE_UP_TO = 60;
/** The chart has one bar per target sent; past this many it is not readable and is left out. */
export const GANTT_BARS = FULL_TABLE_UP_TO;
export const NOT_UPDATED_ROWS = 200;
export const SLOWEST_ROWS = 20;
export const REGION_ROWS = 40;
export const REASON_ROWS = 20;
/** Ids are host names or machine ids; a Kamal id can be a whole URL. */
const ID_CHARS = 200;
/** Errors are already one short line (update.ts); the cap keeps every row's size bounded here too. */
const TEXT_CHARS = 160;

const TARGET_HEADERS = ['target', 'region', 'outcome', 'status', 'attempts', 'time', 'error'];

export function renderSummary(input: SummaryInput): string {
  const { results } = input;
  const totals = totalsOf(results);
  const parts = [`## ${input.title}`, ''];
  if (input.dryRun) parts.push('**Dry run**: nothing was sent to the targets.', '');
  parts.push(
    input.dryRun
      ? `${totals.total} targets: **${totals.planned} planned**, ${totals.skipped} skipped.`
      : `${totals.total} targets: **${totals.succeeded} ok**, **${totals.failed} failed**, ${totals.skipped} skipped in ${formatMs(input.wallMs)} at concurrency ${input.concurrency}.`,
  );
  for (const note of input.notes ?? []) parts.push('', note);
  if (results.length <= FULL_TABLE_UP_TO) {
    parts.push('', targetTable(worstFirst(results)));
    const bars = ganttBars(results);
    if (!input.dryRun && bars.length > 0) parts.push('', mermaidGantt('Fan-out', bars));
  } else {
    parts.push(...aggregated(input));
  }
  if (input.output && input.output.listed < results.length)
    parts.push('', outputNote(input.output, results.length, input.dryRun));
  return `${parts.join('\n')}\n`;
}

function aggregated(input: SummaryInput): string[] {
  const { results } = input;
  const parts = ['', '### By outcome', '', outcomeTable(results)];
  if (results.some((r) => r.region !== null)) parts.push('', '### By region', '', regionTable(results));
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length > 0) parts.push('', '### Failure reasons', '', ...reasonTable(failed));
  const notUpdated = worstFirst(results.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped'));
  if (notUpdated.length > 0) {
    const shown = notUpdated.slice(0, NOT_UPDATED_ROWS);
    parts.push('', `### Failed and skipped targets`, '', targetTable(shown));
    if (shown.length < notUpdated.length)
      parts.push(
        '',
        `_${notUpdated.length - shown.length} more failed or skipped targets are in \`results-file\`._`,
      );
  }
  const ok = worstFirst(results.filter((r) => r.outcome === 'ok'));
  if (ok.length > 0) {
    parts.push('', `### The ${Math.min(SLOWEST_ROWS, ok.length)} slowest of ${ok.length} updated`, '');
    parts.push(targetTable(ok.slice(0, SLOWEST_ROWS)));
  }
  if (!input.dryRun) {
    parts.push(
      '',
      `_No fan-out chart: ${results.length} targets are more than its ${GANTT_BARS} readable bars; every target's times are in \`results-file\`._`,
    );
  }
  return parts;
}

function outputNote(output: Pick<ResultsOutput, 'listed' | 'due'>, total: number, dryRun: boolean): string {
  const which =
    total <= RESULTS_OUTPUT_ALL_UP_TO
      ? `${output.listed} of ${total} targets`
      : `${output.listed} of the ${output.due} failed and skipped targets (of ${total}; past ${RESULTS_OUTPUT_ALL_UP_TO} it leaves out those ${dryRun ? 'planned' : 'updated'})`;
  return `_The \`results\` output lists ${which}, under the 1 MB an output may hold; \`results-file\` has every target._`;
}

function targetTable(rows: readonly TargetResult[]): string {
  return summaryTable(
    TARGET_HEADERS,
    rows.map((r) => [
      shorten(r.id, ID_CHARS),
      shorten(r.region ?? '', TEXT_CHARS),
      outcomeCell(r),
      r.status ?? '',
      r.attempts,
      r.outcome === 'skipped' || r.outcome === 'planned' ? '' : formatMs(r.ms),
      shorten(r.error ?? '', TEXT_CHARS),
    ]),
  );
}

const OUTCOMES: readonly Outcome[] = ['ok', 'failed', 'skipped', 'planned'];

function outcomeTable(results: readonly TargetResult[]): string {
  const rows = OUTCOMES.flatMap((outcome) => {
    const members = results.filter((r) => r.outcome === outcome);
    if (members.length === 0) return [];
    const woken = members.filter((r) => r.woken).length;
    const label = `${outcomeCell(members[0]!, false)}${woken > 0 ? ` (${woken} woken)` : ''}`;
    return [[label, members.length, ...timeCells(members)]];
  });
  return summaryTable(['outcome', 'targets', 'median', 'p95', 'slowest'], rows);
}

function regionTable(results: readonly TargetResult[]): string {
  const byRegion = groupBy(results, (r) => r.region ?? '');
  const regions = [...byRegion].sort(
    ([a, x], [b, y]) => failures(y) - failures(x) || y.length - x.length || (a < b ? -1 : 1),
  );
  const row = (name: string, members: readonly TargetResult[]) => [
    name,
    members.length,
    count(members, 'ok'),
    count(members, 'failed'),
    count(members, 'skipped'),
    ...timeCells(members),
  ];
  const rows = regions
    .slice(0, REGION_ROWS)
    .map(([name, members]) => row(shorten(name, TEXT_CHARS) || '-', members));
  const rest = regions.slice(REGION_ROWS);
  if (rest.length > 0)
    rows.push(
      row(
        `${rest.length} more regions`,
        rest.flatMap(([, members]) => members),
      ),
    );
  return summaryTable(['region', 'targets', 'ok', 'failed', 'skipped', 'median', 'p95', 'slowest'], rows);
}

function reasonTable(failed: readonly TargetResult[]): string[] {
  const byReason = [...groupBy(failed, (r) => r.error ?? '')].sort(
    ([a, x], [b, y]) => y.length - x.length || (a < b ? -1 : 1),
  );
  const rows = byReason.slice(0, REASON_ROWS).map(([reason, members]) => [
    shorten(reason, TEXT_CHARS) || '(no reason given)',
    members.length,
    members
      .slice(0, 3)
      .map((r) => shorten(r.id, 60))
      .join(', ') + (members.length > 3 ? ', …' : ''),
  ]);
  const table = summaryTable(['reason', 'targets', 'for example'], rows);
  const more = byReason.length - rows.length;
  return more > 0 ? [table, '', `_${more} more reasons, each in \`results-file\`._`] : [table];
}

/** Median, 95th percentile and slowest time of the targets that were sent the call. */
function timeCells(members: readonly TargetResult[]): string[] {
  const times = members
    .filter((r) => r.outcome === 'ok' || r.outcome === 'failed')
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  if (times.length === 0) return ['', '', ''];
  const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
  return [formatMs(at(0.5)), formatMs(at(0.95)), formatMs(times.at(-1)!)];
}

function count(members: readonly TargetResult[], outcome: Outcome): number {
  return members.filter((r) => r.outcome === outcome).length;
}

function failures(members: readonly TargetResult[]): number {
  return count(members, 'failed');
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function outcomeCell(r: TargetResult, showWoken = true): string {
  if (r.outcome === 'failed') return '❌ failed';
  if (r.outcome === 'skipped') return '⏭️ skipped';
  if (r.outcome === 'planned') return '📝 planned';
  return r.woken && showWoken ? '✅ ok (woken)' : '✅ ok';
}

/** Failures first, then the slowest: what a reader came to the summary for. */
export function worstFirst(results: readonly TargetResult[]): TargetResult[] {
  const rank = (o: Outcome) => (o === 'failed' ? 0 : o === 'ok' ? 1 : o === 'planned' ? 2 : 3);
  return [...results].sort(
    (a, b) => rank(a.outcome) - rank(b.outcome) || b.ms - a.ms || (a.id < b.id ? -1 : 1),
  );
}

/** One bar per target that was sent, failures marked `crit`, chronological. */
export function ganttBars(results: readonly TargetResult[]): GanttBar[] {
  return results
    .filter((r) => (r.outcome === 'ok' || r.outcome === 'failed') && r.endMs > 0)
    .sort((a, b) => a.startMs - b.startMs)
    .map((r) => ({
      section: r.outcome === 'failed' ? 'failed' : 'ok',
      label: `${shorten(r.id, 60)}${r.region ? ` ${r.region}` : ''} ${r.status ?? '-'} x${r.attempts}`,
      startMs: r.startMs,
      endMs: r.endMs,
      ...(r.outcome === 'failed' ? { status: 'crit' as const } : {}),
    }));
}
