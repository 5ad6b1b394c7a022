import type { StepTally } from './oplog.ts';
import { escapeHtml, summaryTable } from './summary.ts';

/**
 * The short job summary of a run that failed before it wrote its own (a bad
 * input, a refused credential, a provider error or a cancel early on): what
 * failed, and what the run had done by then, from its operations log. Pure;
 * `runAction` writes it.
 */

export interface FailureReport {
  /** What the run was (`deploy to fly (production)`), its values already redacted. */
  title: string;
  cancelled: boolean;
  /** The failure's message as the `::error::` line says it, already redacted. */
  error: string;
  /** True when the run stopped at its inputs, before any request. */
  atInputs: boolean;
  /** The operations log's steps so far (`OpLog.tally`). */
  steps: readonly StepTally[];
}

/** A summary must stay short: a failed fan-out logs one event a target, shown as counts a step. */
const MAX_STEPS = 20;
const MAX_ERROR_CHARS = 2000;

/** Markdown with HTML tables; every value in it was redacted by the caller, the rest is our wording. */
export function renderFailureSummary(report: FailureReport): string {
  const error = report.error.length > MAX_ERROR_CHARS ? `${headOf(report.error)}…` : report.error;
  const parts = [
    // The title holds the user's values (an environment may be `prod <!--`): text, never markup.
    `## ${escapeHtml(report.title)}: ${report.cancelled ? 'cancelled, ' : ''}failed`,
    '',
    summaryTable([], [['error', error]]),
    '',
  ];
  // The inputs step says only that the inputs were read; it is no work done.
  const steps = report.steps.filter((s) => s.step !== 'inputs');
  if (report.atInputs) parts.push('Nothing was sent or changed: the run stopped at its inputs.');
  else if (steps.length === 0) parts.push('No step had finished when the run failed.');
  else {
    parts.push(
      'Steps before the failure, from the operations log (output `log-file`):',
      '',
      summaryTable(
        ['step', 'outcome'],
        steps.slice(0, MAX_STEPS).map((s) => [s.step, describeOutcomes(s.outcomes)]),
      ),
    );
    if (steps.length > MAX_STEPS) parts.push('', `… and ${steps.length - MAX_STEPS} more steps in the log.`);
  }
  parts.push('');
  return parts.join('\n');
}

/** `ok`, or with counts when a step logged several events: `9998 ok, 2 failed`. */
function describeOutcomes(outcomes: StepTally['outcomes']): string {
  const entries = Object.entries(outcomes);
  if (entries.length === 1 && entries[0]?.[1] === 1) return entries[0][0];
  return entries.map(([outcome, count]) => `${count} ${outcome}`).join(', ');
}

/**
 * The error's first MAX_ERROR_CHARS, cut before a `[REDACTED:…]` marker the cut would split (a
 * half marker reads as a value) and never between the two halves of a UTF-16 surrogate pair.
 */
function headOf(error: string): string {
  let end = MAX_ERROR_CHARS;
  for (const m of error.matchAll(/\[REDACTED:[a-z0-9-]+\]/g))
    if (m.index < end && end < m.index + m[0].length) end = m.index;
  const code = error.charCodeAt(end);
  if (code >= 0xdc00 && code <= 0xdfff) end--;
  return error.slice(0, end);
}
