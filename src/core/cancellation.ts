import { type Line, type Message, msg, outside, own } from './message.ts';
import { receivedSignals, type SignalSource } from './received-signals.ts';

/**
 * Cancellation as the GitHub runner does it: "Cancel workflow" sends SIGINT to
 * `node`; a step still running 7.5 s later gets SIGTERM, and 2.5 s after that
 * the process tree is killed (actions/runner, src/Runner.Sdk/ProcessInvoker.cs,
 * `CancelAndKillProcessTree`: `_sigintTimeout` 7.5 s, `_sigtermTimeout` 2.5 s).
 * Post steps with `post-if: always()` still run afterwards.
 *
 * The first SIGINT or SIGTERM aborts `signal`: every action stops starting new
 * work, and its clean-up (releasing leases and locks, sending back the
 * previous version, recording the outcome) runs under `cleanupSignal`, which
 * ends well inside the runner's 7.5 s. Whatever is not done by then is left to
 * the post step; at `FORCED_EXIT_MS` the process exits non-zero on its own.
 * A signal that came while the bundle was still loading counts from when it
 * came (core/received-signals.ts): the run then starts cancelled.
 */

/** What the runner allows between SIGINT and SIGTERM, in ms. */
export const RUNNER_SIGINT_GRACE_MS = 7500;
/** Clean-up that changes things (restores, lease and lock releases) ends this long after the signal. */
export const CLEANUP_BUDGET_MS = 4500;
/** Recording the outcome (deployment status, summary) ends this long after the signal. */
export const RECORD_BUDGET_MS = 6500;
/** Last resort: the process exits non-zero this long after the signal, before the runner's SIGTERM. */
export const FORCED_EXIT_MS = 7100;

export class CancelledError extends Error {
  readonly signalName: string;
  /** What was done before stopping, as given. */
  readonly detail: Message | undefined;
  readonly composed: Message;
  /**
   * `detail` says what was done before stopping, e.g. `2 unit(s) changed, 2 sent back`; a
   * `Message` keeps our words apart from its values, a plain string is redacted whole.
   */
  constructor(signalName: string, detail?: Line) {
    const given = detail ? (typeof detail === 'string' ? outside(detail) : detail) : undefined;
    const composed = msg`cancelled (${own(signalName)})${given ? msg`: ${given}` : ''}`;
    super(String(composed));
    this.name = 'CancelledError';
    this.signalName = signalName;
    this.detail = given;
    this.composed = composed;
  }
}

/** `SIGINT` or `SIGTERM` for an aborted cancellation signal, `signal` otherwise. */
export function cancelSignalName(signal: AbortSignal): string {
  return signal.reason instanceof CancelledError ? signal.reason.signalName : 'signal';
}

/** True for a `CancelledError`, or an error caused (at any depth) by one. */
export function isCancelled(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++)
    if (e instanceof CancelledError) return true;
  return false;
}

export interface Cancellation {
  /** Aborted on the first SIGINT or SIGTERM; its reason is a `CancelledError`. */
  readonly signal: AbortSignal;
  /** Aborted on cancellation or after `ms`, whichever comes first (an action's own deadline). */
  within(ms: number): AbortSignal;
  /**
   * For clean-up work: never aborted while the run is not cancelled; once it is, aborted
   * `budgetMs` after the signal arrived, so clean-up ends before the runner's SIGTERM.
   */
  cleanupSignal(budgetMs?: number): AbortSignal;
  /** Ms since the signal arrived, or undefined when the run is not cancelled. */
  elapsedMs(): number | undefined;
}

/**
 * Listens for SIGINT and SIGTERM on `source` (this process's, those received while the bundle
 * loaded included, by default). `onForcedExit` runs `FORCED_EXIT_MS` after the first signal
 * arrived when the process is still alive (unref'd timer).
 */
export function watchCancellation(
  source: SignalSource = receivedSignals,
  onForcedExit: () => void = () => process.exit(process.exitCode || 1),
): Cancellation {
  const controller = new AbortController();
  let at: number | undefined;
  const cancel = (name: string, receivedAt = performance.now()) => {
    if (at !== undefined) return;
    at = receivedAt;
    controller.abort(new CancelledError(name));
    setTimeout(onForcedExit, Math.max(0, FORCED_EXIT_MS - (performance.now() - at))).unref();
  };
  source.once('SIGINT', (receivedAt) => cancel('SIGINT', receivedAt));
  source.once('SIGTERM', (receivedAt) => cancel('SIGTERM', receivedAt));
  return fromController(controller, () => at);
}

/**
 * Settles as `work` does, or rejects with the signal's reason once it aborts — the work itself is
 * left to finish or not (for calls that take no signal of their own).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

let ofProcess: Cancellation | undefined;

/**
 * The one cancellation of this process: its SIGINT/SIGTERM listeners are installed once, by the
 * bundle's entry; already aborted when a signal came before.
 */
export function processCancellation(): Cancellation {
  ofProcess ??= watchCancellation();
  return ofProcess;
}

/** A cancellation that only `cancel()` triggers: for tests and for code run outside a step. */
export function manualCancellation(): Cancellation & { cancel(name?: string): void } {
  const controller = new AbortController();
  let at: number | undefined;
  return {
    ...fromController(controller, () => at),
    cancel(name = 'SIGINT') {
      if (at !== undefined) return;
      at = performance.now();
      controller.abort(new CancelledError(name));
    },
  };
}

function fromController(controller: AbortController, at: () => number | undefined): Cancellation {
  const signal = controller.signal;
  return {
    signal,
    within: (ms) => AbortSignal.any([signal, AbortSignal.timeout(ms)]),
    cleanupSignal(budgetMs = CLEANUP_BUDGET_MS) {
      const cleanup = new AbortController();
      const arm = () => {
        const left = budgetMs - (performance.now() - at()!);
        if (left <= 0) cleanup.abort(signal.reason);
        else setTimeout(() => cleanup.abort(signal.reason), left).unref();
      };
      if (signal.aborted) arm();
      else signal.addEventListener('abort', arm, { once: true });
      return cleanup.signal;
    },
    elapsedMs: () => {
      const t = at();
      return t === undefined ? undefined : performance.now() - t;
    },
  };
}
