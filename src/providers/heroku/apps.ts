import type { HttpClient } from '../../core/http.ts';
import { seg } from './client.ts';

export interface HerokuAppInfo {
  id: string;
  name: string;
  region: string;
  stack: string;
  team: string | undefined;
  ownerId: string | undefined;
  acm: boolean;
  webUrl: string;
  createdAt: string;
  /** Platform generation: `cedar` (slugs) or `fir` (OCI images, no slugs). */
  generation: string;
}

/**
 * An app name that answers 403 exists and belongs to an account this key has no
 * access to (Heroku answers 404 only for names no app has).
 */
export class HerokuAppForbidden extends Error {
  readonly app: string;

  constructor(app: string, providerMessage: string) {
    super(`Heroku app ${app} exists but this heroku-api-key has no access to it (403: ${providerMessage})`);
    this.name = 'HerokuAppForbidden';
    this.app = app;
  }
}

interface AppJson {
  id: string;
  name: string;
  region?: { name?: string } | null;
  stack?: { name?: string } | null;
  build_stack?: { name?: string } | null;
  team?: { name?: string } | null;
  organization?: { name?: string } | null;
  owner?: { id?: string } | null;
  acm?: boolean;
  web_url?: string | null;
  created_at?: string;
  generation?: { name?: string } | null;
}

export interface CreateAppInput {
  name: string;
  region: string;
  stack: string;
  /** Apps of a team are created through `/teams/apps`. */
  team?: string | undefined;
}

export class HerokuApps {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  /**
   * The app, or undefined when no app has that name or id.
   * @throws HerokuAppForbidden when the app exists but belongs to someone else (403).
   */
  async find(app: string): Promise<HerokuAppInfo | undefined> {
    const res = await this.http.request<AppJson & { message?: string }>({
      operation: 'app.info',
      path: `/apps/${seg(app)}`,
      acceptStatus: [403, 404],
    });
    if (res.status === 403) throw new HerokuAppForbidden(app, res.data?.message ?? 'forbidden');
    return res.status === 404 ? undefined : toApp(res.data);
  }

  async get(app: string): Promise<HerokuAppInfo> {
    const res = await this.http.request<AppJson>({ operation: 'app.info', path: `/apps/${seg(app)}` });
    return toApp(res.data);
  }

  /**
   * Not retried: a create that timed out may have happened, and a second one answers
   * 422 (name taken). Callers re-observe instead.
   */
  async create(input: CreateAppInput): Promise<HerokuAppInfo> {
    const res = input.team
      ? await this.http.request<AppJson>({
          operation: 'team-app.create',
          method: 'POST',
          path: '/teams/apps',
          json: { name: input.name, region: input.region, stack: input.stack, team: input.team },
        })
      : await this.http.request<AppJson>({
          operation: 'app.create',
          method: 'POST',
          path: '/apps',
          json: { name: input.name, region: input.region, stack: input.stack },
        });
    return toApp(res.data);
  }

  /** Deleting an app that is already gone counts as done. */
  async delete(app: string): Promise<boolean> {
    const res = await this.http.request({
      operation: 'app.delete',
      method: 'DELETE',
      path: `/apps/${seg(app)}`,
      acceptStatus: [404],
    });
    return res.status !== 404;
  }
}

function toApp(json: AppJson): HerokuAppInfo {
  return {
    id: json.id,
    name: json.name,
    region: json.region?.name ?? '',
    stack: json.build_stack?.name ?? json.stack?.name ?? '',
    team: json.team?.name ?? json.organization?.name ?? undefined,
    ownerId: json.owner?.id ?? undefined,
    acm: json.acm === true,
    webUrl: json.web_url ?? '',
    createdAt: json.created_at ?? '',
    generation: json.generation?.name ?? 'cedar',
  };
}
