import type { getOctokit } from '@actions/github';
import type { ThrottlingOptions } from '@octokit/plugin-throttling';
import { ApiError, EnvironmentError } from '../../core/errors.ts';
import {
  abortableSleep,
  excerpt,
  isRefusal,
  providerMessage,
  requestTimeoutFromEnv,
} from '../../core/http.ts';
import { ComposedError, type Line, msg, own } from '../../core/message.ts';
import { loadUndici, namingProxy } from '../../core/undici.ts';
import { describeRateLimit, type RateLimitKind } from './rate-limit.ts';

/**
 * The GitHub REST client every GitHub resource module shares: the official
 * Octokit of @actions/github with @octokit/plugin-retry (5xx and network
 * errors, 3 retries) and @octokit/plugin-throttling (GitHub's rate limits).
 *
 * Octokit is loaded on the first request only, so a run without a GitHub
 * token, or one that sends nothing, never pays for it.
 *
 * Rate limits, as GitHub documents them ("Rate limits for the REST API",
 * https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api)
 * and as plugin-throttling reads them (src/index.ts of octokit/plugin-throttling.js):
 * - primary: 403 or 429 with `x-ratelimit-remaining: 0`; wait until
 *   `x-ratelimit-reset` (UTC epoch seconds) plus one second;
 * - secondary: 403 or 429 whose message says "secondary rate limit"; wait
 *   `retry-after` seconds, or 60 s when it is absent ("wait for at least one
 *   minute");
 * - any other 429 with `retry-after` (seconds): waited like a secondary limit,
 *   as every provider's 429 is (the spec's retry rule); plugin-throttling
 *   leaves it alone and plugin-retry would ignore the header.
 * The plugin only names the limit: each wait is taken by this client, cut by
 * the call's signal (`GitHubRequest.signal`, else the client's), and only while the request's waits, added up, stay within
 * `rateLimitBudget.ms`; otherwise the request fails at once with an
 * `ApiError` naming the limit, when it resets and the bound it would pass.
 */

export interface GitHubClientOptions {
  apiUrl: string;
  token: string;
  redact: (text: string) => string;
  /** Cuts every request and every wait, e.g. cancellation. */
  signal?: AbortSignal;
  /** How long one request may wait for rate limits in all, and what sets that bound (for messages). */
  rateLimitBudget: { ms: number; bound: string };
  /** Receives one line per rate-limit wait ("rate limited by GitHub, waiting 3 s …") and Octokit's warnings. */
  log: (line: Line) => void;
  /** Where `OPS_ACTIONS_REQUEST_TIMEOUT` (the per-attempt timeout) is read; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

export interface GitHubRequest {
  /** Names the call in the operations log, e.g. `deployments.list`; messages name the route instead. */
  operation: string;
  /** Octokit route, e.g. `GET /repos/{owner}/{repo}/deployments`. */
  route: string;
  params?: Record<string, unknown>;
  /** Retries after a 5xx or a network error (default 3); 0 for a request that must not be sent twice. */
  retries?: number;
  /** Statuses handed back instead of thrown, e.g. 404 while looking something up. */
  acceptStatus?: readonly number[];
  /**
   * Cuts this request and its rate-limit waits instead of the client's `signal`: a status
   * recorded after a cancellation runs under the clean-up budget, not the cancelled signal.
   */
  signal?: AbortSignal;
}

export interface GitHubResponse<T> {
  /** The route with its params filled in (`GET /repos/acme/web/deployments`), as messages name it. */
  request: string;
  status: number;
  headers: Record<string, string>;
  data: T;
}

export interface GitHubClient {
  request<T>(req: GitHubRequest): Promise<GitHubResponse<T>>;
}

type Octokit = ReturnType<typeof getOctokit>;
/** What the throttling plugin hands a limit handler: the request's options, `request.call` being ours. */
type LimitedRequest = { request?: { [option: string]: unknown } };

interface CallState {
  operation: string;
  /** The route with its params filled in, as messages name the call. */
  request: string;
  waitedMs: number;
  /** What cuts this call and its waits (`GitHubRequest.signal`, else the client's). */
  signal: AbortSignal | undefined;
  /** The limit the last attempt met, as plugin-throttling read it. */
  limit?: { kind: RateLimitKind; waitS: number };
  refused?: { kind: RateLimitKind; waitS: number };
}

