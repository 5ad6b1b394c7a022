import { HttpClient, type HttpClientOptions } from '../../core/http.ts';
import { flyRateLimit } from './rate-limit.ts';

/**
 * The one sender every Fly Machines resource client shares: base URL, token and
 * the core retry policy. Resource clients (machines.ts, and later leases or
 * updates) take the `HttpClient` this returns, so each stays a thin file.
 */

export const FLY_API_URL = 'https://api.machines.dev/v1';

export interface FlyClientOptions {
  /** `https://api.machines.dev/v1` in production, a loopback fake in tests. */
  baseUrl?: string;
  token: string;
  redact: (text: string) => string;
  signal?: AbortSignal;
  timeoutMs?: number;
  retry?: HttpClientOptions['retry'];
  onRetry?: HttpClientOptions['onRetry'];
  /** Bounds rate-limit waits: the action's deadline or wait budget. */
  waitBound?: HttpClientOptions['waitBound'];
  /** Receives one line per rate-limit wait. */
  log?: HttpClientOptions['log'];
  /** Replaces the real sleep between attempts (tests record the waits instead). */
  sleep?: HttpClientOptions['sleep'];
  /** In [0, 1): the jitter of waits (Math.random by default; tests fix it). */
  random?: HttpClientOptions['random'];
  /** The input named when Fly refuses the token; every action calls it `fly-api-token`. */
  credential?: string;
}

/**
 * The Authorization header fly-go sends to the Machines API (tokens/tokens.go `Parse`,
 * `StripAuthorizationScheme`, `FlapsHeader`): any `Bearer`/`FlyV1` schemes the user pasted are
 * stripped (repeatedly, any case), the value is split at commas; macaroon tokens (`fm1r_`,
 * `fm1a_`, `fm2_`) are sent alone with the `FlyV1` scheme, other tokens with `Bearer`.
 */
export function flyAuthorization(token: string): string {
  const tokens = stripSchemes(token)
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const macaroons = tokens.filter((t) => /^(?:fm1r|fm1a|fm2)_/.test(t));
  return macaroons.length > 0 ? `FlyV1 ${macaroons.join(',')}` : `Bearer ${tokens.join(',')}`;
}

function stripSchemes(token: string): string {
  let rest = token.trim();
  for (;;) {
    const match = /^(?:bearer|flyv1)\s+(.*)$/is.exec(rest);
    if (!match) return rest;
    rest = match[1]!.trim();
  }
}

export function createFlyClient(options: FlyClientOptions): HttpClient {
  return new HttpClient({
    provider: 'Fly Machines',
    credential: options.credential ?? 'fly-api-token',
    baseUrl: options.baseUrl ?? FLY_API_URL,
    headers: { authorization: flyAuthorization(options.token), accept: 'application/json' },
    redact: options.redact,
    rateLimit: flyRateLimit,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    ...(options.waitBound ? { waitBound: options.waitBound } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
}
