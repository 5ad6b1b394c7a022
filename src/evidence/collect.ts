import { stripVTControlCharacters } from 'node:util';
import { mapConcurrent } from '../core/fanout.ts';
import { joinMessages, type Line, type Message, msg, own, redactedValues } from '../core/message.ts';
import type { Redactor } from '../core/redact.ts';
import type { Check } from './checks-file.ts';
import type { RawOutcome } from './run-result.ts';

/**
 * Runs every check at once (each with its own timeout), then turns each raw
 * outcome into a result: output redacted whole first, then cut to max-lines,
 * so a secret is never cut in half before redaction sees it.
 */

export type CheckStatus = 'passed' | 'failed' | 'timed out' | 'error';

export interface CheckResult {
  id: string;
  title: string;
  kind: Check['kind'];
  /** The command or URL, redacted. */
  what: string;
  required: boolean;
  status: CheckStatus;
  exitCode: number | undefined;
  httpStatus: number | undefined;
  timeoutMs: number;
  durationMs: number;
  startedMs: number;
  /** Redacted and cut. */
  output: string;
  totalLines: number;
  cutLines: number;
  /** Our words around the values (core/message.ts), the values already redacted. */
  note: Line | undefined;
}

export type Runner = (check: Check, timeoutMs: number) => Promise<RawOutcome>;

export async function collect(
  checks: readonly Check[],
  options: {
    run: Runner;
    redactor: Redactor;
    defaultTimeoutMs: number;
    maxLines: number;
    onDone?: (result: CheckResult) => void;
    now?: () => number;
  },
): Promise<CheckResult[]> {
  const now = options.now ?? (() => performance.now());
  const origin = now();
  return mapConcurrent(
    checks,
    async (check) => {
      const timeoutMs = check.timeoutMs ?? options.defaultTimeoutMs;
      const started = now();
      let raw: RawOutcome;
      try {
        raw = await options.run(check, timeoutMs);
      } catch (error) {
        raw = { output: '', timedOut: false, error: error instanceof Error ? error.message : String(error) };
      }
      const durationMs = now() - started;
      const result = toResult(check, raw, {
        redactor: options.redactor,
        timeoutMs,
        durationMs,
        startedMs: started - origin,
        maxLines: options.maxLines,
      });
      options.onDone?.(result);
      return result;
    },
    { concurrency: Math.max(1, checks.length) },
  );
}

export function statusOf(check: Check, raw: RawOutcome): CheckStatus {
  if (raw.timedOut) return 'timed out';
  if (check.kind === 'http') {
    if (raw.httpStatus === undefined) return 'error';
    const ok = check.expect
      ? check.expect.includes(raw.httpStatus)
      : raw.httpStatus >= 200 && raw.httpStatus < 300;
    return ok ? 'passed' : 'failed';
  }
  if (raw.exitCode === undefined) return 'error';
  return raw.exitCode === 0 ? 'passed' : 'failed';
}

export function toResult(
  check: Check,
  raw: RawOutcome,
  o: { redactor: Redactor; timeoutMs: number; durationMs: number; startedMs: number; maxLines: number },
): CheckResult {
  const status = statusOf(check, raw);
  const notes: Message[] = [];
  if (raw.timedOut) notes.push(msg`timed out after ${own(formatSeconds(o.timeoutMs))}: the check was killed`);
  if (raw.error) notes.push(msg`${raw.error}`);
  const redacted = o.redactor.redact(withoutTerminalEscapes(raw.output));
  const cut = cutLines(redacted, o.maxLines);
  return {
    id: check.id,
    title: check.title,
    kind: check.kind,
    what: o.redactor.redact(check.kind === 'run' ? check.command : `GET ${check.url}`),
    required: check.required,
    status,
    exitCode: check.kind === 'run' ? raw.exitCode : undefined,
    httpStatus: raw.httpStatus,
    timeoutMs: o.timeoutMs,
    durationMs: o.durationMs,
    startedMs: o.startedMs,
    output: cut.text,
    totalLines: cut.total,
    cutLines: cut.cut,
    note:
      notes.length === 0 ? undefined : redactedValues(joinMessages(notes, '; '), (t) => o.redactor.redact(t)),
  };
}

/**
 * Output as text, without the terminal's escape sequences that colour it,
 * move the cursor, set the title or make links: CSI (`ESC [ … m`, and the C1
 * form), OSC (`ESC ] … BEL` or `ESC ] … ESC \\`, so OSC 8 hyperlinks keep
 * only their text) and the two-byte `ESC x` forms, through Node's own
 * `util.stripVTControlCharacters`. A stray ESC or BEL left by a cut-off
 * sequence goes too: a Markdown file or a job summary has no use for either.
 * Done before redaction, so a secret coloured in parts is still whole.
 */
export function withoutTerminalEscapes(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: BEL, ESC and CSI are exactly what is removed.
  return stripVTControlCharacters(text).replace(/[\x07\x1b\x9b]/g, '');
}

/**
 * Keeps the first and last halves of `max` lines with a note between them:
 * the head shows what the command started with, the tail how it ended.
 */
export function cutLines(text: string, max: number): { text: string; total: number; cut: number } {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (body === '') return { text: '', total: 0, cut: 0 };
  // Counted and sliced in place: splitting megabytes of short lines into an array would cost several times that.
  let total = 1;
  for (let nl = body.indexOf('\n'); nl !== -1; nl = body.indexOf('\n', nl + 1)) total++;
  if (total <= max) return { text: body, total, cut: 0 };
  const head = Math.ceil(max / 2);
  const tail = max - head;
  const cut = total - max;
  let headEnd = -1;
  for (let i = 0; i < head; i++) headEnd = body.indexOf('\n', headEnd + 1);
  let tailStart = body.length;
  for (let i = 0; i < tail; i++) tailStart = body.lastIndexOf('\n', tailStart - 1);
  const note = `[… ${cut} lines cut here (lines ${head + 1}-${head + cut} of ${total}); max-lines is ${max} …]`;
  const parts = [body.slice(0, headEnd), note, ...(tail > 0 ? [body.slice(tailStart + 1)] : [])];
  return { text: parts.join('\n'), total, cut };
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
