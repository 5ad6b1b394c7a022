import type { HttpClient } from '../../core/http.ts';
import { seg } from './client.ts';

/** Automated Certificate Management of an app. */
export class HerokuAcm {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  /** Enabling twice leaves ACM enabled, so the POST may be retried. */
  async enable(app: string): Promise<void> {
    await this.http.request({
      operation: 'app.enable-acm',
      method: 'POST',
      path: `/apps/${seg(app)}/acm`,
      retrySafe: true,
    });
  }
}
