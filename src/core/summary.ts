import { summary as coreSummary } from '@actions/core';

/**
 * Pure rendering for job summaries and the evidence file. Actions build their
 * summary from result data with these, and `ActionContext.writeSummary` is the
 * one writer. Summary tables are built by @actions/core's summary (HTML, which
 * GitHub renders in a job summary); the evidence file keeps Markdown tables.
 */

/** @actions/core exports only its shared summary; a fresh buffer of the same class keeps rendering pure. */
const Summary = coreSummary.constructor as new () => typeof coreSummary;

/** Text for HTML: `&` and `<` are the characters that open an entity or markup. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;');
}

/** `9990 updated, 10 failed`: how many times each value occurs, in the order each first occurs. */
export function countsLine(values: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([value, n]) => `${n} ${value}`).join(', ');
}

/**
 * The rows a capped table shows: every item when there are at most `limit`, else the `limit`
 * that rank first (lower `rank` first; ties keep their order, Array#sort being stable).
 */
export function rowsWithin<T>(items: readonly T[], limit: number, rank: (item: T) => number): readonly T[] {
  return items.length <= limit ? items : [...items].sort((a, b) => rank(a) - rank(b)).slice(0, limit);
}

/**
 * A job-summary table from @actions/core's `summary.addTable`, one line of
 * HTML. Cells are text: escaped here (addTable inserts them as they are), line
 * breaks kept as `<br>`. Without headers, every row is a data row.
 */
export function summaryTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (value: unknown) => escapeHtml(value).replace(/\r?\n/g, '<br>');
  const head = headers.length > 0 ? [headers.map((h) => ({ data: cell(h), header: true }))] : [];
  return new Summary()
    .addTable([...head, ...rows.map((row) => row.map(cell))])
    .stringify()
    .trimEnd();
}

export function escapeCell(value: unknown): string {
  return String(value ?? '')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, '<br>');
}

export function markdownTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = `| ${headers.map(escapeCell).join(' | ')} |`;
  const rule = `| ${headers.map(() => '---').join(' | ')} |`;
  const body = rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`);
  return [head, rule, ...body].join('\n');
}

export interface GanttBar {
  section: string;
  label: string;
  startMs: number;
  endMs: number;
  status?: 'done' | 'active' | 'crit';
}

/**
 * A Mermaid gantt chart with millisecond resolution (GitHub renders Mermaid in
 * summaries). Times are relative to the run's start; labels are sanitised because
 * Mermaid treats `:` and `#` in task names as syntax.
 */
export function mermaidGantt(title: string, bars: readonly GanttBar[]): string {
  const lines = [
    '```mermaid',
    'gantt',
    `  title ${sanitizeMermaid(title)}`,
    '  dateFormat x',
    '  axisFormat %M:%S',
  ];
  const sections = new Map<string, GanttBar[]>();
  for (const bar of bars) sections.set(bar.section, [...(sections.get(bar.section) ?? []), bar]);
  let n = 0;
  for (const [section, members] of sections) {
    lines.push(`  section ${sanitizeMermaid(section)}`);
    for (const bar of members) {
      const status = bar.status ? `${bar.status}, ` : '';
      const end = Math.max(bar.endMs, bar.startMs + 1);
      lines.push(
        `  ${sanitizeMermaid(bar.label)} :${status}t${n++}, ${Math.round(bar.startMs)}, ${Math.round(end)}`,
      );
    }
  }
  lines.push('```');
  return lines.join('\n');
}

function sanitizeMermaid(text: string): string {
  return text.replace(/[:#;\n\r]/g, ' ').trim() || '-';
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
