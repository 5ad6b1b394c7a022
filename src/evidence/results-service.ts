import { createHash } from 'node:crypto';
import { HttpClient } from '../core/http.ts';

/**
 * The GitHub Actions results service, the artifact backend the runner announces
 * in ACTIONS_RESULTS_URL: Twirp JSON calls to ArtifactService (the same
 * requests @actions/artifact v6 sends, field names as in the .proto) and the
 * Azure Blob upload to the signed URL CreateArtifact hands out.
 *
 * Written on our HTTP client instead of calling @actions/artifact because that
 * client cannot be bounded: its Twirp calls have no timeout and take no
 * AbortSignal (a hung CreateArtifact or FinalizeArtifact waits forever), it
 * retries on a fixed 3 s base ignoring Retry-After, never retries a dropped
 * connection, and gives no way to tell "this name exists" from other failures.
 * Here every call has the per-attempt timeout (OPS_ACTIONS_REQUEST_TIMEOUT),
 * the shared retry policy, and the caller's deadline.
 *
 * Every Twirp call is sent as retry-safe: CreateArtifact refuses a second
 * artifact of one name in a run (409 `already_exists`, handled by the
 * caller), FinalizeArtifact of a finalized artifact is checked by listing it,
 * ListArtifacts and GetSignedArtifactURL are reads, and DeleteArtifact of a
 * deleted artifact answers `not_found`.
 */

export const TWIRP_SERVICE = 'github.actions.results.api.v1.ArtifactService';
/** The artifact version @actions/artifact v6 creates (zip, v4 backend). */
const ARTIFACT_VERSION = 7;
/** Azure Storage REST version sent with blob requests; Put Blob of any size we send exists since 2019-12-12. */
const STORAGE_VERSION = '2024-11-04';

export interface BackendIds {
  run: string;
  job: string;
}

export interface ListedArtifact {
  id: number;
  name: string;
  size: number;
  createdAt: string | undefined;
  /** `sha256:<hex>` when the service reports it. */
  digest: string | undefined;
}

export type CreateResult = { created: true; uploadUrl: string } | { created: false; reason: string };

/** What the uploader needs of the results service: narrow, so a test can stand in for it. */
export interface ResultsService {
  readonly ids: BackendIds;
  create(name: string, expiresAt: Date | undefined, mimeType: string): Promise<CreateResult>;
  putBlob(uploadUrl: string, bytes: Buffer, contentType: string, timeoutMs: number): Promise<void>;
  finalize(name: string, size: number, digest: string): Promise<number>;
  /** The finalized artifact of this name in this run, if any (the service lists only finalized ones). */
  find(name: string): Promise<ListedArtifact | undefined>;
  download(name: string, timeoutMs: number): Promise<Buffer>;
  /** False when there was nothing of that name to delete. */
  delete(name: string): Promise<boolean>;
}

export interface ResultsServiceOptions {
  resultsUrl: string;
  runtimeToken: string;
  redact: (text: string) => string;
  /** Cuts every request: the upload's overall bound. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Called with each credential the service hands out (a signed URL's `sig`), to mask it. */
  onSecret?: (value: string) => void;
}

/** The run and job backend ids from the runtime token's `Actions.Results:<run>:<job>` scope. */
export function backendIdsFromToken(token: string): BackendIds {
  const payload = token.split('.')[1];
  let scp: unknown;
  try {
    scp = (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { scp?: unknown }).scp;
  } catch {
    scp = undefined;
  }
  if (typeof scp === 'string') {
    for (const scope of scp.split(' ')) {
      const parts = scope.split(':');
      if (parts[0] === 'Actions.Results' && parts.length === 3 && parts[1] && parts[2])
        return { run: parts[1], job: parts[2] };
    }
  }
  throw new Error('ACTIONS_RUNTIME_TOKEN carries no Actions.Results scope (is this a GitHub Actions job?)');
}

interface TwirpArtifact {
  database_id?: string;
  name?: string;
  size?: string;
  created_at?: string;
  digest?: string;
}