/** Statuses plugin-retry leaves alone: client errors, and 429, which is a rate limit the throttling plugin owns. */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const calls = new Map<number, CallState>();
  let nextCall = 1;
  let loaded: Promise<Octokit> | undefined;

  // plugin-throttling names the limit and the wait GitHub asks for; the wait itself is taken
  // below, where cancellation can cut it (the plugin's own timer cannot be cut).
  const noteLimit = (kind: RateLimitKind) => (retryAfterS: number, request: LimitedRequest) => {
    const call = calls.get(Number(request.request?.call));
    if (call) call.limit = { kind, waitS: retryAfterS };
    return false;
  };

  /** Waits out the limit a failed attempt met, when the budget allows; false: the error stands. */
  const waitOut = async (error: unknown, request: LimitedRequest): Promise<boolean> => {
    const call = calls.get(Number(request.request?.call));
    if (!call) return false;
    const plain = plainRetryAfter(error);
    const limit =
      call.limit ?? (plain === undefined ? undefined : { kind: 'retry-after' as const, waitS: plain });
    call.limit = undefined;
    if (!limit) return false;
    const waitMs = limit.waitS * 1000;
    if (call.signal?.aborted || call.waitedMs + waitMs > options.rateLimitBudget.ms) {
      call.refused = limit;
      return false;
    }
    call.waitedMs += waitMs;
    const kind = limit.kind === 'retry-after' ? 'HTTP 429 with retry-after' : `${limit.kind} rate limit`;
    options.log(msg`rate limited by GitHub, waiting ${own(limit.waitS)} s (${own(kind)}, ${call.request})`);
    await abortableSleep(waitMs, call.signal);
    return true;
  };

  const octokit = () => {
    loaded ??= loadOctokit(
      options,
      { onRateLimit: noteLimit('primary'), onSecondaryRateLimit: noteLimit('secondary') },
      waitOut,
    );
    return loaded;
  };

  return {
    async request<T>(req: GitHubRequest): Promise<GitHubResponse<T>> {
      const id = nextCall++;
      const call: CallState = {
        operation: req.operation,
        request: options.redact(routeWith(req.route, req.params)),
        waitedMs: 0,
        signal: req.signal ?? options.signal,
      };
      calls.set(id, call);
      try {
        const res = await (await octokit()).request(req.route, {
          ...req.params,
          headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
          request: {
            call: id,
            signal: call.signal,
            ...(req.retries === undefined ? {} : { retries: req.retries }),
          },
        });
        return {
          request: call.request,
          status: res.status,
          headers: flatHeaders(res.headers),
          data: res.data as T,
        };
      } catch (error) {
        const status = statusOf(error);
        if (status !== undefined && req.acceptStatus?.includes(status)) {
          const response = (error as { response?: { headers?: object; data?: unknown } }).response;
          return {
            request: call.request,
            status,
            headers: flatHeaders(response?.headers ?? {}),
            data: response?.data as T,
          };
        }
        throw toApiError(error, call, options);
      } finally {
        calls.delete(id);
      }
    },
  };
}

async function loadOctokit(
  options: GitHubClientOptions,
  throttle: {
    onRateLimit: (retryAfterS: number, request: LimitedRequest) => boolean;
    onSecondaryRateLimit: (retryAfterS: number, request: LimitedRequest) => boolean;
  },
  waitOut: (error: unknown, request: LimitedRequest) => Promise<boolean>,
): Promise<Octokit> {
  const [{ getOctokit }, { retry }, { throttling }] = await Promise.all([
    import('@actions/github'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
  ]);
  const timeoutMs = requestTimeoutFromEnv(options.env);
  const writeGapMs = writeGapFromEnv(options.env);
  const warn = (message: string) => options.log(options.redact(`GitHub client: ${message}`));
  const octokit = getOctokit(
    options.token,
    {
      baseUrl: options.apiUrl.replace(/\/+$/, ''),
      userAgent: 'ops-actions/0.1',
      request: { fetch: timedFetch(timeoutMs) },
      retry: { doNotRetry: DO_NOT_RETRY },
      throttle: writeGapMs === undefined ? throttle : { ...throttle, write: spacedWrites(writeGapMs) },
      log: { debug: () => undefined, info: () => undefined, warn, error: warn },
    },
    retry,
    throttling,
  );
  // Registered last, so it wraps both plugins and sees the limits they gave up on.
  octokit.hook.wrap('request', async (request, requestOptions) => {
    for (;;) {
      try {
        return await request(requestOptions);
      } catch (error) {
        if (!(await waitOut(error, requestOptions))) throw error;
      }
    }
  });
  return octokit;
}

/**
 * Test-only: `OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS` (a whole number of ms, 0 to 1000) spaces
 * GitHub writes that far apart instead of plugin-throttling's 1 s (its `write` group: one write
 * at a time, `minTime: 1000`, src/index.ts of octokit/plugin-throttling.js, after GitHub's "wait
 * at least one second between each request" for mutating requests). A test run of many deploys
 * spends seconds on that spacing against a loopback fake; unset, the plugin's own group spaces
 * them. Never set it in a workflow.
 */
export const WRITE_GAP_VARIABLE = 'OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS';

export function writeGapFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[WRITE_GAP_VARIABLE]?.trim();
  if (!raw) return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(ms <= 1000))
    throw new EnvironmentError(
      WRITE_GAP_VARIABLE,
      `is for tests only and must be a whole number of ms from 0 to 1000, not "${raw}"`,
    );
  return ms;
}

/**
 * A stand-in for plugin-throttling's `write` group with `gapMs` for its `minTime`: one write at
 * a time, the next let through `gapMs` after the one before. Only `key(id).schedule(options, job)`
 * is used of a group (src/wrap-request.ts of octokit/plugin-throttling.js).
 */
