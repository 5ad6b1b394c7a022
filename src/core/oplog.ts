import { mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { composedOf, type Line, Message } from './message.ts';

/**
 * The JSONL operations log: one event per step, appended synchronously so the
 * file is complete up to the moment a run is killed. Its path is the
 * `log-file` output of every action.
 */

export type Outcome = 'ok' | 'failed' | 'skipped' | 'planned' | 'retried';

export interface OpEvent {
  step: string;
  outcome: Outcome;
  durationMs?: number;
  ids?: Record<string, string | number | undefined>;
  /** A `Message` is redacted value by value (core/message.ts), a string whole. */
  detail?: Line;
}

/** Fields whose values are the action's own words (a step name, an outcome), never third-party text. */
const OWN_WORDS = new Set(['step', 'outcome']);

export interface StepTally {
  step: string;
  outcomes: Partial<Record<Outcome, number>>;
}

export class OpLog {
  readonly path: string;
  private readonly action: string;
  private readonly redact: (text: Line) => string;
  private readonly now: () => Date;
  private fd: number | undefined;
  /** Lines of this turn of the event loop while `batchTurns` is on; '' when none is held. */
  private held = '';
  private batching = false;
  /** Events so far by step and outcome, in the order each step first appeared. */
  private readonly counts = new Map<string, Map<Outcome, number>>();

  constructor(options: { path: string; action: string; redact: (text: Line) => string; now?: () => Date }) {
    this.path = options.path;
    this.action = options.action;
    this.redact = options.redact;
    this.now = options.now ?? (() => new Date());
    mkdirSync(dirname(this.path), { recursive: true });
  }

  /**
   * Appends one JSON line. The event's string values (but the step and outcome words)
   * are redacted before they are serialised, never the line: a secret the user named
   * (`e`, `"`) redacted inside the keys or the JSON syntax would leave a line no one can parse.
   */
  write(event: OpEvent): void {
    const outcomes = this.counts.get(event.step) ?? new Map<Outcome, number>();
    outcomes.set(event.outcome, (outcomes.get(event.outcome) ?? 0) + 1);
    this.counts.set(event.step, outcomes);
    const head = JSON.stringify({ time: this.now().toISOString(), action: this.action });
    const fields = JSON.stringify(event, (key, value: unknown) =>
      (typeof value === 'string' && !OWN_WORDS.has(key)) || value instanceof Message
        ? this.redact(value)
        : value,
    );
    const line = `${fields === '{}' ? head : `${head.slice(0, -1)},${fields.slice(1)}`}\n`;
    if (!this.batching) {
      this.append(line);
      return;
    }
    if (this.held === '') setImmediate(() => this.flush());
    this.held += line;
  }

  /**
   * From now until the returned function is called, the lines of one turn of the event
   * loop are appended together when the turn is over (`setImmediate`, well under a
   * millisecond later; at exit at the latest) instead of one write each: a fan-out logs
   * an event per target, and at 10 000 targets one write each was a fifteenth of its CPU
   * time (bench/config-update.ts). The returned function writes what is held and ends it.
   */
  batchTurns(): () => void {
    this.batching = true;
    const atExit = () => this.flush();
    process.once('exit', atExit);
    return () => {
      this.batching = false;
      this.flush();
      process.removeListener('exit', atExit);
    };
  }

  private flush(): void {
    if (this.held === '') return;
    const text = this.held;
    this.held = '';
    this.append(text);
  }

  private append(text: string): void {
    // Opened once, on the first event, and kept (closed when the process exits): a fan-out
    // logs one event per target, and open-write-close each time was most of their cost.
    this.fd ??= openSync(this.path, 'a');
    writeSync(this.fd, text);
  }

  /**
   * What the run has logged so far, one entry a step in the order the step first appeared,
   * with how many of its events had each outcome (a fan-out logs one event a target).
   */
  tally(): StepTally[] {
    return [...this.counts].map(([step, outcomes]) => ({ step, outcomes: Object.fromEntries(outcomes) }));
  }

  /** Runs one step and logs it with its outcome and duration, whether it returns or throws. */
  async step<T>(step: string, ids: OpEvent['ids'], work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await work();
      this.write({ step, outcome: 'ok', durationMs: Math.round(performance.now() - started), ids });
      return result;
    } catch (error) {
      const detail = composedOf(error);
      this.write({
        step,
        outcome: 'failed',
        durationMs: Math.round(performance.now() - started),
        ids,
        detail,
      });
      throw error;
    }
  }
}

export function logFilePath(env: NodeJS.ProcessEnv, action: string, now = new Date()): string {
  const dir = env.RUNNER_TEMP || env.TMPDIR || '/tmp';
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const run = [env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT].filter(Boolean).join('-') || String(process.pid);
  return `${dir}/ops-actions/${action}-${run}-${stamp}.jsonl`;
}
