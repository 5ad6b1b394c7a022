import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../src/core/action.ts';
import { ApiError, EnvironmentError } from '../../src/core/errors.ts';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  HttpClient,
  REQUEST_TIMEOUT_VARIABLE,
  requestTimeoutFromEnv,
} from '../../src/core/http.ts';
import { recordingToolkit } from '../helpers/toolkit.ts';

/** OPS_ACTIONS_REQUEST_TIMEOUT: the per-attempt timeout of provider calls, in seconds, for every action. */

describe('requestTimeoutFromEnv', () => {
  it.each([
    [undefined, DEFAULT_REQUEST_TIMEOUT_MS],
    ['', DEFAULT_REQUEST_TIMEOUT_MS],
    ['  ', DEFAULT_REQUEST_TIMEOUT_MS],
    ['2', 2000],
    [' 5 ', 5000],
    ['0.5', 500],
    ['3600', 3_600_000],
  ])('%j → %d ms', (value, ms) => {
    expect(requestTimeoutFromEnv(value === undefined ? {} : { [REQUEST_TIMEOUT_VARIABLE]: value })).toBe(ms);
  });

  it.each(['0', '-1', 'abc', '2s', '1e3', '3601', 'NaN', '.5'])(
    'refuses %j, naming the variable',
    (value) => {
      const error = (() => {
        try {
          requestTimeoutFromEnv({ [REQUEST_TIMEOUT_VARIABLE]: value });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(EnvironmentError);
      expect((error as Error).message).toBe(
        `Environment variable OPS_ACTIONS_REQUEST_TIMEOUT must be a number of seconds above 0 and at most 3600 (the per-attempt timeout of provider API calls), not "${value.trim()}"`,
      );
    },
  );
});

describe('HttpClient per-attempt timeout from the environment', () => {
  let server: Server;
  let base: string;
  const sockets = new Set<Socket>();
  let calls = 0;
  beforeAll(async () => {
    server = createServer(() => {
      calls++; // never answers
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const client = (extra: Partial<ConstructorParameters<typeof HttpClient>[0]>) =>
    new HttpClient({
      provider: 'Test',
      baseUrl: base,
      redact: (t) => t,
      retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 },
      ...extra,
    });

  it('cuts each attempt at the variable when the client sets no timeout of its own', async () => {
    calls = 0;
    const error = await client({ env: { [REQUEST_TIMEOUT_VARIABLE]: '0.3' } })
      .request({ operation: 'things.list', path: '/things' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toContain('no answer within 300 ms');
    expect((error as ApiError).attempts).toBe(2);
    expect(calls).toBe(2);
  });

  it("a client's own timeout and a request's own timeout (a long poll) win over the variable", async () => {
    const env = { [REQUEST_TIMEOUT_VARIABLE]: '3600' };
    const own = await client({ env, timeoutMs: 200, retry: { retries: 0 } })
      .request({ operation: 'things.list', path: '/things' })
      .catch((e: unknown) => e);
    expect((own as ApiError).message).toContain('no answer within 200 ms');
    const perRequest = await client({ env, retry: { retries: 0 } })
      .request({ operation: 'things.wait', path: '/things', timeoutMs: 250 })
      .catch((e: unknown) => e);
    expect((perRequest as ApiError).message).toContain('no answer within 250 ms');
  });
});

describe('runAction with a bad OPS_ACTIONS_REQUEST_TIMEOUT', () => {
  it('fails with one error naming the variable before the inputs are parsed or anything runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'request-timeout-'));
    const toolkit = recordingToolkit();
    let ran = false;
    let parsed = false;
    await runAction(
      {
        action: 'probe',
        secretInputs: [],
        parseInputs: () => {
          parsed = true;
          return {};
        },
        run: async () => {
          ran = true;
        },
      },
      { RUNNER_TEMP: dir, [REQUEST_TIMEOUT_VARIABLE]: 'soon' },
      toolkit,
    );
    expect(parsed).toBe(false);
    expect(ran).toBe(false);
    expect(toolkit.said.filter((s) => s.kind === 'failed' || s.kind === 'error')).toEqual([
      {
        kind: 'failed',
        text: 'Environment variable OPS_ACTIONS_REQUEST_TIMEOUT must be a number of seconds above 0 and at most 3600 (the per-attempt timeout of provider API calls), not "soon"',
      },
    ]);
    expect(toolkit.said.some((s) => s.kind === 'debug')).toBe(false);
    expect(toolkit.last('output', 'log-file')).toContain(dir);
  });
});
