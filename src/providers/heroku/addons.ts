import type { HttpClient } from '../../core/http.ts';
import { seg } from './client.ts';

export interface HerokuAddonInfo {
  id: string;
  name: string;
  service: string;
  /** Config vars this add-on sets on the app, e.g. DATABASE_URL. */
  configVars: string[];
}

interface AddonJson {
  id: string;
  name: string;
  addon_service?: { name?: string } | null;
  config_vars?: string[] | null;
}

export class HerokuAddons {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  async list(app: string): Promise<HerokuAddonInfo[]> {
    const res = await this.http.request<AddonJson[]>({
      operation: 'add-on.list-by-app',
      path: `/apps/${seg(app)}/addons`,
    });
    return (res.data ?? []).map((a) => ({
      id: a.id,
      name: a.name,
      service: a.addon_service?.name ?? '',
      configVars: a.config_vars ?? [],
    }));
  }
}
