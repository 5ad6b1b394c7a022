import { Agent, request } from 'node:http';

export interface LoadResult {
  ok: number;
  /** Connection errors and 5xx answers. */
  failed: number;
  /**
   * Requests sent again because the server closed an idle keep-alive connection as they went
   * out (a reused socket reset before any answer): HTTP lets a client retry an idempotent
   * request then (RFC 9112 §9.3.1), and Node's docs show it (http `request.reusedSocket`).
   */
  retried: number;
  /** The first few failures, for the test's message. */
  samples: string[];
  /** Bodies seen, in order of first appearance (which version answered). */
  bodies: string[];
}

export interface Load {
  /** Stops once `minRequests` have been sent in all, then resolves with the counts. */
  stop(minRequests: number): Promise<LoadResult>;
}

/**
 * A load generator: `workers` loops of keep-alive GETs to `url`, back to back,
 * until stopped. Any connection error or 5xx counts as a failed request.
 */
export function startLoad(url: string, workers = 4): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: workers });
  const result: LoadResult = { ok: 0, failed: 0, retried: 0, samples: [], bodies: [] };
  let stopping = false;
  let minimum = 0;
  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const req = request(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 500) fail(`HTTP ${status}`);
          else {
            result.ok++;
            const text = body.trim();
            if (!result.bodies.includes(text)) result.bodies.push(text);
          }
          resolve();
        });
        res.on('error', (error) => {
          fail(error.message);
          resolve();
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          result.retried++;
          resolve(one());
          return;
        }
        fail(error.message);
        resolve();
      });
      req.end();
    });
  const fail = (why: string) => {
    result.failed++;
    if (result.samples.length < 5) result.samples.push(why);
  };
  const loops = Array.from({ length: workers }, async () => {
    while (!stopping || result.ok + result.failed < minimum) await one();
  });
  return {
    async stop(minRequests) {
      minimum = minRequests;
      stopping = true;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}
