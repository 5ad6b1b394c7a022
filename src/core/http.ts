import type { Dispatcher } from 'undici';
import { CancelledError } from './cancellation.ts';
import { ApiError, EnvironmentError } from './errors.ts';
import { ComposedError, composedOf, type Line, type Message, msg, own, redactedValues } from './message.ts';
import {
  DEFAULT_WAIT_BOUND,
  judgeWait,
  MAX_LIMITED_ANSWERS,
  type RateLimitRules,
  type RateLimitWait,
  retryLine,
  type WaitBound,
  type WaitVerdict,
  waitLine,
  waitScaleFromEnv,
} from './rate-limit.ts';
import { type AttemptOutcome, DEFAULT_RETRY_POLICY, decideRetry, type RetryPolicy } from './retry.ts';
import { loadUndici } from './undici.ts';

/**
 * The one HTTP client every provider call goes through: a timeout per attempt,
 * retries per `decideRetry`, every wait (rate limit, pacing, retry backoff) judged by
 * `judgeWait` against one bound, logged once and cut by the request's signal, and errors that name the provider, the operation,
 * the status and the request id, with the body excerpt already redacted.
 */

export interface HttpClientOptions {
  /** Human name used in errors: `Heroku`, `Fly Machines`, `Hetzner`... */
  provider: string;
  baseUrl: string;
  headers?: Record<string, string>;
  /** Per-attempt timeout; without it, `OPS_ACTIONS_REQUEST_TIMEOUT` seconds, else 30 s. */
  timeoutMs?: number;
  /** Where `OPS_ACTIONS_REQUEST_TIMEOUT` is read (process.env by default). */
  env?: NodeJS.ProcessEnv;
  retry?: Partial<RetryPolicy>;
  redact: (text: string) => string;
  /**
   * Cuts every request of this client and its waits (the action's deadline, the runner's
   * cancellation), except a request that carries its own `signal`: that one decides, so a
   * clean-up after a cancellation still runs under its own clean-up signal.
   */
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onRetry?: (event: RetryEvent) => void;
  /**
   * The input or secret these requests authenticate with (`heroku-api-key`):
   * a 401, or a 403 that is not a rate limit, is reported as that credential
   * refused, so the message names what to check.
   */
  credential?: string;
  /**
   * Errors the provider documents as "nothing was done, send it again" although their
   * status is not one retried by default (Hetzner's `conflict`); they are
   * retried for every method.
   */
  isRefusedRetryable?: (status: number, body: unknown) => boolean;
  /**
   * The provider client's own retry set, when it is narrower than the default (hcloud-go
   * retries only some error codes): a status it returns false for is not retried.
   */
  isRetryable?: (status: number, body: unknown) => boolean;
  /**
   * How this provider signals rate limits (its own client's reading). With rules, a
   * rate-limited answer is waited out as they say, without using up `retry.retries`,
   * within `waitBound`; without them a 429 is one more retryable status.
   */
  rateLimit?: RateLimitRules;
  /**
   * What bounds every wait of a request — rate limits, pacing and the backoff before a retry —
   * (the action's deadline or wait budget); 15 min by default. A wait that would pass it is not
   * taken: the request fails at once, saying so.
   */
  waitBound?: WaitBound;
  /**
   * Receives one line per wait: `rate limited by Heroku, waiting 30 s (…)`, or
   * `retrying Heroku GET /apps/web after HTTP 503 (retry 1 of 3), waiting 0.4 s`.
   */
  log?: (line: Line) => void;
  /** In [0, 1): the provider client's jitter and the retry backoff's (Math.random by default). */
  random?: () => number;
}

export interface RetryEvent {
  provider: string;
  operation: string;
  /** `METHOD /path`, as in ApiError: what a log line names. */
  request: string;
  attempt: number;
  delayMs: number;
  /** `HTTP 503`, `timeout`, a network error's code. */
  reason: Message;
}

