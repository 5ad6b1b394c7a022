import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/run-bundle.ts';

/**
 * The reliability matrices (issue 9) share this shape: each runs its cells,
 * renders a Markdown section for RELIABILITY.md, and its test fails when the
 * committed section and the run disagree. `npm run reliability` regenerates
 * every section (scripts/reliability.ts).
 */

export interface Cell {
  /** Row label, e.g. the action and the request position. */
  row: string;
  /** Column label, e.g. the fault. */
  column: string;
  /** What happened, short and deterministic (no timings): it goes into the table. */
  result: string;
  /** Whether the cell meets the matrix's goal. */
  ok: boolean;
}

export interface MatrixResult {
  name: string;
  title: string;
  /** One paragraph: what is tested and what the goal is. */
  description: string;
  cells: Cell[];
  /** Figures for the goal line, e.g. `{ leaks: 0 }`. */
  totals: Record<string, number>;
}

export const RELIABILITY_FILE = join(ROOT, 'RELIABILITY.md');

export function renderSection(m: MatrixResult): string {
  const columns = [...new Set(m.cells.map((c) => c.column))];
  const rows = [...new Set(m.cells.map((c) => c.row))];
  const lines = [
    `## ${m.title}`,
    '',
    m.description,
    '',
    `| | ${columns.join(' | ')} |`,
    `| --- | ${columns.map(() => '---').join(' | ')} |`,
  ];
  for (const row of rows) {
    const cells = columns.map((column) => {
      const cell = m.cells.find((c) => c.row === row && c.column === column);
      return cell ? `${cell.ok ? '✅' : '❌'} ${cell.result}`.replace(/\|/g, '\\|') : '–';
    });
    lines.push(`| ${row.replace(/\|/g, '\\|')} | ${cells.join(' | ')} |`);
  }
  const failed = m.cells.filter((c) => !c.ok).length;
  const totals = Object.entries(m.totals).map(([k, v]) => `${k}: ${v}`);
  lines.push(
    '',
    `Cells: ${m.cells.length}, failing: ${failed}${totals.length ? `; ${totals.join(', ')}` : ''}.`,
  );
  return `${marker(m.name, 'start')}\n${lines.join('\n')}\n${marker(m.name, 'end')}`;
}

function marker(name: string, edge: 'start' | 'end'): string {
  return `<!-- matrix:${name}:${edge} -->`;
}

export function committedSection(name: string): string | undefined {
  const text = readFileSync(RELIABILITY_FILE, 'utf8');
  const start = text.indexOf(marker(name, 'start'));
  const end = text.indexOf(marker(name, 'end'));
  if (start < 0 || end < 0) return undefined;
  return text.slice(start, end + marker(name, 'end').length);
}

/** Replaces (or appends) one matrix's section in RELIABILITY.md. */
export function writeSection(m: MatrixResult): void {
  const text = readFileSync(RELIABILITY_FILE, 'utf8');
  const section = renderSection(m);
  const current = committedSection(m.name);
  writeFileSync(
    RELIABILITY_FILE,
    current ? text.replace(current, section) : `${text.trimEnd()}\n\n${section}\n`,
  );
}
