import { mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { redactedData } from '../core/redacted-data.ts';
import type { TargetResult } from './update.ts';

/**
 * The `results-file` output: every target's result as one JSON line, appended the
 * moment the target finishes, so the file is complete for any fleet size while the
 * `results` output has to stay under the runner's 1 MB per output. Each value of a
 * line goes through `redact` (the run's secrets) before the line is serialised: the
 * reusable workflow uploads the file as an artifact, which the runner's masking never
 * sees, and a short secret redacted in the keys or the JSON syntax would leave a line
 * no one can parse.
 */
export class ResultsFile {
  readonly path: string;
  /** Open for the whole run (closed when the process exits): not open-write-close per target. */
  private readonly fd: number;
  private readonly redact: (text: string) => string;
  /** The lines of this turn of the event loop, written together when it is over. */
  private held = '';

  constructor(logPath: string, redact: (text: string) => string) {
    this.redact = redact;
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
  add(result: TargetResult): void {
    if (this.held === '') setImmediate(() => this.flush());
    this.held += `${JSON.stringify(redactedData(resultEntry(result), this.redact, RESULT_WORDS))}\n`;
  }

  /** Writes what is held now. */
  flush(): void {
    if (this.held === '') return;
    const text = this.held;
    this.held = '';
    writeSync(this.fd, text);
  }
}

/** The fields of a result that hold our own words: kept as they are when it is redacted (core/redacted-data.ts). */
export const RESULT_WORDS = ['outcome'];

/** One `results` entry: `{id, region, url, outcome, status, attempts, ms, error}`. */
export function resultEntry({ id, region, url, outcome, status, attempts, ms, error }: TargetResult) {
  return { id, region, url, outcome, status, attempts, ms, error };
}
