import { escapeCell, formatMs, markdownTable } from '../core/summary.ts';
import type { CheckResult } from './collect.ts';

/** The evidence file as pure Markdown rendering of the run's results. */

export interface EvidenceMeta {
  target: string;
  milestone: string;
  time: Date;
  repository: string | undefined;
  commit: string | undefined;
  ref: string | undefined;
  runUrl: string | undefined;
  checksFile: string;
  /** Where `run` checks ran: `the runner` or the ssh host. */
  ranOn: string;
  gate: { passed: boolean; failedRequired: string[] };
}

/** `20260505T120000Z`: sortable, and free of `:` (not allowed in artifact file names). */
export function utcStamp(time: Date): string {
  return time
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export function evidenceFileName(meta: Pick<EvidenceMeta, 'time' | 'target' | 'milestone'>): string {
  return `${utcStamp(meta.time)}-${meta.target}-${meta.milestone}.md`;
}

/** Characters of an error's reason shown in its table row; the check's section has all of it. */
const REASON_CHARS = 160;

/**
 * Exit code or HTTP status; a check that ended in `error` has neither, so its
 * row shows why (`ssh could not run the check: Permission denied (publickey).`).
 */
export function resultCell(r: CheckResult): string {
  if (r.status === 'error' && r.note) {
    const reason = String(r.note).replace(/\s+/g, ' ');
    return reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS - 1)}…` : reason;
  }
  if (r.kind === 'http') return r.httpStatus === undefined ? '—' : `HTTP ${r.httpStatus}`;
  return r.exitCode === undefined ? '—' : `exit ${r.exitCode}`;
}

export function statusCell(r: CheckResult): string {
  const mark = r.status === 'passed' ? '✅' : r.required ? '❌' : '⚠️';
  return `${mark} ${r.status}`;
}

export const CHECK_COLUMNS = ['id', 'title', 'status', 'exit code / HTTP', 'duration', 'required'];

/** One row per check, in CHECK_COLUMNS order: the evidence file's table and the job summary's. */
export function checkRows(results: readonly CheckResult[]): string[][] {
  return results.map((r) => [
    r.id,
    r.title,
    statusCell(r),
    resultCell(r),
    formatMs(r.durationMs),
    r.required ? 'yes' : 'no',
  ]);
}

export function checksTable(results: readonly CheckResult[]): string {
  return markdownTable(CHECK_COLUMNS, checkRows(results));
}

/** A fence longer than any run of backticks in the content, so the content cannot close it. */
export function fenceFor(content: string): string {
  let longest = 0;
  for (const m of content.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}

export function fenced(content: string, info = ''): string {
  const fence = fenceFor(content);
  return `${fence}${info}\n${content}${content === '' || content.endsWith('\n') ? '' : '\n'}${fence}`;
}

export function redactionTable(counts: Record<string, number>): string {
  const kinds = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b));
  if (kinds.length === 0) return 'No redactions were needed.';
  const total = kinds.reduce((sum, [, n]) => sum + n, 0);
  return `${total} values were replaced by \`[REDACTED:<kind>]\`; the values themselves are recorded nowhere.\n\n${markdownTable(['kind', 'count'], kinds)}`;
}

export function renderEvidence(
  meta: EvidenceMeta,
  results: readonly CheckResult[],
  counts: Record<string, number>,
): string {
  const line = (s: string) => s.replace(/[\r\n]+/g, ' ');
  const head = [
    `# Evidence: ${line(meta.target)} — ${line(meta.milestone)}`,
    '',
    markdownTable(
      ['', ''],
      [
        ['Target', meta.target],
        ['Milestone', meta.milestone],
        ['Time (UTC)', meta.time.toISOString()],
        ['Repository', meta.repository ?? '—'],
        ['Commit', meta.commit ?? '—'],
        ['Ref', meta.ref ?? '—'],
        ['Workflow run', meta.runUrl ? `[${meta.runUrl}](${meta.runUrl})` : '—'],
        ['Checks file', meta.checksFile],
        ['run checks on', meta.ranOn],
        [
          'Gate',
          meta.gate.passed
            ? 'passed: every required check passed'
            : `failed: required ${meta.gate.failedRequired.join(', ')} did not pass`,
        ],
      ],
    ),
    '',
    '## Checks',
    '',
    checksTable(results),
    '',
  ];
  const sections = results.flatMap((r) => {
    const facts = [
      `- status: ${r.status}${r.required ? ' (required)' : ''}`,
      `- result: ${resultCell(r)}`,
      `- duration: ${formatMs(r.durationMs)} (timeout ${formatMs(r.timeoutMs)})`,
    ];
    if (r.note) facts.push(`- note: ${line(String(r.note))}`);
    if (r.cutLines > 0)
      facts.push(`- output: ${r.totalLines} lines, ${r.cutLines} cut (see the note inside)`);
    return [
      `## ${line(r.id)} — ${line(r.title)}`,
      '',
      ...facts,
      '',
      r.kind === 'http' ? 'Request:' : 'Command:',
      '',
      fenced(r.what, r.kind === 'run' ? 'sh' : ''),
      '',
      'Output:',
      '',
      fenced(r.output === '' ? '(no output)' : r.output, 'text'),
      '',
    ];
  });
  return [...head, ...sections, '## Redactions', '', redactionTable(counts), ''].join('\n');
}

export { escapeCell };
