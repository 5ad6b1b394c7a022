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

  /** The app, or undefined when no app of that name or id exists (or the key cannot see it). */
  async find(app: string): Promise<HerokuAppInfo | undefined> {
    const res = await this.http.request<AppJson>({
      operation: 'app.info',
      path: `/apps/${seg(app)}`,
      acceptStatus: [404],
    });
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
  };
}
