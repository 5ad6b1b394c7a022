import { Agent, request } from 'node:http';

export interface LoadResult {
  ok: number;
  /** Connection errors and 5xx answers. */
  failed: number;
  /** GETs sent once more after their connection was closed before any answer (see {@link closedBeforeAnswer}). */
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
 * Whether a GET's error is its connection closed before any answer, which a client may send
 * again (idempotent requests, RFC 9110 §9.2.2; RFC 9112 §9.3.1), as browsers do. nginx causes
 * it on every reload on two kinds of socket: a reused keep-alive one the old worker closes as
 * idle, and a new one the old worker accepted but had not read yet, also idle to it
 * (nginx src/core/ngx_connection.c `ngx_close_idle_connections`, run by a worker shutting down
 * gracefully).
 */
export function closedBeforeAnswer(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ECONNRESET' || error.code === 'EPIPE';
}

/** One request's end: when, the body answered, and why it failed when it did. */
export interface Answer {
  /** `performance.now()` when it ended. */
  at: number;
  body: string;
  ok: boolean;
  /** `HTTP 502`, `response: aborted`, `ECONNRESET (new socket)`... */
  why?: string;
}

export interface LoadOptions {
  workers?: number;
  /** Told of every request's end, in order (a bench times the switch with it). */
  onAnswer?: (answer: Answer) => void;
}

/**
 * A load generator: `workers` loops of keep-alive GETs to `url`, back to back,
 * until stopped. Any connection error or 5xx counts as a failed request.
 */
export function startLoad(url: string, options: LoadOptions = {}): Load {
  const workers = options.workers ?? 4;
  const agent = new Agent({ keepAlive: true, maxSockets: workers });
  const result: LoadResult = { ok: 0, failed: 0, retried: 0, samples: [], bodies: [] };
  let stopping = false;
  let minimum = 0;
  const answer = (a: Answer) => {
    if (a.ok) {
      result.ok++;
      if (!result.bodies.includes(a.body)) result.bodies.push(a.body);
    } else {
      result.failed++;
      if (result.samples.length < 5) result.samples.push(a.why ?? 'failed');
    }
    options.onAnswer?.(a);
  };
  const one = (attempt = 1): Promise<void> =>
    new Promise<void>((resolve) => {
      const req = request(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          answer({
            at: performance.now(),
            body: body.trim(),
            ok: status < 500,
            ...(status >= 500 ? { why: `HTTP ${status}` } : {}),
          });
          resolve();
        });
        res.on('error', (error) => {
          answer({ at: performance.now(), body: '', ok: false, why: `response: ${error.message}` });
          resolve();
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (attempt === 1 && closedBeforeAnswer(error)) {
          result.retried++;
          resolve(one(2));
          return;
        }
        answer({
          at: performance.now(),
          body: '',
          ok: false,
          why: `${error.code ?? error.message}${req.reusedSocket ? ' (reused socket)' : ' (new socket)'}`,
        });
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
