import { HttpClient, type HttpClientOptions } from '../../core/http.ts';

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
}

/** Tokens from `fly tokens create` start with `FlyV1 ` and are sent as they are; others are bearer tokens. */
export function flyAuthorization(token: string): string {
  const trimmed = token.trim();
  return /^FlyV1\s/.test(trimmed) ? trimmed : `Bearer ${trimmed}`;
}

export function createFlyClient(options: FlyClientOptions): HttpClient {
  return new HttpClient({
    provider: 'Fly Machines',
    baseUrl: options.baseUrl ?? FLY_API_URL,
    headers: { authorization: flyAuthorization(options.token), accept: 'application/json' },
    redact: options.redact,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  });
}
