import { HttpClient, type HttpClientOptions } from '../../core/http.ts';

/**
 * The HttpClient the Hetzner Cloud resource clients share (`Authorization: Bearer`).
 * DNS lives in the Cloud API since the old dns.hetzner.com API was shut down.
 */

export const HETZNER_API_URL = 'https://api.hetzner.cloud/v1';

export interface HetznerClientOptions extends Omit<HttpClientOptions, 'provider' | 'baseUrl' | 'headers'> {
  baseUrl?: string;
  token: string;
}

export function createHetznerHttp(options: HetznerClientOptions): HttpClient {
  const { token, baseUrl, ...rest } = options;
  return new HttpClient({
    ...rest,
    provider: 'Hetzner',
    baseUrl: baseUrl ?? HETZNER_API_URL,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  });
}
