import { mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TargetResult } from './update.ts';

/**
 * The `results-file` output: every target's result as one JSON line, appended the
 * moment the target finishes, so the file is complete for any fleet size while the
 * `results` output has to stay under the runner's 1 MB per output. Each line goes
 * through `redact` (the run's secrets) before it is written: the reusable
 * workflow uploads the file as an artifact, which the runner's masking never sees.
 */
export class ResultsFile {
  readonly path: string;
  /** Open for the whole run (closed when the process exits): one write per target, not open-write-close. */
  private readonly fd: number;
  private readonly redact: (text: string) => string;

  constructor(logPath: string, redact: (text: string) => string) {
    this.redact = redact;
    this.path = `${logPath.replace(/\.jsonl$/, '')}-results.jsonl`;
    mkdirSync(dirname(this.path), { recursive: true });
    this.fd = openSync(this.path, 'a');
  }

  add(result: TargetResult): void {
    writeSync(this.fd, `${this.redact(JSON.stringify(resultEntry(result)))}\n`);
  }
}

/** One `results` entry: `{id, region, url, outcome, status, attempts, ms, error}`. */
export function resultEntry({ id, region, url, outcome, status, attempts, ms, error }: TargetResult) {
  return { id, region, url, outcome, status, attempts, ms, error };
}
