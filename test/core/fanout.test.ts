import { describe, expect, it } from 'vitest';
import { mapConcurrent, STARTS_PER_TURN } from '../../src/core/fanout.ts';

const tick = (ms = 0) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('mapConcurrent', () => {
  it.each([
    [0, 3],
    [1, 1],
    [5, 2],
    [5, 8],
    [20, 4],
  ])('%i items at concurrency %i: results in input order, never more in flight', async (n, concurrency) => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await mapConcurrent(
      Array.from({ length: n }, (_, i) => i),
      async (item, index) => {
        started.push(index);
        peak = Math.max(peak, ++inFlight);
        await tick((n - item) % 3);
        inFlight--;
        return item * 10;
      },
      { concurrency },
    );
    expect(results).toEqual(Array.from({ length: n }, (_, i) => i * 10));
    expect(started).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(peak).toBe(Math.min(n, concurrency));
  });

  it('rejects with the first error a task throws and starts no task after it', async () => {
    const started: number[] = [];
    const run = mapConcurrent(
      [0, 1, 2, 3, 4, 5],
      async (item) => {
        started.push(item);
        await tick(item === 1 ? 0 : 5);
        if (item === 1) throw new Error('boom 1');
        return item;
      },
      { concurrency: 2 },
    );
    await expect(run).rejects.toThrow('boom 1');
    await tick(30);
    expect(started).toEqual([0, 1]);
  });

  it('rejects with the reason of an aborted signal and starts nothing more; started tasks run on', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const finished: number[] = [];
    const run = mapConcurrent(
      [0, 1, 2, 3],
      async (item) => {
        started.push(item);
        await tick(10);
        finished.push(item);
        return item;
      },
      { concurrency: 2, signal: controller.signal },
    );
    const reason = new Error('cancelled');
    await tick(1);
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    await tick(30);
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([0, 1]);
    const already = new AbortController();
    already.abort(reason);
    await expect(mapConcurrent([1], async (x) => x, { concurrency: 1, signal: already.signal })).rejects.toBe(
      reason,
    );
  });

  it(`starts at most ${STARTS_PER_TURN} tasks in one event-loop turn, in input order, the rest in the next turns`, async () => {
    // A check-phase ticker queued before the fan-out: each of its callbacks ends one turn.
    let turn = 0;
    let running = true;
    const tickTurn = () => {
      turn++;
      if (running) setImmediate(tickTurn);
    };
    setImmediate(tickTurn);
    const n = STARTS_PER_TURN * 2 + 5;
    const started: { index: number; turn: number }[] = [];
    const results = await mapConcurrent(
      Array.from({ length: n }, (_, i) => i),
      async (item, index) => {
        started.push({ index, turn });
        await tick(5);
        return item;
      },
      { concurrency: n },
    );
    running = false;
    expect(results).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(started.map((s) => s.index)).toEqual(Array.from({ length: n }, (_, i) => i));
    const perTurn = new Map<number, number>();
    for (const s of started) perTurn.set(s.turn, (perTurn.get(s.turn) ?? 0) + 1);
    expect([...perTurn.values()]).toEqual([STARTS_PER_TURN, STARTS_PER_TURN, 5]);
    expect([...perTurn.keys()]).toEqual([0, 1, 2]);
  });

  it('starts no task still waiting for its turn once another has thrown or the signal is aborted', async () => {
    const started: number[] = [];
    const n = STARTS_PER_TURN + 4;
    const run = mapConcurrent(
      Array.from({ length: n }, (_, i) => i),
      async (item) => {
        started.push(item);
        if (item === STARTS_PER_TURN - 1) throw new Error('boom');
        await tick(5);
        return item;
      },
      { concurrency: n },
    );
    await expect(run).rejects.toThrow('boom');
    await tick(20);
    expect(started).toEqual(Array.from({ length: STARTS_PER_TURN }, (_, i) => i));

    const controller = new AbortController();
    const reason = new Error('cancelled');
    const begun: number[] = [];
    const aborted = mapConcurrent(
      Array.from({ length: n }, (_, i) => i),
      async (item) => {
        begun.push(item);
        if (item === STARTS_PER_TURN - 1) controller.abort(reason);
        await tick(5);
        return item;
      },
      { concurrency: n, signal: controller.signal },
    );
    await expect(aborted).rejects.toBe(reason);
    await tick(20);
    expect(begun).toEqual(Array.from({ length: STARTS_PER_TURN }, (_, i) => i));
  });
});
