import { ApiError } from '../../core/errors.ts';
import {
  HttpClient,
  type HttpClientOptions,
  type HttpResponse,
  type RequestOptions,
} from '../../core/http.ts';
import { providerList } from '../../core/provider-list.ts';
import { cloudflareRateLimit } from './rate-limit.ts';

/**
 * Cloudflare v4: bearer API token, every answer in `{success, errors, result}`.
 * `CloudflareHttp.result` unwraps the envelope and turns `success: false` into an ApiError.
 */

export const CLOUDFLARE_API_URL = 'https://api.cloudflare.com/client/v4';

export interface CloudflareClientOptions extends Omit<HttpClientOptions, 'provider' | 'baseUrl' | 'headers'> {
  baseUrl?: string;
  token: string;
}

interface Envelope<T> {
  success: boolean;
  errors?: { code?: number; message?: string }[];
  result: T;
  result_info?: { page: number; total_pages: number };
}

export class CloudflareHttp {
  readonly http: HttpClient;

  constructor(options: CloudflareClientOptions) {
    const { token, baseUrl, ...rest } = options;
    this.http = new HttpClient({
      rateLimit: cloudflareRateLimit,
      ...rest,
      provider: 'Cloudflare',
      baseUrl: baseUrl ?? CLOUDFLARE_API_URL,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  }

  async result<T>(req: RequestOptions): Promise<{ result: T; response: HttpResponse<Envelope<T>> }> {
    const response = await this.http.request<Envelope<T>>(req);
    const body = response.data;
    if (body?.success !== true) {
      throw new ApiError({
        provider: 'Cloudflare',
        operation: req.operation,
        request: response.request,
        status: response.status,
        requestId: response.requestId,
        providerMessage:
          body?.errors?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ') ||
          'success: false',
        retryable: false,
        attempts: response.attempts,
      });
    }
    return { result: body.result, response };
  }

  /** A list `result`, every entry an object (core/provider-list.ts). */
  async list<T>(req: RequestOptions): Promise<T[]> {
    const { result, response } = await this.result<unknown>(req);
    return providerList<T>(result, {
      provider: 'Cloudflare',
      operation: req.operation,
      request: response.request,
      requestId: response.requestId,
    });
  }
}