function spacedWrites(gapMs: number): ThrottlingOptions['write'] {
  let turn: Promise<void> = Promise.resolve();
  const schedule = <T>(_options: unknown, job: () => Promise<T>): Promise<T> => {
    const mine = turn.then(job);
    const gap = () => abortableSleep(gapMs);
    turn = mine.then(gap, gap);
    return mine;
  };
  return { key: () => ({ schedule }) } as unknown as ThrottlingOptions['write'];
}

/** The `retry-after` seconds of a 429 that is neither a primary nor a secondary limit. */
function plainRetryAfter(error: unknown): number | undefined {
  const e = error as { status?: number; message?: string; response?: { headers?: Record<string, unknown> } };
  const headers = e.response?.headers;
  if (e.status !== 429 || !headers) return undefined;
  if (String(headers['x-ratelimit-remaining']) === '0' || /\bsecondary rate\b/i.test(e.message ?? ''))
    return undefined;
  const value = String(headers['retry-after'] ?? '');
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * undici's fetch over the shared dispatcher, each attempt cut after the
 * per-attempt timeout and by the call's signal (Octokit hands `request.signal`
 * to fetch). A cancelled call surfaces as an `AbortError`, which plugin-retry
 * does not retry.
 */
function timedFetch(timeoutMs: number) {
  return async (url: string, init: RequestInit = {}): Promise<Response> => {
    const [{ fetch }, { agent }] = await Promise.all([import('undici'), loadUndici()]);
    const outer = init.signal ?? undefined;
    const signals = [AbortSignal.timeout(timeoutMs), outer].filter((s): s is AbortSignal => s !== undefined);
    try {
      return (await fetch(url, {
        ...(init as object),
        signal: AbortSignal.any(signals),
        dispatcher: agent,
      })) as unknown as Response;
    } catch (error) {
      if (outer?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      if ((error as { name?: string }).name === 'TimeoutError')
        throw namingProxy(new ComposedError(msg`no answer within ${timeoutMs} ms`, { cause: error }), url);
      throw namingProxy(error, url);
    }
  };
}

/** `GET /repos/{owner}/{repo}/deployments` with its params → `GET /repos/acme/web/deployments`. */
function routeWith(route: string, params: Record<string, unknown> = {}): string {
  return route.replace(/\{(\w+)\}/g, (whole, name: string) =>
    params[name] === undefined ? whole : encodeURIComponent(String(params[name])),
  );
}

function toApiError(error: unknown, call: CallState, options: GitHubClientOptions): ApiError {
  const redact = options.redact;
  const e = error as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
    request?: { request?: { retryCount?: number } };
  };
  const attempts = (e.request?.request?.retryCount ?? 0) + 1;
  if (call.signal?.aborted || (error as { name?: string }).name === 'AbortError') {
    return new ApiError({
      provider: 'GitHub',
      operation: call.operation,
      request: call.request,
      retryable: false,
      attempts,
      cause: call.signal?.reason ?? new Error('cancelled'),
    });
  }
  if (!e.response) {
    return new ApiError({
      provider: 'GitHub',
      operation: call.operation,
      request: call.request,
      retryable: true,
      attempts,
      cause: new Error(redact(causeMessage(error))),
    });
  }
  const headers = flatHeaders(e.response.headers ?? {});
  const text = typeof e.response.data === 'string' ? e.response.data : JSON.stringify(e.response.data ?? '');
  const message = providerMessage(text);
  return new ApiError({
    provider: 'GitHub',
    operation: call.operation,
    request: call.request,
    status: e.status,
    requestId: headers['x-github-request-id'],
    body: text ? excerpt(redact(text)) : undefined,
    providerMessage: message ? excerpt(redact(message)) : undefined,
    retryable: e.status === undefined || e.status >= 500 || call.refused !== undefined,
    // A 401, or a 403 that is no rate limit ("Resource not accessible by integration"): the token's fault.
    refusedCredential:
      !call.refused && isRefusal(e.status, headers) && !/\bsecondary rate\b/i.test(message ?? '')
        ? 'github-token'
        : undefined,
    attempts,
    hint: call.refused
      ? describeRateLimit({
          ...call.refused,
          headers,
          waitedMs: call.waitedMs,
          budget: options.rateLimitBudget,
        })
      : undefined,
  });
}

function causeMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const code = (cause as { code?: string } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && (error as { response?: unknown }).response ? status : undefined;
}

function flatHeaders(headers: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers))
    if (value !== undefined && value !== null) out[key.toLowerCase()] = String(value);
  return out;
}

/** `owner/repo` from GITHUB_REPOSITORY, split for the REST routes. */
export function repoParams(repository: string): { owner: string; repo: string } {
  const [owner, repo, ...rest] = repository.split('/');
  if (!owner || !repo || rest.length > 0)
    throw new ComposedError(msg`GITHUB_REPOSITORY must be owner/repo, got ${JSON.stringify(repository)}`);
  return { owner, repo };
}
