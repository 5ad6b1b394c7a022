import { HttpClient, type HttpClientOptions } from '../../core/http.ts';

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
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  });
}
