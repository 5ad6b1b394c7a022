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
 * hcloud-go's retry set (hcloud/client_handler_retry.go `retryPolicy`): the error codes
 * `conflict` ("the resource has changed during the request, please retry"), `rate_limit_exceeded`
 * (waited out by rate-limit.ts), `bad_gateway` and `timeout`, and an answer of HTTP 502 or 504
 * without a Hetzner error body. Beyond it, `locked` (HTTP 423, "there is already an action
 * running" on the resource): hcloud-go leaves it to its caller, and we are that caller. The
 * lock ends with the running action, so it is waited out with the same backoff and bound
 * (issues 15 and 16 ask for it). Not retried: a 500, or a 503 `maintenance`.
 * `conflict` and `locked` mean nothing was done, so they are sent again whatever the method;
 * a gateway error may hide work done, so only an idempotent request is.
 */
const REFUSED_ERROR_CODES = new Set(['conflict', 'locked']);
const TRANSIENT_ERROR_CODES = new Set(['bad_gateway', 'timeout']);
const TRANSIENT_STATUSES = new Set([502, 504]);

function hetznerErrorCode(body: unknown): string | undefined {
  const error = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' ? error.code : undefined;
}

/** Whether hcloud-go would send a request answered `status` with `body` again (see above). */
export function hcloudRetries(status: number, body: unknown): boolean {
  const code = hetznerErrorCode(body);
  if (code !== undefined) return REFUSED_ERROR_CODES.has(code) || TRANSIENT_ERROR_CODES.has(code);
  return TRANSIENT_STATUSES.has(status);
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
    isRefusedRetryable: (_status, body) => REFUSED_ERROR_CODES.has(hetznerErrorCode(body) ?? ''),
    isRetryable: hcloudRetries,
  });
}
