import { describe, expect, it } from 'vitest';
import { wakeMachine } from '../../src/config-update/wake.ts';
import { ApiError } from '../../src/core/errors.ts';
import type { StartResult } from '../../src/providers/fly/machines.ts';

/** wakeMachine against scripted Machines API answers: what it asks, in order, and how it ends. */

const refused: StartResult = {
  previousState: undefined,
  refused: 'unable to start machine from current state: suspending',
};
const started: StartResult = { previousState: 'suspended' };
const timeout408 = new ApiError({
  provider: 'fly',
  operation: 'Machines_wait',
  request: 'GET /v1/apps/a/machines/m1/wait',
  status: 408,
  retryable: true,
  attempts: 1,
});
const gone404 = new ApiError({
  provider: 'fly',
  operation: 'Machines_wait',
  request: 'GET /v1/apps/a/machines/m1/wait',
  status: 404,
  retryable: false,
  attempts: 1,
});

describe('wakeMachine', () => {
  it.each([
    {
      name: 'a stopped machine: one start, one wait',
      starts: [started],
      waits: ['started'],
      calls: ['start', 'wait'],
      error: undefined,
    },
    {
      name: 'suspending: 412 twice, then started',
      starts: [refused, refused, started],
      waits: ['started'],
      calls: ['start', 'sleep 500', 'start', 'sleep 1000', 'start', 'wait'],
      error: undefined,
    },
    {
      name: 'the wait ends with 408 first: asked again',
      starts: [started],
      waits: [timeout408, 'started'],
      calls: ['start', 'wait', 'wait'],
      error: undefined,
    },
    {
      name: 'any other wait error ends it',
      starts: [started],
      waits: [gone404],
      calls: ['start', 'wait'],
      error: 'answered GET /v1/apps/a/machines/m1/wait with HTTP 404',
    },
  ])('$name', async ({ starts, waits, calls, error }) => {
    const seen: string[] = [];
    const machines = {
      start: async () => {
        seen.push('start');
        return starts.shift()!;
      },
      wait: async () => {
        seen.push('wait');
        const next = waits.shift()!;
        if (next instanceof Error) throw next;
        return { state: next };
      },
    };
    const woke = wakeMachine(machines, 'm1', {
      timeoutMs: 60_000,
      sleep: async (ms) => {
        seen.push(`sleep ${ms}`);
      },
    });
    if (error) await expect(woke).rejects.toThrow(error);
    else await woke;
    expect(seen).toEqual(calls);
  });

  it('gives up once the timeout passed while the start is still refused, naming the reason', async () => {
    const machines = { start: async () => refused, wait: async () => ({ state: 'started' }) };
    await expect(wakeMachine(machines, 'm1', { timeoutMs: 0, sleep: async () => {} })).rejects.toThrow(
      'POST /start still answered 412 after 0 ms: unable to start machine from current state: suspending',
    );
  });
});