export interface RequestOptions {
  /** Names the call in the operations log, e.g. `apps.create`; messages name `METHOD /path` instead. */
  operation: string;
  method?: string;
  /** Appended to the base URL, or an absolute URL. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Uint8Array;
  /** Sending this request twice does no harm even though its method is not idempotent. */
  retrySafe?: boolean;
  /** Non-2xx statuses handed back instead of thrown, e.g. 404 while observing. */
  acceptStatus?: readonly number[];
  timeoutMs?: number;
  retries?: number;
  /** Cuts this request and its waits instead of the client's `signal`. */
  signal?: AbortSignal;
  /** Told of this request's retries instead of the client's `onRetry` (one client serving many targets). */
  onRetry?: (event: RetryEvent) => void;
  /** The body is binary (e.g. a zip): it is handed back whole as `bytes`, `text` decodes it as UTF-8. */
  binary?: boolean;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The raw body, for a request made with `binary: true`. */
  bytes?: Buffer;
  /** The parsed body when it is JSON, otherwise undefined. */
  data: T;
  attempts: number;
  requestId: string | undefined;
  /** `METHOD /path` of the request, for errors raised on an accepted answer. */
  request: string;
}

const REQUEST_ID_HEADERS = [
  'request-id',
  'x-request-id',
  'fly-request-id',
  'x-github-request-id',
  'cf-ray',
  'x-correlation-id',
];
const BODY_EXCERPT_CHARS = 300;

/**
 * Per-attempt timeout, in seconds, of every provider API call of every action
 * that does not set its own (a long poll does): a run whose provider answers
 * slowly or not at all gives up on an attempt sooner, or later, than 30 s.
 */
export const REQUEST_TIMEOUT_VARIABLE = 'OPS_ACTIONS_REQUEST_TIMEOUT';
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const MAX_REQUEST_TIMEOUT_SECONDS = 3600;

/** The default per-attempt timeout in ms: `OPS_ACTIONS_REQUEST_TIMEOUT` seconds, else 30 s. */
export function requestTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[REQUEST_TIMEOUT_VARIABLE]?.trim();
  if (!raw) return DEFAULT_REQUEST_TIMEOUT_MS;
  const seconds = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(seconds > 0 && seconds <= MAX_REQUEST_TIMEOUT_SECONDS))
    throw new EnvironmentError(
      REQUEST_TIMEOUT_VARIABLE,
      `must be a number of seconds above 0 and at most ${MAX_REQUEST_TIMEOUT_SECONDS} (the per-attempt timeout of provider API calls), not "${raw}"`,
    );
  return Math.round(seconds * 1000);
}
const USER_AGENT = 'ops-actions/0.1';
const UTF8 = new TextDecoder();

/** What one request has waited so far: computed ms (unscaled) and rate-limited answers in a row. */
interface Waits {
  slept: number;
  limited: number;
}

type Failure = { status?: number; text?: string; headers?: Record<string, string>; cause?: unknown };

export class HttpClient {
  readonly provider: string;
  private readonly options: HttpClientOptions;
  private readonly policy: RetryPolicy;
  private readonly defaultTimeoutMs: number;
  private readonly waitScale: number;
  /** The last answer's headers, for pacing a shared key (`RateLimit-Remaining`). */
  private lastHeaders: Record<string, string> | undefined;
  private pacingLogged = false;

  constructor(options: HttpClientOptions) {
    this.options = options;
    this.provider = options.provider;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.defaultTimeoutMs = options.timeoutMs ?? requestTimeoutFromEnv(options.env);
    this.waitScale = waitScaleFromEnv(options.env);
  }

  async request<T = unknown>(req: RequestOptions): Promise<HttpResponse<T>> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = buildUrl(this.options.baseUrl, req.path, req.query);
    const policy = req.retries === undefined ? this.policy : { ...this.policy, retries: req.retries };
    const { body, headers } = this.prepare(req);
    const sleep = this.options.sleep ?? abortableSleep;
    const outer = req.signal ?? this.options.signal;
    const named = { operation: req.operation, request: this.options.redact(requestLine(method, url)) };

