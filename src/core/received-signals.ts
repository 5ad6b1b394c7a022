/**
 * The runner's cancel (SIGINT, then SIGTERM; core/cancellation.ts) recorded
 * from the first statement of a bundle, before the ~1 MB of the action's code
 * is loaded and evaluated: a signal with no listener yet ends node at once,
 * with no `::error::`, no summary and no outputs. Each entry
 * (`src/<action>/entry.ts`) calls `recordSignals()` and only then imports the
 * action, which ncc puts in a chunk of its own. Imports nothing, so the entry
 * stays small.
 *
 * The deploy post step records them the same way and carries on: its clean-up
 * (leases, locks, the deployment's final status) is what a cancel leaves to it,
 * bounded by the forced exit. The evidence upload worker has no such entry: it
 * holds nothing, and its parent SIGKILLs it at a cancel.
 */

export type SignalName = 'SIGINT' | 'SIGTERM';

/** The events `watchCancellation` listens for; a listener is told when its signal arrived (`performance.now()` ms). */
export interface SignalSource {
  once(event: SignalName, listener: (receivedAt?: number) => void): unknown;
}

const receivedAt = new Map<SignalName, number>();
const waiting = new Map<SignalName, ((receivedAt: number) => void)[]>();
let recording = false;

/**
 * Installs this process's SIGINT and SIGTERM listeners (once): from then on a signal is kept,
 * not fatal, and handed to whoever listens through `receivedSignals`, now or later.
 */
export function recordSignals(): void {
  if (recording) return;
  recording = true;
  for (const name of ['SIGINT', 'SIGTERM'] as const)
    process.once(name, () => {
      const at = performance.now();
      receivedAt.set(name, at);
      for (const listener of waiting.get(name) ?? []) listener(at);
      waiting.delete(name);
    });
}

/**
 * This process's signals, those that arrived before anyone listened included: `once` calls a
 * listener at once (synchronously) when its signal already arrived. Records them from here on
 * when the entry did not already (a bundle's own entry always does).
 */
export const receivedSignals: SignalSource = {
  once(event, listener) {
    recordSignals();
    const at = receivedAt.get(event);
    if (at !== undefined) listener(at);
    else waiting.set(event, [...(waiting.get(event) ?? []), listener]);
  },
};
