import type { HttpClient } from '../../core/http.ts';
import { seg } from './client.ts';
import { type HerokuReleaseInfo, type ReleaseJson, toRelease } from './releases.ts';

/**
 * The Releases API calls a deploy needs beyond listing: one release by id or
 * version, and a rollback (`POST /apps/{app}/releases {release}`), which makes
 * a new release with the slug and config of the one named.
 */

export class HerokuReleaseActions {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  async get(app: string, release: string): Promise<HerokuReleaseInfo | undefined> {
    const res = await this.http.request<ReleaseJson>({
      operation: 'release.info',
      path: `/apps/${seg(app)}/releases/${seg(release)}`,
      acceptStatus: [404],
    });
    return res.status === 404 ? undefined : toRelease(res.data);
  }

  /** Not retried: a second POST would make a second release. */
  async rollback(app: string, releaseId: string): Promise<HerokuReleaseInfo> {
    const res = await this.http.request<ReleaseJson>({
      operation: 'release.rollback',
      method: 'POST',
      path: `/apps/${seg(app)}/releases`,
      json: { release: releaseId },
    });
    return toRelease(res.data);
  }
}
