import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  cancelSignalName,
  FORCED_EXIT_MS,
  watchCancellation,
} from '../../src/core/cancellation.ts';
import type { SignalName, SignalSource } from '../../src/core/received-signals.ts';

/** A source whose `signal` already came `agoMs` ago, as core/received-signals.ts hands over one received while the bundle loaded. */
function alreadyReceived(signal: SignalName, agoMs: number): SignalSource {
  const receivedAt = performance.now() - agoMs;
  return {
    once(event, listener) {
      if (event === signal) listener(receivedAt);
    },
  };
}

describe('a signal that came before the run listened', () => {
  it('starts the run cancelled, its budgets counted from when the signal came', () => {
    const cancellation = watchCancellation(alreadyReceived('SIGTERM', 5000), () => {});
    expect(cancellation.signal.aborted).toBe(true);
    expect(cancellation.signal.reason).toBeInstanceOf(CancelledError);
    expect(cancelSignalName(cancellation.signal)).toBe('SIGTERM');
    expect(cancellation.elapsedMs()).toBeGreaterThanOrEqual(5000);
    // 4.5 s of clean-up were over 0.5 s ago; a minute's are not.
    expect(cancellation.cleanupSignal(4500).aborted).toBe(true);
    expect(cancellation.cleanupSignal(60_000).aborted).toBe(false);
  });

  it('exits at once when FORCED_EXIT_MS have passed since it came', async () => {
    const exits: string[] = [];
    watchCancellation(alreadyReceived('SIGINT', FORCED_EXIT_MS + 1), () => exits.push('forced'));
    // A timer set after it, for no time: it fires after the forced exit's.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(exits).toEqual(['forced']);
  });

  it('a source with no signal yet leaves the run going', () => {
    const cancellation = watchCancellation({ once: () => {} }, () => {});
    expect(cancellation.signal.aborted).toBe(false);
    expect(cancellation.elapsedMs()).toBeUndefined();
    expect(cancellation.cleanupSignal().aborted).toBe(false);
  });
});
