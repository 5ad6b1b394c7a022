import { Agent, type ClientRequest, request } from 'node:http';

/** One request that did not end in an answer below 500, as the test reports it. */
export interface Failure {
  /** `performance.now()` when it ended. */
  at: number;
  /** `HTTP 502`, `response: aborted`, `ECONNRESET`... */
  why: string;
  /**
   * Whether it went out on a keep-alive connection an earlier request had used. Tracked here, not
   * read from `req.reusedSocket`: Node sets that only when the agent hands out a socket from its
   * free pool, not when a request queued at `maxSockets` gets a kept-alive socket on its `free`
   * event (lib/_http_agent.js), which is how most requests of a back-to-back load get theirs.
   */
  reusedSocket: boolean;
  /** Response bytes (status line and headers included) received before it ended. */
  bytes: number;
}

export interface LoadResult {
  ok: number;
  /** Real failures: 5xx answers, and connection errors other than the keep-alive race. */
  failed: number;
  /**
   * GETs sent again because they hit the keep-alive race (see {@link keepAliveRace}): each one
   * is counted here, not as a failure, and its request is sent until it gets an answer.
   */
  retried: number;
  /** The first few real failures, for the test's message. */
  samples: string[];
  /** Every real failure. */
  failures: Failure[];
  /** Bodies seen, in order of first appearance (which version answered). */
  bodies: string[];
}

export interface Load {
  /** Stops once `minRequests` have been counted in all, then resolves with the counts. */
  stop(minRequests: number): Promise<LoadResult>;
}

/**
 * Whether a GET's error is the keep-alive race, which a client sends again: the request went
 * out on a reused keep-alive connection that the server closed as idle at the same moment, and
 * not one byte of an answer came back. Node's http docs (`request.reusedSocket`) name this race
 * and its retry; RFC 9112 §9.3.1 lets a client retry an idempotent request on such a connection.
 * nginx closes idle keep-alive connections in workers shutting down on a graceful reload
 * (src/core/ngx_connection.c `ngx_close_idle_connections`). An error on a fresh connection,
 * or after any byte of the answer, is a real failure.
 */
export function keepAliveRace(
  failure: Pick<Failure, 'reusedSocket' | 'bytes'>,
  code: string | undefined,
): boolean {
  return failure.reusedSocket && failure.bytes === 0 && (code === 'ECONNRESET' || code === 'EPIPE');
}

/** One request's end: when, the body answered, and why it failed when it did. */
export interface Answer {
  /** `performance.now()` when it ended. */
  at: number;
  body: string;
  ok: boolean;
  /** `HTTP 502`, `response: aborted`, `ECONNRESET`... */
  why?: string;
}

export interface LoadOptions {
  workers?: number;
  /** Told of every request's end, in order (a bench times the switch with it). */
  onAnswer?: (answer: Answer) => void;
}

/** Response bytes read on the request's socket since it was assigned (headers included). */
function bytesRead(req: ClientRequest, start: number): number {
  return req.socket ? req.socket.bytesRead - start : 0;
}

/**
 * A load generator: `workers` loops of keep-alive GETs to `url`, back to back,
 * until stopped. A GET that hits the keep-alive race is sent again, as often as it
 * hits it; any other connection error or a 5xx counts as a failed request.
 */
export function startLoad(url: string, options: LoadOptions = {}): Load {
  const workers = options.workers ?? 4;
  const agent = new Agent({ keepAlive: true, maxSockets: workers });
  const result: LoadResult = { ok: 0, failed: 0, retried: 0, samples: [], failures: [], bodies: [] };
  /** Sockets that have carried a request. */
  const used = new WeakSet<object>();
  let stopping = false;
  let minimum = 0;
  const fail = (failure: Failure) => {
    result.failed++;
    result.failures.push(failure);
    if (result.samples.length < 5) {
      result.samples.push(
        `${failure.why} (${failure.reusedSocket ? 'reused' : 'new'} socket, ${failure.bytes} bytes)`,
      );
    }
    options.onAnswer?.({ at: failure.at, body: '', ok: false, why: failure.why });
  };
  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      let start = 0;
      let reused = false;
      const req = request(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const at = performance.now();
          if (status >= 500) {
            fail({ at, why: `HTTP ${status}`, reusedSocket: reused, bytes: bytesRead(req, start) });
          } else {
            result.ok++;
            if (!result.bodies.includes(body.trim())) result.bodies.push(body.trim());
            options.onAnswer?.({ at, body: body.trim(), ok: true });
          }
          resolve();
        });
        res.on('error', (error) => {
          fail({
            at: performance.now(),
            why: `response: ${error.message}`,
            reusedSocket: reused,
            bytes: bytesRead(req, start),
          });
          resolve();
        });
      });
      req.on('socket', (socket) => {
        start = socket.bytesRead;
        reused = used.has(socket);
        used.add(socket);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        const failure = {
          at: performance.now(),
          why: error.code ?? error.message,
          reusedSocket: reused,
          bytes: bytesRead(req, start),
        };
        if (keepAliveRace(failure, error.code)) {
          result.retried++;
          resolve(one());
          return;
        }
        fail(failure);
        resolve();
      });
      req.end();
    });
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