    const waits: Waits = { slept: 0, limited: 0 };
    let failures = 0;
    for (let attempt = 1; ; attempt++) {
      throwIfCancelled(outer, this.provider, named, attempt - 1);
      if (this.lastHeaders) await this.pace(named, attempt, waits, outer, sleep);
      let outcome: AttemptOutcome;
      let failure: Failure;
      try {
        const res = await this.attempt(method, url, headers, body, req.timeoutMs, outer, req.binary);
        if (this.options.rateLimit?.pace) this.lastHeaders = res.headers;
        const accepted = (res.status >= 200 && res.status < 300) || req.acceptStatus?.includes(res.status);
        if (accepted) return { ...res, attempts: attempt, request: named.request } as HttpResponse<T>;
        const limit = this.options.rateLimit?.limited(
          { status: res.status, headers: res.headers, body: res.data, request: named.request },
          waits.limited + 1,
          Date.now(),
          this.options.random ?? Math.random,
        );
        if (limit) {
          waits.limited++;
          // The wait refills the key more than pacing would: no pause on top of it.
          this.lastHeaders = undefined;
          await this.rateLimitWait(limit, named, attempt, waits, res, outer, sleep);
          continue;
        }
        outcome = {
          kind: 'status',
          status: res.status,
          retryAfter: res.headers['retry-after'],
          refusedRetryable: this.options.isRefusedRetryable?.(res.status, res.data),
        };
        if (
          this.options.isRetryable &&
          !this.options.isRetryable(res.status, res.data) &&
          !outcome.refusedRetryable
        )
          throw this.apiError(
            named,
            attempt,
            { status: res.status, text: res.text, headers: res.headers },
            outcome,
          );
        failure = { status: res.status, text: res.text, headers: res.headers };
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throwIfCancelled(outer, this.provider, named, attempt);
        outcome = isTimeout(error) ? { kind: 'timeout' } : { kind: 'network', code: errorCode(error) };
        failure = {
          cause:
            outcome.kind === 'timeout'
              ? new ComposedError(msg`no answer within ${own(this.timeoutOf(req))} ms`)
              : error,
        };
      }
      failures++;
      const decision = decideRetry({
        attempt: failures,
        method,
        retrySafe: req.retrySafe,
        outcome,
        policy,
        random: this.options.random ?? Math.random,
      });
      if (!decision.retry) throw this.apiError(named, attempt, failure, outcome);
      const backoff = {
        waitMs: decision.delayMs,
        limit: msg`${describeOutcome(outcome)} (retry ${own(failures)} of ${own(policy.retries)})`,
      };
      const verdict = this.judge(backoff, waits);
      if (!verdict.wait)
        throw this.apiError(named, attempt, failure, outcome, msg`Not retried: ${verdict.over}.`);
      (req.onRetry ?? this.options.onRetry)?.({
        provider: this.provider,
        ...named,
        attempt,
        delayMs: decision.delayMs,
        reason: describeOutcome(outcome),
      });
      this.options.log?.(retryLine(this.provider, named.request, backoff));
      await this.sleepFor(backoff, verdict.sleepMs, waits, outer, sleep);
    }
  }

  /** Every wait of a request is judged against the one bound: the action's deadline or wait budget. */
  private judge(wait: RateLimitWait, waits: Waits): WaitVerdict {
    return judgeWait({
      provider: this.provider,
      wait,
      sleptMs: waits.slept,
      bound: this.options.waitBound ?? DEFAULT_WAIT_BOUND,
      now: Date.now(),
      scale: this.waitScale,
    });
  }

  /** Sleeps a judged wait; the request's signal (cancellation, deadline) cuts it, and the loop then stops. */
  private async sleepFor(
    wait: RateLimitWait,
    sleepMs: number,
    waits: Waits,
    outer: AbortSignal | undefined,
    sleep: NonNullable<HttpClientOptions['sleep']>,
  ): Promise<void> {
    waits.slept += wait.waitMs;
    await sleep(sleepMs, outer).catch(() => undefined);
  }

  /** Waits out one rate-limited answer, or fails at once when the wait would pass the bound. */
  private async rateLimitWait(
    limit: RateLimitWait,
    named: { operation: string; request: string },
    attempts: number,
    waits: Waits,
    failed: { status: number; headers: Record<string, string> },
    outer: AbortSignal | undefined,
    sleep: NonNullable<HttpClientOptions['sleep']>,
  ): Promise<void> {
    const most = this.options.rateLimit?.maxLimited ?? MAX_LIMITED_ANSWERS;
    const verdict: WaitVerdict | { wait: false; reason: Message } =
      waits.limited >= most
        ? {
            wait: false,
            reason: msg`rate limited by ${own(this.provider)} ${own(waits.limited)} times in a row (${limit.limit})`,
          }
        : this.judge(limit, waits);
    if (!verdict.wait) {
      throw new ApiError({
        provider: this.provider,
        ...named,
        status: failed.status,
        requestId: requestIdOf(failed.headers),
        providerMessage: verdict.reason,
        retryable: true,
        attempts,
      });
    }
    this.options.log?.(waitLine(this.provider, limit, named.operation));
    await this.sleepFor(limit, verdict.sleepMs, waits, outer, sleep);
  }

  /** A pause before sending when the last answer says the shared key is running low (logged once per client). */
  private async pace(
    named: { operation: string; request: string },
    attempt: number,
    waits: Waits,
    outer: AbortSignal | undefined,
    sleep: NonNullable<HttpClientOptions['sleep']>,
  ): Promise<void> {
    const pause = this.lastHeaders && this.options.rateLimit?.pace?.(this.lastHeaders);
    if (!pause) return;
    const verdict = this.judge(pause, waits);
    if (!verdict.wait)
      throw new ApiError({
        provider: this.provider,
        ...named,
        providerMessage: verdict.reason,
        retryable: true,
        attempts: attempt - 1,
      });
    if (!this.pacingLogged) this.options.log?.(waitLine(this.provider, pause, named.operation));
    this.pacingLogged = true;
    await this.sleepFor(pause, verdict.sleepMs, waits, outer, sleep);
  }

  private timeoutOf(req: RequestOptions): number {
    return req.timeoutMs ?? this.defaultTimeoutMs;
  }

  private prepare(req: RequestOptions): {
    body: string | Uint8Array | undefined;
    headers: Record<string, string>;
  } {
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      ...this.options.headers,
      ...req.headers,
    };
    if (req.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      return { body: JSON.stringify(req.json), headers };
    }
    return { body: req.body, headers };
  }

  private async attempt(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    timeoutMs: number | undefined,
    outer: AbortSignal | undefined,
    binary = false,
  ): Promise<Omit<HttpResponse, 'attempts' | 'request'>> {
    const { exchange } = await loadUndici();
    const limit = attemptSignal(outer, timeoutMs ?? this.defaultTimeoutMs);
    try {
      const res = await exchange(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        signal: limit.signal,
        dispatcher: this.options.dispatcher,
      });
      const bytes = binary ? res.body : undefined;
      // As undici's `body.text()`: UTF-8, a leading byte order mark dropped.
      const text = bytes ? bytes.toString('utf8') : UTF8.decode(res.body);
      const flat = flattenHeaders(res.headers);
      return {
        status: res.statusCode,
        headers: flat,
        text,
        ...(bytes ? { bytes } : {}),
        data: parseJson(text, flat['content-type']),
        requestId: requestIdOf(flat),
      };
    } finally {
      limit.release();
    }
  }

  private apiError(
    named: { operation: string; request: string },
    attempts: number,
    failure: Failure,
    outcome: AttemptOutcome,
    hint?: Message,
  ): ApiError {
    const redact = this.options.redact;
    const text = failure.text ?? '';
    const message = providerMessage(text);
    return new ApiError({
      provider: this.provider,
      ...named,
      status: failure.status,
      requestId: failure.headers ? requestIdOf(failure.headers) : undefined,
      // Redacted whole, then cut: a secret past the cut would otherwise leave its head behind.
      body: text ? excerpt(redact(text)) : undefined,
      providerMessage: message ? excerpt(redact(message)) : undefined,
      retryable: outcome.kind !== 'status' || outcome.status >= 500 || outcome.status === 429,
      attempts,
      refusedCredential: isRefusal(failure.status, failure.headers) ? this.options.credential : undefined,
      cause: failure.cause === undefined ? undefined : redactedCause(failure.cause, redact),
      ...(hint ? { hint } : {}),
    });
  }
}

