import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, startLoad } from '../../sandbox/load.ts';

/**
 * The load generator the nginx tests and the ssh-switch bench share: every request's end is
 * counted once and told to `onAnswer` in order; a 5xx and a connection closed mid-answer are
 * failures; a GET closed before any answer is sent once more.
 */

let url: string;
let served = 0;
const server = createServer((req, res) => {
  served++;
  // Every 7th request: a 503. Every 11th: the connection destroyed before any answer.
  if (served % 11 === 0) return req.socket.destroy();
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

describe('startLoad', () => {
  it('tells onAnswer of every counted request, in time order', async () => {
    const answers: Answer[] = [];
    const load = startLoad(url, { workers: 2, onAnswer: (a) => answers.push(a) });
    const result = await load.stop(80);
    expect(result.ok + result.failed).toBeGreaterThanOrEqual(80);
    expect(answers).toHaveLength(result.ok + result.failed);
    expect(answers.filter((a) => a.ok)).toHaveLength(result.ok);
    expect(answers.map((a) => a.at)).toEqual([...answers.map((a) => a.at)].sort((x, y) => x - y));
    expect(answers.filter((a) => !a.ok).every((a) => a.why === 'HTTP 503')).toBe(true);
    expect(result.failed).toBeGreaterThan(0);
    // The destroyed connections were sent again and answered.
    expect(result.retried).toBeGreaterThan(0);
    expect(result.bodies).toEqual(['v1', 'v2']);
  });
});
