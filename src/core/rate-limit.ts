import { EnvironmentError } from './errors.ts';
import { type Line, type Message, msg, own } from './message.ts';
import { parseRetryAfter } from './retry.ts';

/**
 * Rate limits as each provider signals them, read by per-provider rules
 * (src/providers/<provider>/rate-limit.ts) and waited out by the one HTTP
 * client (core/http.ts) within a bound: the action's deadline or its budget
 * for waiting. Everything here is pure, so each computed wait is tested
 * without a clock.
 */

/** A provider's answer that may be a rate limit. Header names are lower case. */
export interface LimitedAnswer {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body, when there is one. */
  body: unknown;
  /** `METHOD /path` of the request (Fly's limits differ per action). */
  request?: string;
}

export interface RateLimitWait {
  /** How long to wait before sending again, in ms. */
  waitMs: number;
  /**
   * The limit as the provider stated it, for logs and errors: `HTTP 429, RateLimit-Remaining 0`;
   * a `Message` keeps our words apart from the header values (core/message.ts).
   */
  limit: Line;
}

/** How one provider's client reads its rate limits (each rules file names its source). */
export interface RateLimitRules {
  /**
   * The wait after the `count`-th rate-limited answer in a row to one request (1 for
   * the first); undefined when the answer is not a rate limit. `now` is epoch ms,
   * `random` in [0, 1) for the provider client's jitter.
   */
  limited(answer: LimitedAnswer, count: number, now: number, random: () => number): RateLimitWait | undefined;
  /** A pause before the next request, read from the last answer's headers (a shared key running low). */
  pace?(headers: Record<string, string>): RateLimitWait | undefined;
  /** At this many rate-limited answers in a row to one request it fails; `MAX_LIMITED_ANSWERS` by default. */
  maxLimited?: number;
}

/** What bounds every wait of a request (rate limits, pacing, retry backoff): each must end before it, or the request fails at once. */
export interface WaitBound {
  /** The most one request may wait for rate limits in all, in ms. */
  budgetMs: number;
  /** Epoch ms of the action's deadline, when it has one. */
  deadlineAt?: number;
  /** Names the bound in errors: `the input timeout`, `the input health-timeout`. */
  name: string;
}

/** Without a bound from the action: heroku-go's longest single wait, 15 min. */
export const DEFAULT_WAIT_BOUND: WaitBound = { budgetMs: 15 * 60_000, name: 'the 15 min rate-limit bound' };

/** After this many rate-limited answers in a row to one request it fails, whatever the bound. */
export const MAX_LIMITED_ANSWERS = 30;

export type WaitVerdict =
  | { wait: true; sleepMs: number }
  | {
      wait: false;
      /** The whole refusal of a rate-limit wait: `rate limited by Heroku past the input timeout (…)`. */
      reason: Message;
      /** Why any wait was not taken, for a retry's error: `waiting 4 s would pass the input timeout (2 s left)`. */
      over: Message;
    };

/**
 * Whether a computed wait fits the bound: every wait of a request (a rate limit, a pause on
 * a key running low, the backoff before a retry) is judged here, against the same bound.
 * The decision is made on the computed wait (`wait.waitMs`); `scale` (1 in production) only
 * shortens the real sleep in tests, so a test takes the same path as production. The
 * message says what is left of the bound: the time to the deadline when there is one, else
 * the budget and what was already waited (no "left" when no deadline applies).
 */
export function judgeWait(input: {
  provider: string;
  wait: RateLimitWait;
  /** What this request already waited (computed waits, unscaled), in ms. */
  sleptMs: number;
  bound: WaitBound;
  now: number;
  scale: number;
}): WaitVerdict {
  const { provider, wait, bound } = input;
  const budgetLeft = bound.budgetMs - input.sleptMs;
  const untilDeadline = bound.deadlineAt === undefined ? undefined : bound.deadlineAt - input.now;
  const left = untilDeadline === undefined ? budgetLeft : Math.min(budgetLeft, untilDeadline);
  if (wait.waitMs <= left) return { wait: true, sleepMs: Math.round(wait.waitMs * input.scale) };
  const room =
    untilDeadline !== undefined && untilDeadline <= budgetLeft
      ? msg`${ownWait(Math.max(0, untilDeadline))} left`
      : msg`at most ${ownWait(bound.budgetMs)} of waits in all${input.sleptMs > 0 ? msg`, ${ownWait(input.sleptMs)} already waited` : ''}`;
  const waiting = msg`waiting ${ownWait(wait.waitMs)}`;
  const name = own(bound.name);
  return {
    wait: false,
    reason: msg`rate limited by ${own(provider)} past ${name} (${wait.limit}: ${waiting} would pass it, ${room})`,
    over: msg`${waiting} would pass ${name} (${room})`,
  };
}

