import { HttpClient, type HttpClientOptions } from '../../core/http.ts';
import { digitalOceanRateLimit } from './rate-limit.ts';

/**
 * The one sender every DigitalOcean resource client shares: base URL, bearer
 * token and the core retry policy. Resource clients (droplets.ts) take the
 * `HttpClient` this returns.
 */

export const DIGITALOCEAN_API_URL = 'https://api.digitalocean.com/v2';

export interface DigitalOceanClientOptions {
  /** `https://api.digitalocean.com/v2` in production, a loopback fake in tests. */
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
  /** The input named when DigitalOcean refuses the token; `digitalocean-token` in action-deploy. */
  credential?: string;
}

export function createDigitalOceanClient(options: DigitalOceanClientOptions): HttpClient {
  return new HttpClient({
    provider: 'DigitalOcean',
    credential: options.credential ?? 'digitalocean-token',
    baseUrl: options.baseUrl ?? DIGITALOCEAN_API_URL,
    headers: { authorization: `Bearer ${options.token.trim()}`, accept: 'application/json' },
    redact: options.redact,
    rateLimit: digitalOceanRateLimit,
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
