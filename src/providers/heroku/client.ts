import { HttpClient, type HttpClientOptions } from '../../core/http.ts';
import { herokuRateLimit } from './rate-limit.ts';

/**
 * The one HttpClient every Heroku resource client shares: the Platform API's
 * versioned media type and bearer auth. Resource clients (apps.ts, domains.ts...)
 * take this client, so a test or another action builds them over any base URL.
 */

export const HEROKU_API_URL = 'https://api.heroku.com';
export const HEROKU_ACCEPT = 'application/vnd.heroku+json; version=3';

export interface HerokuClientOptions extends Omit<HttpClientOptions, 'provider' | 'baseUrl' | 'headers'> {
  baseUrl?: string;
  apiKey: string;
}

export function createHerokuHttp(options: HerokuClientOptions): HttpClient {
  const { apiKey, baseUrl, ...rest } = options;
  return new HttpClient({
    // Every action takes the key as `heroku-api-key`: a 401 names it.
    credential: 'heroku-api-key',
    rateLimit: herokuRateLimit,
    ...rest,
    provider: 'Heroku',
    baseUrl: baseUrl ?? HEROKU_API_URL,
    headers: { accept: HEROKU_ACCEPT, authorization: `Bearer ${apiKey}` },
  });
}

/** Path segment for an app name, id, hostname or other identity. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
