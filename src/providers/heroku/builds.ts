import type { HttpClient } from '../../core/http.ts';
import { LineStream } from '../../core/line-stream.ts';
import { ComposedError, msg } from '../../core/message.ts';
import { providerList } from '../../core/provider-list.ts';
import type { Redactor } from '../../core/redact.ts';
import { loadUndici } from '../../core/undici.ts';
import { seg } from './client.ts';

/**
 * Heroku Builds: create a build from a source tarball URL, follow its output
 * stream line by line while it runs, and read its outcome and release.
 */

export interface HerokuBuildInfo {
  id: string;
  status: 'pending' | 'succeeded' | 'failed' | string;
  /** `source_blob.version`: we send the deploy tag, so a re-run knows the build it started. */
  version: string | undefined;
  outputStreamUrl: string | undefined;
  releaseId: string | undefined;
}

interface BuildJson {
  id: string;
  status: string;
  source_blob?: { version?: string | null } | null;
  output_stream_url?: string | null;
  release?: { id: string } | null;
}

export class HerokuBuilds {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  /** Not retried: a second POST starts a second build. */
  async create(app: string, source: { url: string; version?: string | undefined }): Promise<HerokuBuildInfo> {
    const res = await this.http.request<BuildJson>({
      operation: 'build.create',
      method: 'POST',
      path: `/apps/${seg(app)}/builds`,
      json: { source_blob: { url: source.url, ...(source.version ? { version: source.version } : {}) } },
    });
    return toBuild(res.data);
  }

  /** The app's newest builds first (Heroku's `Range` paging on `started_at`, one page). */
  async recent(app: string, max = 20): Promise<HerokuBuildInfo[]> {
    const res = await this.http.request<BuildJson[]>({
      operation: 'build.list',
      path: `/apps/${seg(app)}/builds`,
      headers: { range: `started_at ..; max=${max}, order=desc` },
      acceptStatus: [206],
    });
    return providerList<BuildJson>(res.data, {
      provider: this.http.provider,
      operation: 'build.list',
      fields: { id: 'text', status: 'text' },
      requestId: res.requestId,
      request: res.request,
    }).map(toBuild);
  }

  /**
   * Cancels a running build (Platform API schema, build "Cancel": DELETE /apps/{app}/builds/{id});
   * it ends `failed`, with no release. `signal` bounds it (and its retries: DELETE is idempotent).
   */
  async cancel(app: string, id: string, signal?: AbortSignal): Promise<HerokuBuildInfo> {
    const res = await this.http.request<BuildJson>({
      operation: 'build.cancel',
      method: 'DELETE',
      path: `/apps/${seg(app)}/builds/${seg(id)}`,
      ...(signal ? { signal } : {}),
    });
    return toBuild(res.data);
  }

  async get(app: string, id: string): Promise<HerokuBuildInfo> {
    const res = await this.http.request<BuildJson>({
      operation: 'build.info',
      path: `/apps/${seg(app)}/builds/${seg(id)}`,
    });
    return toBuild(res.data);
  }
}

function toBuild(json: BuildJson): HerokuBuildInfo {
  return {
    id: json.id,
    status: json.status,
    version: json.source_blob?.version ?? undefined,
    outputStreamUrl: json.output_stream_url ?? undefined,
    releaseId: json.release?.id ?? undefined,
  };
}

/**
 * Reads a build's output stream (a signed URL, no credentials) and hands over
 * each complete line as it arrives, decoded and (with a redactor) redacted as
 * a stream (`LineStream`); the stream ends when the build does.
 */
export async function streamLines(
  url: string,
  onLine: (line: string) => void,
  options: { signal?: AbortSignal; idleTimeoutMs?: number; redactor?: Redactor | undefined } = {},
): Promise<void> {
  const { request } = await loadUndici();
  const res = await request(url, {
    method: 'GET',
    headers: { accept: 'text/plain', 'user-agent': 'ops-actions/0.1' },
    ...(options.signal ? { signal: options.signal } : {}),
    bodyTimeout: options.idleTimeoutMs ?? 10 * 60_000,
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new ComposedError(msg`build output stream answered HTTP ${res.statusCode}`);
  }
  const lines = new LineStream(onLine, { redactor: options.redactor });
  for await (const chunk of res.body) lines.write(chunk as Uint8Array);
  lines.end();
}
