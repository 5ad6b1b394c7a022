import { describe, expect, it } from 'vitest';
import { buildPlan, type PlannedUnit } from '../../src/config-update/plan.ts';
import { type SelectedTarget, selectKamalTargets } from '../../src/config-update/targets.ts';
import { describeFailure, runFanout, type Send, type TargetResult } from '../../src/config-update/update.ts';
import { ApiError } from '../../src/core/errors.ts';

const request = { method: 'POST', headers: {}, body: undefined, authToken: undefined };
const plan = (n: number): PlannedUnit[] =>
  buildPlan(request, selectKamalTargets(Array.from({ length: n }, (_, i) => `https://h${i}.test/u`)));
const options = { concurrency: 2, retries: 0, timeoutMs: 1000, deadlineMs: 5000 };
const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(
        new ApiError({
          provider: 'x',
          operation: 'update',
          request: 'POST /update',
          retryable: false,
          attempts: 1,
        }),
      );
    });
  });

describe('runFanout', () => {
  it('keeps at most `concurrency` in flight and reports each target as it finishes', async () => {
    let inFlight = 0;
    let peak = 0;
    const latency: Record<string, number> = { 'https://h0.test/u': 80, 'https://h1.test/u': 10 };
    const send: Send = async (call) => {
      peak = Math.max(peak, ++inFlight);
      await delay(latency[call.url] ?? 30);
      inFlight--;
      return { status: 204, attempts: 1 };
    };
    const finished: string[] = [];
    const results = await runFanout(plan(5), options, { send, onFinish: (r) => finished.push(r.id) });
    expect(peak).toBe(2);
    expect(results.map((r) => r.id)).toEqual(['h0.test', 'h1.test', 'h2.test', 'h3.test', 'h4.test']);
    expect(finished[0]).toBe('h1.test');
    expect(finished.indexOf('h0.test')).toBeGreaterThan(1);
    expect(results.every((r) => r.outcome === 'ok' && r.status === 204)).toBe(true);
  });

  it('turns a failed send into data with its status and attempts', async () => {
    const send: Send = async () => {
      throw new ApiError({
        provider: 'Update endpoint',
        operation: 'update',
        request: 'POST /update',
        status: 502,
        providerMessage: 'bad gateway',
        retryable: true,
        attempts: 4,
      });
    };
    const [r] = await runFanout(plan(1), options, { send });
    expect(r).toMatchObject({ outcome: 'failed', status: 502, attempts: 4, error: 'HTTP 502: bad gateway' });
  });

  it('at the deadline aborts what is in flight and fails what never started', async () => {
    const send: Send = async (_call, o) => {
      await delay(10_000, o.signal);
      return { status: 200, attempts: 1 };
    };
    const started = performance.now();
    const results = await runFanout(plan(4), { ...options, deadlineMs: 150 }, { send });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(results.map((r) => [r.outcome, r.attempts, r.error])).toEqual([
      ['failed', 1, 'cut: the deadline of 0.15 s passed after 1 attempt'],
      ['failed', 1, 'cut: the deadline of 0.15 s passed after 1 attempt'],
      ['failed', 0, 'not started: the deadline of 0.15 s passed'],
      ['failed', 0, 'not started: the deadline of 0.15 s passed'],
    ]);
  });

  it('wakes a machine before its call, and reports a failed wake without sending', async () => {
    const events: string[] = [];
    const selected: SelectedTarget[] = ['ok', 'stuck'].map((id) => ({
      target: { id, region: 'ams', url: 'https://a.test/u', machineId: id, state: 'stopped' },
      disposition: 'wake',
    }));
    const send: Send = async (call) => {
      events.push(`send ${call.headers['fly-force-instance-id']}`);
      return { status: 200, attempts: 1 };
    };
    const results: TargetResult[] = await runFanout(
      buildPlan(request, selected),
      { ...options, concurrency: 1 },
      {
        send,
        machines: () => ({
          start: async (id) => {
            events.push(`start ${id}`);
            return { previousState: 'stopped' };
          },
          wait: async (id, o) => {
            events.push(`wait ${id} ${o.state} ${o.timeoutSeconds}`);
            if (id === 'stuck') throw new Error('machine did not reach started');
            return { state: 'started' };
          },
        }),
      },
    );
    expect(events).toEqual([
      'start ok',
      'wait ok started 1',
      'send ok',
      'start stuck',
      'wait stuck started 1',
    ]);
    expect(results[0]).toMatchObject({ outcome: 'ok', woken: true });
    expect(results[1]).toMatchObject({
      outcome: 'failed',
      attempts: 0,
      status: null,
      error: 'waking the machine: machine did not reach started',
    });
  });
});

describe('describeFailure', () => {
  it.each([
    [
      new ApiError({
        provider: 'p',
        operation: 'o',
        request: 'GET /o',
        status: 500,
        body: 'x'.repeat(400),
        retryable: true,
        attempts: 1,
      }),
      `HTTP 500: ${'x'.repeat(109)}…`,
    ],
    [
      new ApiError({
        provider: 'p',
        operation: 'o',
        request: 'GET /o',
        retryable: true,
        attempts: 2,
        cause: new Error('ECONNRESET: socket hang up'),
      }),
      'ECONNRESET: socket hang up',
    ],
    [new Error('line one\n  line two'), 'line one line two'],
  ])('%#', (error, text) => {
    expect(describeFailure(error)).toBe(text);
  });
});
