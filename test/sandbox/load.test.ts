import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, keepAliveRace, startLoad } from '../../sandbox/load.ts';

/**
 * The load generator the nginx tests and the ssh-switch bench share: every request's end is
 * counted once and told to `onAnswer` in order; only the keep-alive race (a reused connection
 * closed before one byte of an answer) is sent again; a 5xx, a fresh connection closed and an
 * answer cut midway are failures.
 */

let url: string;
let served = 0;
const closed = { race: 0, fresh: 0, midway: 0 };
const requestsOn = new WeakMap<object, number>();
const server = createServer((req, res) => {
  served++;
  const n = (requestsOn.get(req.socket) ?? 0) + 1;
  requestsOn.set(req.socket, n);
  // A reused connection closed before any answer: the race nginx's reload causes.
  if (n >= 2 && served % 11 === 0) {
    closed.race++;
    return req.socket.destroy();
  }
  // A fresh connection closed before any answer: a real drop.
  if (n === 1 && served > 1 && closed.fresh < 3) {
    closed.fresh++;
    return req.socket.destroy();
  }
  // An answer cut after its first bytes: a real drop on any connection.
  if (served % 17 === 0) {
    closed.midway++;
    res.writeHead(200, { 'content-length': '10' });
    res.write('v', () => req.socket.destroy());
    return;
  }
  if (served % 7 === 0) {
    res.writeHead(503).end('busy');
    return;
  }
  res.end(served < 40 ? 'v1\n' : 'v2\n');
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/up`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('keepAliveRace', () => {
  it.each([
    [true, 0, 'ECONNRESET', true],
    [true, 0, 'EPIPE', true],
    [false, 0, 'ECONNRESET', false],
    [true, 12, 'ECONNRESET', false],
    [true, 0, 'ECONNREFUSED', false],
    [true, 0, undefined, false],
  ])('reused %s, %i bytes, %s: sent again %s', (reusedSocket, bytes, code, expected) => {
    expect(keepAliveRace({ reusedSocket, bytes }, code)).toBe(expected);
  });
});

describe('startLoad', () => {
  it('sends the keep-alive race again and counts every other drop, in time order', async () => {
    const answers: Answer[] = [];
    const load = startLoad(url, { workers: 2, onAnswer: (a) => answers.push(a) });
    const result = await load.stop(200);
    expect(result.ok + result.failed).toBeGreaterThanOrEqual(200);
    expect(answers).toHaveLength(result.ok + result.failed);
    expect(answers.filter((a) => a.ok)).toHaveLength(result.ok);
    expect(answers.map((a) => a.at)).toEqual([...answers.map((a) => a.at)].sort((x, y) => x - y));
    expect(closed.race).toBeGreaterThan(0);
    expect(result.retried).toBe(closed.race);
    const by = (test: (f: (typeof result.failures)[number]) => boolean) =>
      result.failures.filter(test).length;
    expect({
      fresh: by((f) => !f.reusedSocket && f.bytes === 0 && f.why === 'ECONNRESET'),
      midway: by((f) => f.bytes > 0 && f.why === 'response: aborted'),
      http503: by((f) => f.why === 'HTTP 503'),
    }).toEqual({
      fresh: closed.fresh,
      midway: closed.midway,
      http503: result.failed - closed.fresh - closed.midway,
    });
    expect(closed).toMatchObject({ fresh: 3 });
    expect(closed.midway).toBeGreaterThan(0);
    expect(result.samples.length).toBe(5);
    expect(result.bodies).toEqual(['v1', 'v2']);
  });
});
