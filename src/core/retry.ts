/**
 * The retry policy every provider request follows, as pure functions so that
 * each decision is testable without a clock or a network. `decideRetry` says
 * whether to send again and the backoff; it never sleeps: the HTTP client
 * (core/http.ts) judges that wait with `judgeWait` (core/rate-limit.ts) against
 * the run's one bound, logs it and sleeps it under the request's signal, as it
 * does every rate-limit wait.
 */

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff ceiling; each retry doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest `Retry-After` we wait; a longer one is cut to this. */
  retryAfterCapMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 3,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  retryAfterCapMs: 60_000,
};

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method.toUpperCase());
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/** Error codes meaning the request never reached the server, so even a POST can be sent again. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export type AttemptOutcome =
  | {
      kind: 'status';
      status: number;
      retryAfter?: string | undefined;
      /** The provider's error code says the request was refused before any work and may be sent again. */
      refusedRetryable?: boolean | undefined;
    }
  | { kind: 'network'; code?: string | undefined }
  | { kind: 'timeout' };

export interface RetryQuestion {
  /** 1 for the first attempt. */
  attempt: number;
  method: string;
  /** The caller knows that sending this request twice does no harm (e.g. it carries an idempotency key). */
  retrySafe?: boolean;
  outcome: AttemptOutcome;
  policy: RetryPolicy;
  now?: number;
  random?: () => number;
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string };

export function decideRetry(q: RetryQuestion): RetryDecision {
  const { outcome, policy } = q;
  if (outcome.kind === 'status' && !isRetryableStatus(outcome.status) && !outcome.refusedRetryable) {
    return { retry: false, reason: `HTTP ${outcome.status} is not retryable` };
  }
  if (q.attempt > policy.retries) return { retry: false, reason: `gave up after ${q.attempt} attempts` };
  if (!(isIdempotent(q.method) || q.retrySafe) && !unsentOrRejected(outcome)) {
    return {
      retry: false,
      reason: `${q.method.toUpperCase()} is not retried: the server may have acted on it`,
    };
  }
  const backoff = backoffDelay(q.attempt, policy, q.random);
  if (outcome.kind === 'status') {
    const waitFor = parseRetryAfter(outcome.retryAfter, q.now ?? Date.now());
    if (waitFor !== undefined) return { retry: true, delayMs: Math.min(waitFor, policy.retryAfterCapMs) };
  }
  return { retry: true, delayMs: backoff };
}

/** A 429 was refused before any work; a refused connection never arrived. */
function unsentOrRejected(outcome: AttemptOutcome): boolean {
  if (outcome.kind === 'status') return outcome.status === 429 || outcome.refusedRetryable === true;
  if (outcome.kind === 'network') return outcome.code !== undefined && NOT_SENT_CODES.has(outcome.code);
  return false;
}

/** Exponential backoff with full jitter: uniform in [0, min(max, base * 2^(attempt-1))). */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  // RFC 9110 allows whole seconds only; a fraction (`1.5`) some servers send is read, not dropped.
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