export function createResultsService(options: ResultsServiceOptions): ResultsService {
  const ids = backendIdsFromToken(options.runtimeToken);
  const twirp = new HttpClient({
    provider: 'GitHub results service',
    baseUrl: new URL(options.resultsUrl).origin,
    headers: { authorization: `Bearer ${options.runtimeToken}` },
    redact: options.redact,
    signal: options.signal,
    env: options.env,
  });
  const blob = new HttpClient({
    provider: 'artifact blob storage',
    baseUrl: new URL(options.resultsUrl).origin,
    headers: { 'x-ms-version': STORAGE_VERSION },
    redact: options.redact,
    signal: options.signal,
    env: options.env,
  });
  const scope = { workflow_run_backend_id: ids.run, workflow_job_run_backend_id: ids.job };

  const call = <T>(method: string, body: Record<string, unknown>, acceptStatus?: number[]) =>
    twirp.request<T>({
      operation: method,
      method: 'POST',
      path: `/twirp/${TWIRP_SERVICE}/${method}`,
      json: { ...scope, ...body },
      retrySafe: true,
      acceptStatus,
    });

  const maskSignature = (url: string) => {
    const sig = new URL(url).searchParams.get('sig');
    if (sig) options.onSecret?.(sig);
  };

  return {
    ids,
    async create(name, expiresAt, mimeType) {
      const res = await call<{ ok?: boolean; signed_upload_url?: string; code?: string; msg?: string }>(
        'CreateArtifact',
        {
          name,
          mime_type: mimeType,
          version: ARTIFACT_VERSION,
          ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
        },
        [409],
      );
      if (res.status === 409)
        return { created: false, reason: res.data?.msg ?? 'an artifact with this name already exists' };
      if (!res.data?.ok || !res.data.signed_upload_url)
        throw new Error('CreateArtifact answered without ok and a signed upload URL');
      maskSignature(res.data.signed_upload_url);
      return { created: true, uploadUrl: res.data.signed_upload_url };
    },
    async putBlob(uploadUrl, bytes, contentType, timeoutMs) {
      // Put Blob replaces the whole blob, so sending it again after a lost answer does no harm.
      await blob.request({
        operation: 'PutBlob',
        method: 'PUT',
        path: uploadUrl,
        body: bytes,
        timeoutMs,
        headers: {
          'x-ms-blob-type': 'BlockBlob',
          'x-ms-blob-content-type': contentType,
          'content-type': contentType,
          // The service rejects a body that does not match (400 Md5Mismatch).
          'content-md5': createHash('md5').update(bytes).digest('base64'),
        },
      });
    },
    async finalize(name, size, digest) {
      const res = await call<{ ok?: boolean; artifact_id?: string }>('FinalizeArtifact', {
        name,
        size: String(size),
        hash: digest,
      });
      const id = Number(res.data?.artifact_id);
      if (!res.data?.ok || !Number.isSafeInteger(id))
        throw new Error('FinalizeArtifact answered without ok and an artifact id');
      return id;
    },
    async find(name) {
      const res = await call<{ artifacts?: TwirpArtifact[] }>('ListArtifacts', { name_filter: name });
      const found = (res.data?.artifacts ?? [])
        .filter((a) => a.name === name)
        .sort((a, b) => Number(b.database_id) - Number(a.database_id))[0];
      if (!found) return undefined;
      return {
        id: Number(found.database_id),
        name,
        size: Number(found.size ?? 0),
        createdAt: found.created_at,
        digest: found.digest,
      };
    },
    async download(name, timeoutMs) {
      const res = await call<{ signed_url?: string }>('GetSignedArtifactURL', { name });
      const url = res.data?.signed_url;
      if (!url) throw new Error('GetSignedArtifactURL answered without a signed URL');
      maskSignature(url);
      const got = await blob.request({ operation: 'GetBlob', path: url, binary: true, timeoutMs });
      return got.bytes ?? Buffer.alloc(0);
    },
    async delete(name) {
      const res = await call<{ ok?: boolean }>('DeleteArtifact', { name }, [404]);
      return res.status !== 404;
    },
  };
}
