import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/core/errors.ts';
import { attemptSignal, buildUrl, HttpClient, providerMessage } from '../../src/core/http.ts';
import { Secrets } from '../../src/core/secrets.ts';

type Behaviour = (req: IncomingMessage, res: ServerResponse, call: number) => void;

let server: Server;
let base: string;
const sockets = new Set<Socket>();
let behaviour: Behaviour;
let calls: { method: string; url: string; at: number }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    calls.push({ method: req.method ?? '', url: req.url ?? '', at: performance.now() });
    req.resume();
    req.on('end', () => behaviour(req, res, calls.length));
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
beforeEach(() => {
  calls = [];
});

const SECRET = 'tok-0123456789-secret';
function client(extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
  const secrets = new Secrets(() => {});
  secrets.add(SECRET);
  return new HttpClient({
    provider: 'Test',
    baseUrl: `${base}/v1`,
    headers: { authorization: `Bearer ${SECRET}` },
    timeoutMs: 2000,
    retry: { retries: 3, baseDelayMs: 10, maxDelayMs: 50 },
    redact: (t) => secrets.redact(t),
    ...extra,
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

describe('HttpClient against a loopback server', () => {
  it('retries a GET on 503 and reports the attempts', async () => {
    behaviour = (_q, res, n) => (n < 3 ? json(res, 503, { error: 'busy' }) : json(res, 200, { ok: true }));
    const res = await client().request<{ ok: boolean }>({ operation: 'things.list', path: '/things' });
    expect(res.data).toEqual({ ok: true });
    expect(res.attempts).toBe(3);
    expect(calls.map((c) => c.url)).toEqual(['/v1/things', '/v1/things', '/v1/things']);
  });

  it('gives up after the retries and says how many attempts were made', async () => {
    behaviour = (_q, res) => json(res, 500, { error: 'always broken' }, { 'fly-request-id': 'req-77' });
    const error = await client()
      .request({ operation: 'things.list', path: '/things' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const api = error as ApiError;
    expect(calls).toHaveLength(4);
    expect(api.attempts).toBe(4);
    expect(api.status).toBe(500);
    expect(api.requestId).toBe('req-77');
    expect(api.message).toBe(
      'Test answered GET /v1/things with HTTP 500: always broken (4 attempts, request id req-77)',
    );
  });

  it('does not retry a POST on 503 unless the caller marks it safe', async () => {
    behaviour = (_q, res) => json(res, 503, { error: 'busy' });
    await expect(
      client().request({ operation: 'things.create', method: 'POST', path: '/things', json: {} }),
    ).rejects.toThrow(ApiError);
    expect(calls).toHaveLength(1);

    calls = [];
    behaviour = (_q, res, n) => (n === 1 ? json(res, 503, { error: 'busy' }) : json(res, 201, { id: 1 }));
    const res = await client().request({
      operation: 'things.create',
      method: 'POST',
      path: '/things',
      json: {},
      retrySafe: true,
    });
    expect(res.status).toBe(201);
    expect(calls).toHaveLength(2);
  });

  it('waits out 429 with Retry-After before the next attempt', async () => {
    behaviour = (_q, res, n) =>
      n === 1 ? json(res, 429, { error: 'slow down' }, { 'retry-after': '1' }) : json(res, 200, {});
    const res = await client().request({ operation: 'things.list', path: '/things' });
    expect(res.attempts).toBe(2);
    const gap = calls[1]!.at - calls[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
  });

  it('cuts a hanging server at the per-attempt timeout', async () => {
    behaviour = () => {};
    const started = performance.now();
    const error = (await client({ timeoutMs: 300, retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } })
      .request({ operation: 'things.list', path: '/things' })
      .catch((e: unknown) => e)) as ApiError;
    const took = performance.now() - started;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toContain('no answer within 300 ms');
    expect(calls).toHaveLength(2);
    expect(took).toBeLessThan(5000);
  });

  it('retries a dropped connection on GET', async () => {
    behaviour = (req, res, n) => (n === 1 ? req.socket.destroy() : json(res, 200, { fine: 1 }));
    const res = await client().request({ operation: 'things.list', path: '/things' });
    expect(res.attempts).toBe(2);
  });

  it('hands back statuses the caller accepts instead of throwing', async () => {
    behaviour = (_q, res) => json(res, 404, { id: 'not_found', message: "Couldn't find that app." });
    const res = await client().request({ operation: 'apps.info', path: '/apps/x', acceptStatus: [404] });
    expect(res.status).toBe(404);
    expect(calls).toHaveLength(1);
  });

  it('removes an echoed secret from the error body and message', async () => {
    behaviour = (_q, res) => json(res, 401, { message: `invalid token ${SECRET}` });
    const error = (await client()
      .request({ operation: 'apps.info', path: '/apps/x' })
      .catch((e: unknown) => e)) as ApiError;
    expect(error.message).not.toContain(SECRET);
    expect(error.body).not.toContain(SECRET);
    expect(error.message).toContain('[REDACTED:secret]');
  });

  it('stops at once when the overall signal is aborted', async () => {
    behaviour = (_q, res) => json(res, 503, {}, { 'retry-after': '30' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = performance.now();
    await expect(
      client({ signal: controller.signal }).request({ operation: 'things.list', path: '/things' }),
    ).rejects.toThrow(/cancelled/);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe('attemptSignal: one attempt cut by the outer signal or its timeout, nothing kept after', () => {
  it('keeps one listener on the outer signal for any number of attempts, and none once they are over', async () => {
    const outer = new AbortController();
    const listeners: number[] = [];
    // Counted while each request is at the server, its attempt in flight.
    behaviour = (_q, res) => {
      listeners.push(getEventListeners(outer.signal, 'abort').length);
      json(res, 200, { ok: true });
    };
    const http = client({ signal: outer.signal });
    await Promise.all(
      Array.from({ length: 50 }, () => http.request({ operation: 'things.list', path: '/things' })),
    );
    expect(calls).toHaveLength(50);
    expect(new Set(listeners)).toEqual(new Set([1]));
    // The attempts are over: aborting now reaches no request (the one listener finds none to cut).
    const after = attemptSignal(outer.signal, 60_000);
    after.release();
    outer.abort(new Error('late'));
    expect(after.signal.aborted).toBe(false);
  });

  it('aborts with the outer reason, or with a TimeoutError after its time', async () => {
    const outer = new AbortController();
    const cut = attemptSignal(outer.signal, 60_000);
    const reason = new Error('deadline');
    outer.abort(reason);
    expect(cut.signal.reason).toBe(reason);
    cut.release();
    expect(attemptSignal(outer.signal, 60_000).signal.reason).toBe(reason);
    const timed = attemptSignal(undefined, 5);
    await new Promise((r) => timed.signal.addEventListener('abort', r));
    expect(timed.signal.reason).toMatchObject({ name: 'TimeoutError', message: 'no answer within 5 ms' });
  });
});

/**
 * One wait mechanism: the backoff before a retry, a Retry-After on a 503 and a provider's rate
 * limit are all judged against the one bound, logged once each, and counted together.
 */
describe('every wait of a request, judged against one bound', () => {
  function recorded(extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
    const slept: number[] = [];
    const lines: string[] = [];
    const http = client({
      retry: { retries: 3, baseDelayMs: 1000, maxDelayMs: 8000 },
      random: () => 0.5,
      sleep: async (ms) => {
        slept.push(ms);
      },
      log: (line) => lines.push(String(line)),
      ...extra,
    });
    return { http, slept, lines };
  }

  it('logs each retry wait once, naming the provider, the request and the answer', async () => {
    behaviour = (_q, res, n) => (n < 3 ? json(res, 503, { error: 'busy' }) : json(res, 200, {}));
    const { http, slept, lines } = recorded();
    const res = await http.request({ operation: 'things.list', path: '/things' });
    expect(res.attempts).toBe(3);
    expect(slept).toEqual([500, 1000]);
    expect(lines).toEqual([
      'retrying Test GET /v1/things after HTTP 503 (retry 1 of 3), waiting 0.5 s',
      'retrying Test GET /v1/things after HTTP 503 (retry 2 of 3), waiting 1 s',
    ]);
  });

  it('does not wait a Retry-After that would pass the bound: fails at once, saying why', async () => {
    behaviour = (_q, res) => json(res, 503, { error: 'maintenance' }, { 'retry-after': '30' });
    const { http, slept, lines } = recorded({ waitBound: { budgetMs: 10_000, name: 'the input timeout' } });
    const error = (await http
      .request({ operation: 'things.list', path: '/things' })
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe(
      'Test answered GET /v1/things with HTTP 503: maintenance. Not retried: waiting 30 s would pass the input timeout (at most 10 s of waits in all).',
    );
    expect(calls).toHaveLength(1);
    expect(slept).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('counts a rate-limit wait and a retry wait against the same bound', async () => {
    behaviour = (_q, res, n) =>
      n === 1 ? json(res, 429, {}) : json(res, 503, { error: 'busy' }, { 'retry-after': '5' });
    const { http, slept, lines } = recorded({
      waitBound: { budgetMs: 10_000, name: 'the input timeout' },
      rateLimit: {
        limited: ({ status }) => (status === 429 ? { waitMs: 8000, limit: 'HTTP 429' } : undefined),
      },
    });
    const error = (await http
      .request({ operation: 'things.list', path: '/things' })
      .catch((e: unknown) => e)) as ApiError;
    expect(error.message).toMatch(
      /with HTTP 503: busy \(2 attempts\)\. Not retried: waiting 5 s would pass the input timeout \(at most 10 s of waits in all, 8 s already waited\)\.$/,
    );
    expect(slept).toEqual([8000]);
    expect(lines).toEqual(['rate limited by Test, waiting 8 s (HTTP 429; things.list)']);
  });

  it('lets a client narrow the retried statuses to its own client’s set', async () => {
    behaviour = (_q, res) => json(res, 503, { error: { code: 'maintenance', message: 'down' } });
    const { http } = recorded({ isRetryable: (status) => status === 502 });
    await expect(http.request({ operation: 'things.list', path: '/things' })).rejects.toThrow(/HTTP 503/);
    expect(calls).toHaveLength(1);
  });
});

describe('buildUrl', () => {
  it.each([
    [
      'https://api.machines.dev/v1',
      '/apps/a/machines',
      undefined,
      'https://api.machines.dev/v1/apps/a/machines',
    ],
    ['https://api.machines.dev/v1/', 'apps/a', undefined, 'https://api.machines.dev/v1/apps/a'],
    ['https://x.test', '/zones', { name: 'a.com', page: 2 }, 'https://x.test/zones?name=a.com&page=2'],
    ['https://x.test', '/z?a=1', { b: 'c d', skip: undefined }, 'https://x.test/z?a=1&b=c+d'],
    ['https://x.test', 'https://other.test/stream', undefined, 'https://other.test/stream'],
  ] as const)('%s + %s', (baseUrl, path, query, expected) => {
    expect(buildUrl(baseUrl, path, query)).toBe(expected);
  });
});

describe('providerMessage reads each provider error shape', () => {
  it.each([
    ['Heroku', '{"id":"not_found","message":"Couldn\'t find that app."}', "Couldn't find that app."],
    [
      'Hetzner',
      '{"error":{"code":"not_found","message":"zone not found","details":{}}}',
      'not_found: zone not found',
    ],
    [
      'Cloudflare',
      '{"success":false,"errors":[{"code":7003,"message":"Could not route"}]}',
      'Could not route',
    ],
    ['Fly', '{"error":"machine not found"}', 'machine not found'],
    ['GitHub', '{"message":"Not Found","documentation_url":"x"}', 'Not Found'],
    ['not JSON', '<html>502</html>', undefined],
  ])('%s', (_p, body, expected) => {
    expect(providerMessage(body)).toBe(expected);
  });
});
