import type { HttpClient } from '../../core/http.ts';
import { seg } from './client.ts';

/** Config var values are secrets: callers register them before anything prints. */
export class HerokuConfigVars {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  async get(app: string): Promise<Record<string, string>> {
    const res = await this.http.request<Record<string, string | null>>({
      operation: 'config-var.info-for-app',
      path: `/apps/${seg(app)}/config-vars`,
    });
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(res.data ?? {})) if (value !== null) out[key] = String(value);
    return out;
  }

  /**
   * One PATCH sets all given vars in one release; `null` removes a var. Sending the
   * same PATCH twice leaves the same config, so retrying it is safe.
   */
  async update(app: string, changes: Record<string, string | null>): Promise<void> {
    await this.http.request({
      operation: 'config-var.update',
      method: 'PATCH',
      path: `/apps/${seg(app)}/config-vars`,
      json: changes,
      retrySafe: true,
    });
  }
}