/** 401 always means the credential; 403 does unless it is a rate limit (GitHub, Heroku answer those with 403 too). */
export function isRefusal(status: number | undefined, headers: Record<string, string> = {}): boolean {
  if (status === 401) return true;
  if (status !== 403) return false;
  return headers['x-ratelimit-remaining'] !== '0' && headers['retry-after'] === undefined;
}

/** `POST /v1/apps/smooth/machines`: the method and the URL's path, without host or query. */
export function requestLine(method: string, url: string): string {
  return `${method.toUpperCase()} ${URL.parse(url)?.pathname ?? url.split('?')[0]}`;
}

export function buildUrl(baseUrl: string, path: string, query?: RequestOptions['query']): string {
  const joined = /^https?:\/\//i.test(path)
    ? path
    : `${baseUrl.replace(/\/+$/, '')}${path.startsWith('/') ? '' : '/'}${path}`;
  if (!query) return joined;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined) params.append(key, String(value));
  const qs = params.toString();
  if (qs === '') return joined;
  return `${joined}${joined.includes('?') ? '&' : '?'}${qs}`;
}

/** The provider's own error message from its error body, whichever shape it uses. */
export function providerMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.message === 'string') return b.message;
  if (typeof b.error === 'string') return b.error;
  if (b.error && typeof b.error === 'object') {
    const e = b.error as Record<string, unknown>;
    if (typeof e.message === 'string')
      return typeof e.code === 'string' ? `${e.code}: ${e.message}` : e.message;
  }
  if (Array.isArray(b.errors) && b.errors.length > 0) {
    return b.errors
      .map((e) =>
        e && typeof e === 'object' && 'message' in e
          ? String((e as { message: unknown }).message)
          : String(e),
      )
      .join('; ');
  }
  return undefined;
}

