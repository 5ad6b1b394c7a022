import { HttpClient, type HttpClientOptions } from '../../core/http.ts';
import { hetznerRateLimit } from './rate-limit.ts';

/**
 * The HttpClient the Hetzner Cloud resource clients share (`Authorization: Bearer`).
 * DNS lives in the Cloud API since the old dns.hetzner.com API was shut down.
 */

export const HETZNER_API_URL = 'https://api.hetzner.cloud/v1';

export interface HetznerClientOptions extends Omit<HttpClientOptions, 'provider' | 'baseUrl' | 'headers'> {
  baseUrl?: string;
  token: string;
}

/**
 * Error codes after which a request is sent again. hcloud-go retries `conflict`
 * ("the resource has changed during the request, please retry";
 * hcloud/client_handler_retry.go, hcloud/error.go); `locked` ("another action is
 * running") clears when that action ends, so it is retried the same way.
 */
const RETRIED_ERROR_CODES = new Set(['conflict', 'locked']);

function hetznerErrorCode(body: unknown): string | undefined {
  const error = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' ? error.code : undefined;
}

export function createHetznerHttp(options: HetznerClientOptions): HttpClient {
  const { token, baseUrl, ...rest } = options;
  return new HttpClient({
    rateLimit: hetznerRateLimit,
    // hcloud-go's retry defaults (hcloud/client.go `NewClient`): 5 retries, 1 s doubling to 60 s.
    retry: { retries: 5, baseDelayMs: 1000, maxDelayMs: 60_000 },
    ...rest,
    provider: 'Hetzner',
    baseUrl: baseUrl ?? HETZNER_API_URL,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    isRefusedRetryable: (_status, body) => RETRIED_ERROR_CODES.has(hetznerErrorCode(body) ?? ''),
  });
}