/** The log line of one rate-limit wait: `rate limited by Heroku, waiting 30 s (HTTP 429, RateLimit-Remaining 0; app.info)`. */
export function waitLine(provider: string, wait: RateLimitWait, operation: string): Message {
  return msg`rate limited by ${own(provider)}, waiting ${ownWait(wait.waitMs)} (${wait.limit}; ${own(operation)})`;
}

/** The log line of one wait before a retry: `retrying Heroku GET /apps/web after HTTP 503, waiting 0.4 s (retry 1 of 3)`. */
export function retryLine(provider: string, request: string, wait: RateLimitWait): Message {
  return msg`retrying ${own(provider)} ${request} after ${wait.limit}, waiting ${ownWait(wait.waitMs)}`;
}

function ownWait(ms: number): Message {
  return own(formatWait(ms));
}

/** `30 s`, `1.5 s`, `0.8 s`: whole seconds from 10 s up, one decimal below. */
export function formatWait(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 ? Math.round(s) : Number(s.toFixed(1))} s`;
}

/** `base * 2^(count-1)`, capped: the doubling every provider client here uses. */
export function doubling(count: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, count - 1));
}

/**
 * `ms` spread by ±`factor` (`random` in [0, 1)), as cenkalti/backoff's `RandomizationFactor`
 * does for heroku-go (0.25: 30 s becomes 22.5–37.5 s), so jobs sharing a key do not all
 * send again at the same moment. Whole ms.
 */
export function randomized(ms: number, factor: number, random: () => number): number {
  return Math.round(ms * (1 - factor + 2 * factor * random()));
}

/**
 * `Retry-After` as ms from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3), read by
 * the one parser core/retry.ts uses too; undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Record<string, string>, now: number = Date.now()): number | undefined {
  const after = parseRetryAfter(headers['retry-after'], now);
  // `0`, or a date already past (our clock ahead of the provider's), is read as the shortest
  // wait: sent again at once, the request would spend the whole give-up count in a second.
  return after === undefined ? undefined : Math.max(after, MIN_RETRY_AFTER_MS);
}

/** The shortest wait a Retry-After is read as, as a RateLimit-Reset already past is waited. */
export const MIN_RETRY_AFTER_MS = 1000;

/**
 * An epoch in a header (`RateLimit-Reset`) as epoch ms. Seconds are the documented form; a
 * value above 1e11 (year 5138 in seconds) can only be ms, as some answers send, and is read so.
 */
export function epochMsOf(value: string | undefined): number | undefined {
  if (!value || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value);
  return n > 1e11 ? n : n * 1000;
}

/** An epoch in a header (`RateLimit-Reset`, see epochMsOf) as ms from `now`, or undefined. */
export function untilEpochSeconds(value: string | undefined, now: number): number | undefined {
  const at = epochMsOf(value);
  return at === undefined ? undefined : at - now;
}

/**
 * Test-only: `OPS_ACTIONS_TEST_WAIT_SCALE` (above 0, at most 1) multiplies every
 * rate-limit sleep so a test rides out a 30 s Heroku wait in 0.3 s. The logged and
 * reported waits stay the computed ones. Never set it in a workflow.
 */
export const WAIT_SCALE_VARIABLE = 'OPS_ACTIONS_TEST_WAIT_SCALE';

export function waitScaleFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[WAIT_SCALE_VARIABLE]?.trim();
  if (!raw) return 1;
  const scale = /^\d*\.?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(scale > 0 && scale <= 1))
    throw new EnvironmentError(
      WAIT_SCALE_VARIABLE,
      `is for tests only and must be a number above 0 and at most 1, not "${raw}"`,
    );
  return scale;
}
