import { mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TargetResult } from './update.ts';

declare const shown: unique symbol;

/**
 * A result whose values from outside (id, region, URL, error) went through the run's
 * redaction (`shownResult`): the only kind the results file, the `results` output, the
 * summary and the failure message are given.
 */
export type ShownResult = TargetResult & { readonly [shown]: true };

/**
 * Redacts each text field of a result, once per target, value by value (core/redacted-data.ts):
 * our `outcome` word and the numbers are kept as they are, and a short secret redacted
 * in the keys or the JSON syntax cannot leave a line no one can parse. A field the
 * redaction leaves as it was keeps its own string, so a 3 KB URL is not held twice.
 */
export function shownResult(result: TargetResult, redact: (text: string) => string): ShownResult {
  const same = (text: string) => {
    const out = redact(text);
    return out === text ? text : out;
  };
  return {
    ...result,
    id: same(result.id),
    region: result.region === null ? null : same(result.region),
    url: same(result.url),
    error: result.error === null ? null : same(result.error),
  } as ShownResult;
}

/**
 * The `results-file` output: every target's result as one JSON line, appended the
 * moment the target finishes, so the file is complete for any fleet size while the
 * `results` output has to stay under the runner's 1 MB per output. It takes only
 * redacted results (`ShownResult`): the reusable workflow uploads the file as an
 * artifact, which the runner's masking never sees.
 */
export class ResultsFile {
  readonly path: string;
  /** Open for the whole run (closed when the process exits): not open-write-close per target. */
  private readonly fd: number;
  /** The lines of this turn of the event loop, written together when it is over. */
  private held = '';

  constructor(logPath: string) {
    this.path = `${logPath.replace(/\.jsonl$/, '')}-results.jsonl`;
    mkdirSync(dirname(this.path), { recursive: true });
    this.fd = openSync(this.path, 'a');
    process.once('exit', () => this.flush());
  }

  /**
   * Appends the target's line. Lines of targets finishing in one turn of the event loop are
   * written at its end (`setImmediate`, well under a millisecond later; at exit at the latest):
   * one write a turn instead of one per target, which was a tenth of the fan-out's CPU time
   * at 10 000 targets (bench/config-update.ts).
   */
  add(result: ShownResult): void {
    if (this.held === '') setImmediate(() => this.flush());
    this.held += `${JSON.stringify(resultEntry(result))}\n`;
  }

  /** Writes what is held now. */
  flush(): void {
    if (this.held === '') return;
    const text = this.held;
    this.held = '';
    writeSync(this.fd, text);
  }
}

/** One `results` entry: `{id, region, url, outcome, status, attempts, ms, error}`. */
export function resultEntry({ id, region, url, outcome, status, attempts, ms, error }: TargetResult) {
  return { id, region, url, outcome, status, attempts, ms, error };
}