/** One line of at most 300 characters; cut only text that is already redacted. */
export function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > BODY_EXCERPT_CHARS ? `${oneLine.slice(0, BODY_EXCERPT_CHARS)}…` : oneLine;
}

/** The cause with its values redacted (our words kept: see core/message.ts), and its error code in front. */
function redactedCause(cause: unknown, redact: (text: string) => string): Error {
  const message = composedOf(cause);
  const code = errorCode(cause);
  const coded = code && !String(message).includes(code) ? msg`${code}: ${message}` : message;
  return new ComposedError(redactedValues(coded, redact));
}

/** `HTTP 503`, `timeout`, or the network error's code: words of ours and the status. */
function describeOutcome(outcome: AttemptOutcome): Message {
  if (outcome.kind === 'status') return msg`HTTP ${own(outcome.status)}`;
  if (outcome.kind === 'timeout') return own('timeout');
  return outcome.code ? msg`${outcome.code}` : own('network error');
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) flat[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function requestIdOf(headers: Record<string, string>): string | undefined {
  for (const name of REQUEST_ID_HEADERS) if (headers[name]) return headers[name];
  return undefined;
}

function parseJson(text: string, contentType: string | undefined): unknown {
  if (text === '' || !contentType?.includes('json')) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function errorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { code?: unknown; cause?: unknown };
  if (typeof e.code === 'string') return e.code;
  return e.cause ? errorCode(e.cause) : undefined;
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  const code = errorCode(error);
  return name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

function throwIfCancelled(
  signal: AbortSignal | undefined,
  provider: string,
  named: { operation: string; request: string },
  attempts: number,
) {
  if (!signal?.aborted) return;
  throw new ApiError({
    provider,
    ...named,
    retryable: false,
    attempts,
    // A runner cancellation names its signal; any other abort is a deadline.
    cause:
      signal.reason instanceof CancelledError ? signal.reason : new Error('cancelled: the deadline passed'),
  });
}

/**
 * The signal of one attempt: aborted by `outer` or, after `ms`, with a `TimeoutError`
 * (as `AbortSignal.timeout` names it). `release()` clears the timer and drops the attempt
 * from `outer`'s followers the moment the attempt is over. `AbortSignal.timeout` +
 * `AbortSignal.any` kept each attempt's signal, timer and request alive until the timeout
 * passed (30 s by default), and an abort listener per attempt on one shared signal costs
 * a scan of all its listeners (EventTarget refuses duplicates): at 10 000 targets that was
 * much of the fan-out's heap and a fifth of its CPU time (bench/config-update.ts).
 */
export function attemptSignal(
  outer: AbortSignal | undefined,
  ms: number,
): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')),
    ms,
  );
  const onAbort = () => controller.abort(outer?.reason);
  const unfollow = outer ? follow(outer, onAbort) : undefined;
  return {
    signal: controller.signal,
    release: () => {
      clearTimeout(timer);
      unfollow?.();
    },
  };
}

/** One abort listener per outer signal, whatever the number of attempts under it. */
const followers = new WeakMap<AbortSignal, Set<() => void>>();

function follow(outer: AbortSignal, onAbort: () => void): () => void {
  if (outer.aborted) {
    onAbort();
    return () => undefined;
  }
  let set = followers.get(outer);
  if (!set) {
    const created = new Set<() => void>();
    set = created;
    followers.set(outer, created);
    outer.addEventListener(
      'abort',
      () => {
        for (const f of created) f();
        created.clear();
      },
      { once: true },
    );
  }
  const mine = set;
  mine.add(onAbort);
  return () => mine.delete(onAbort);
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
