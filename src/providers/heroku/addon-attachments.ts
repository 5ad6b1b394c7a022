import type { HttpClient } from '../../core/http.ts';
import { providerList } from '../../core/provider-list.ts';
import { seg } from './client.ts';

/**
 * The add-on attachments of an app: every add-on whose config vars the app
 * receives, its own and those shared from other apps (`heroku addons:attach`).
 *
 * Which vars an attachment sets is asked for with `Accept-Inclusion:
 * config_vars`, as the Heroku CLI does (heroku/cli src/lib/addons/resolve.ts and
 * src/lib/pg/util.ts); an answer without them falls back to the CLI's naming,
 * `<ATTACHMENT NAME>_URL`. An add-on's own `config_vars` (`/apps/{app}/addons`)
 * would not do: they are the names on the add-on's billing app.
 */

export interface HerokuAttachmentInfo {
  id: string;
  /** Attachment name, e.g. `DATABASE`. */
  name: string;
  addon: { id: string; name: string; app: string };
  /** Config vars this attachment sets on the app, e.g. `DATABASE_URL`. */
  configVars: string[];
}

interface AttachmentJson {
  id: string;
  name: string;
  addon: { id: string; name: string; app?: { name?: string } | null };
  config_vars?: string[] | null;
}

export class HerokuAddonAttachments {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  async listByApp(app: string): Promise<HerokuAttachmentInfo[]> {
    const res = await this.http.request<AttachmentJson[]>({
      operation: 'add-on-attachment.list-by-app',
      path: `/apps/${seg(app)}/addon-attachments`,
      headers: { 'accept-inclusion': 'addon:plan,config_vars' },
    });
    return providerList<AttachmentJson>(res.data, {
      provider: this.http.provider,
      operation: 'add-on-attachment.list-by-app',
      fields: { id: 'text', name: 'text', addon: 'object' },
      requestId: res.requestId,
      request: res.request,
    }).map((a) => ({
      id: a.id,
      name: a.name,
      addon: { id: a.addon.id, name: a.addon.name, app: a.addon.app?.name ?? '' },
      configVars: a.config_vars && a.config_vars.length > 0 ? a.config_vars : [`${a.name}_URL`],
    }));
  }
}
