import type { HttpClient } from '../../core/http.ts';
import { providerList } from '../../core/provider-list.ts';
import { seg } from './client.ts';

export interface HerokuReleaseInfo {
  id: string;
  version: number;
  status: string;
  slugId: string | undefined;
  current: boolean;
  description: string;
  /** Heroku's `eligible_for_rollback`; a rollback only goes to such a release. */
  eligibleForRollback: boolean;
}

/** A release as the Platform API answers it. */
export interface ReleaseJson {
  id: string;
  version: number;
  status: string;
  slug?: { id: string } | null;
  current?: boolean;
  description?: string;
  eligible_for_rollback?: boolean;
}

export class HerokuReleases {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  /** The newest releases first (Heroku's `Range` paging, one page). */
  async latest(app: string, max = 25): Promise<HerokuReleaseInfo[]> {
    const res = await this.http.request<ReleaseJson[]>({
      operation: 'release.list',
      path: `/apps/${seg(app)}/releases`,
      headers: { range: `version ..; max=${max}, order=desc` },
      acceptStatus: [206],
    });
    return providerList<ReleaseJson>(res.data, {
      provider: this.http.provider,
      operation: 'release.list',
      fields: { id: 'text', version: 'number', status: 'text' },
      requestId: res.requestId,
      request: res.request,
    }).map(toRelease);
  }

  /** The release the app runs now: flagged `current`, else the newest that succeeded. */
  async current(app: string): Promise<HerokuReleaseInfo | undefined> {
    const releases = await this.latest(app);
    return releases.find((r) => r.current) ?? releases.find((r) => r.status === 'succeeded');
  }
}

export function toRelease(r: ReleaseJson): HerokuReleaseInfo {
  return {
    id: r.id,
    version: r.version,
    status: r.status,
    slugId: r.slug?.id ?? undefined,
    current: r.current === true,
    description: r.description ?? '',
    eligibleForRollback: r.eligible_for_rollback ?? r.status === 'succeeded',
  };
}
