import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { type ContractCheck, type FakeRequest, type FakeResponse, FakeServer } from '../fake-server.ts';

/**
 * The GitHub Actions results service as @actions/artifact v6 uses it: Twirp
 * JSON calls to ArtifactService (message and field names from the service
 * definitions in actions/toolkit packages/artifact/src/generated/results/api/v1/artifact.ts),
 * and Azure Blob block uploads to the signed URL that CreateArtifact hands out.
 * Tests read what was uploaded from `results.artifacts`.
 *
 * Across jobs it behaves as the real service does for a re-run (a new job run
 * of the same workflow run): artifacts belong to the job that created them
 * (backend ids from the runtime token's `Actions.Results:<run>:<job>` scope,
 * actions/toolkit packages/artifact/src/internal/shared/util.ts), names are
 * unique per workflow run, ListArtifacts shows every finalized artifact of the
 * run with its own backend ids, and GetSignedArtifactURL / DeleteArtifact find
 * an artifact by the backend ids sent with its name — the listed artifact's
 * ids, which is what the official client sends
 * (internal/download/download-artifact.ts, internal/delete/delete-artifact.ts).
 * A request carrying its own job's ids for another job's artifact finds nothing.
 */

type Json = Record<string, unknown>;

export const TWIRP_SERVICE = 'github.actions.results.api.v1.ArtifactService';
const ACCOUNT = 'devstoreaccount1';
const CONTAINER = 'actions-results';

export interface ResultsArtifact {
  id: number;
  name: string;
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
  mimeType: string | undefined;
  /** From CreateArtifact's `expires_at`; undefined when no retention was asked. */
  expiresAt: string | undefined;
  /** Whole days from creation to `expiresAt`, rounded. */
  retentionDays: number | undefined;
  createdAt: string;
  finalized: boolean;
  /** Size the client reported in FinalizeArtifact. */
  size: number;
  /** `sha256:<hex>` the client reported. */
  digest: string | undefined;
  /** The committed blob (the zip, or the raw file with skipArchive). */
  bytes: Buffer;
  blobId: string;
}

interface Blob {
  id: string;
  sig: string;
  /** Uncommitted blocks by id. */
  blocks: Map<string, Buffer>;
  /** The blocks of the committed blob by id, which a later Put Block List may name again. */
  committedBlocks: Map<string, Buffer>;
  committed: Buffer | undefined;
  contentType: string | undefined;
  etag: string;
}

export interface ResultsFake {
  server: FakeServer;
  artifacts: ResultsArtifact[];
  start(): Promise<string>;
  stop(): Promise<void>;
  readonly url: string;
  /** The env the client reads: ACTIONS_RESULTS_URL and a token for these backend ids. */
  env(ids?: { runBackendId?: string; jobBackendId?: string }): Record<string, string>;
  artifact(name: string): ResultsArtifact | undefined;
}

export interface RuntimeTokenInput {
  runBackendId: string;
  jobBackendId: string;
  /** Extra scopes before the Actions.Results one, as the runner's token has. */
  scopes?: string[];
  expiresInSeconds?: number;
}

/** A runtime JWT with the `scp` claim the client decodes; unsigned (`alg: none`), which the fake accepts. */
export function forgeRuntimeToken(input: RuntimeTokenInput): string {
  const nowSec = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'none' };
  const payload = {
    scp: [
      ...(input.scopes ?? ['Actions.GenericRead:00000000-0000-0000-0000-000000000000']),
      `Actions.Results:${input.runBackendId}:${input.jobBackendId}`,
    ].join(' '),
    iss: 'vstoken.actions.githubusercontent.com',
    aud: 'vso:00000000-0000-0000-0000-000000000000',
    nbf: nowSec - 60,
    iat: nowSec - 60,
    exp: nowSec + (input.expiresInSeconds ?? 3600),
  };
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc(header)}.${enc(payload)}.`;
}

export function createResultsFake(): ResultsFake {
  const artifacts: ResultsArtifact[] = [];
  const blobs = new Map<string, Blob>();
  let nextId = 1000;

  const server = new FakeServer({
    name: 'results',
    contract: check,
    notFound: (req) =>
      req.path.startsWith('/twirp/')
        ? twirpError(404, 'bad_route', `no handler for path "${req.path}"`)
        : storageError(404, 'ResourceNotFound', 'The specified resource does not exist.'),
  });

  const ids = (req: FakeRequest) => {
    const body = req.json as Json;
    return { run: String(body.workflow_run_backend_id), job: String(body.workflow_job_run_backend_id) };
  };
  // Names are unique per workflow run, across its jobs and attempts: CreateArtifact answers 409
  // "an artifact with this name already exists on the workflow run" (the message
  // actions/upload-artifact users meet, e.g. actions/upload-artifact#478).
  const inRun = (run: string, name: string) =>
    artifacts.find((a) => a.workflowRunBackendId === run && a.name === name);
  // Finalize, signed URL and delete address one job's artifact: run id, job id and name as sent
  // (the official client sends the listed artifact's ids: internal/delete/delete-artifact.ts,
  // internal/download/download-artifact.ts; its own ids only for its own upload:
  // internal/upload/upload-artifact.ts).
  const ofJob = (req: FakeRequest) => {
    const { run, job } = ids(req);
    const name = String((req.json as Json).name);
    return artifacts.find(
      (a) => a.workflowRunBackendId === run && a.workflowJobRunBackendId === job && a.name === name,
    );
  };
  const blobUrl = (blob: Blob, permissions: string) => {
    const expiry = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const query = new URLSearchParams({
      sv: '2025-05-05',
      se: expiry,
      sr: 'b',
      sp: permissions,
      sig: blob.sig,
    });
    return `${server.url}/${ACCOUNT}/${CONTAINER}/${blob.id}.zip?${query}`;
  };

  const twirp = (method: string, handler: (req: FakeRequest) => FakeResponse) =>
    server.route('POST', `/twirp/${TWIRP_SERVICE}/${method}`, handler);

  twirp('CreateArtifact', (req) => {
    const body = req.json as Json;
    const { run, job } = ids(req);
    const name = String(body.name);
    // A record that was never finalized holds the name too: an upload cut after CreateArtifact
    // leaves the name taken for the rest of the run, and no list shows it (reported in
    // atlanhq/application-sdk#3711 and DataDog/dd-trace-js#10228: `overwrite` cannot clear it).
    if (inRun(run, name)) {
      return twirpError(
        409,
        'already_exists',
        'an artifact with this name already exists on the workflow run',
      );
    }
    const blob: Blob = {
      id: randomUUID(),
      // A SAS signature is the base64 of an HMAC-SHA256, 44 characters with `=` padding (Azure
      // Storage REST docs, "Create a service SAS": signature): its URI form always differs.
      sig: randomBytes(32).toString('base64'),
      blocks: new Map(),
      committedBlocks: new Map(),
      committed: undefined,
      contentType: undefined,
      etag: '',
    };
    blobs.set(blob.id, blob);
    const createdAt = new Date();
    const expiresAt = typeof body.expires_at === 'string' ? body.expires_at : undefined;
    artifacts.push({
      id: nextId++,
      name,
      workflowRunBackendId: run,
      workflowJobRunBackendId: job,
      mimeType: typeof body.mime_type === 'string' ? body.mime_type : undefined,
      expiresAt,
      retentionDays: expiresAt
        ? Math.round((Date.parse(expiresAt) - createdAt.getTime()) / 86_400_000)
        : undefined,
      createdAt: createdAt.toISOString(),
      finalized: false,
      size: 0,
      digest: undefined,
      bytes: Buffer.alloc(0),
      blobId: blob.id,
    });
    return { status: 200, json: { ok: true, signed_upload_url: blobUrl(blob, 'cw') } };
  });

  twirp('FinalizeArtifact', (req) => {
    const body = req.json as Json;
    const artifact = ofJob(req);
    if (!artifact) return twirpError(404, 'not_found', 'artifact not found');
    const blob = blobs.get(artifact.blobId)!;
    if (!blob.committed) return twirpError(400, 'failed_precondition', 'artifact blob has not been uploaded');
    const size = Number(body.size);
    if (size !== blob.committed.length) {
      return twirpError(
        400,
        'invalid_argument',
        `size ${size} does not match the uploaded ${blob.committed.length} bytes`,
      );
    }
    const digest = typeof body.hash === 'string' ? body.hash : undefined;
    const actual = `sha256:${createHash('sha256').update(blob.committed).digest('hex')}`;
    if (digest && digest !== actual)
      return twirpError(400, 'invalid_argument', `hash ${digest} does not match ${actual}`);
    Object.assign(artifact, { finalized: true, size, digest: digest ?? actual, bytes: blob.committed });
    return { status: 200, json: { ok: true, artifact_id: String(artifact.id) } };
  });

  // Every finalized artifact of the run, whichever job made it, each with its own backend ids
  // (ListArtifactsResponse_MonolithArtifact in generated/results/api/v1/artifact.ts; the client
  // keeps them to address the artifact: internal/find/get-artifact.ts, delete-artifact.ts).
  // Not-finalized records are not listed (see CreateArtifact).
  twirp('ListArtifacts', (req) => {
    const body = req.json as Json;
    const { run } = ids(req);
    const listed = artifacts.filter(
      (a) =>
        a.finalized &&
        a.workflowRunBackendId === run &&
        (body.name_filter === undefined || a.name === body.name_filter) &&
        (body.id_filter === undefined || String(a.id) === String(body.id_filter)),
    );
    return {
      status: 200,
      json: {
        artifacts: listed.map((a) => ({
          workflow_run_backend_id: a.workflowRunBackendId,
          workflow_job_run_backend_id: a.workflowJobRunBackendId,
          database_id: String(a.id),
          name: a.name,
          size: String(a.size),
          created_at: a.createdAt,
          digest: a.digest,
        })),
      },
    };
  });

  twirp('GetSignedArtifactURL', (req) => {
    const artifact = ofJob(req);
    if (!artifact?.finalized) return twirpError(404, 'not_found', 'artifact not found');
    return { status: 200, json: { signed_url: blobUrl(blobs.get(artifact.blobId)!, 'r') } };
  });

  twirp('DeleteArtifact', (req) => {
    const artifact = ofJob(req);
    if (!artifact) return twirpError(404, 'not_found', 'artifact not found');
    artifacts.splice(artifacts.indexOf(artifact), 1);
    blobs.delete(artifact.blobId);
    return { status: 200, json: { ok: true, artifact_id: String(artifact.id) } };
  });

  const blobRoute = `/${ACCOUNT}/${CONTAINER}/:blob`;
  // Azure Blob REST as @azure/storage-blob's uploadStream sends it for the signed upload URL
  // (actions/toolkit packages/artifact/src/internal/upload/blob-upload.ts): Put Block per chunk,
  // then Put Block List; Put Blob for a single-shot upload.
  server.route('PUT', blobRoute, (req) => {
    const blob = blobs.get(req.params.blob!.replace(/\.zip$/, ''));
    if (!blob) return storageError(404, 'BlobNotFound', 'The specified blob does not exist.');
    const comp = req.query.get('comp');
    if (comp === 'block') {
      const blockId = req.query.get('blockid');
      if (!blockId) return storageError(400, 'InvalidQueryParameterValue', 'blockid is required.');
      blob.blocks.set(blockId, req.body);
      return { status: 201, headers: storageHeaders({ 'x-ms-request-server-encrypted': 'true' }) };
    }
    if (comp === 'blocklist') {
      // Put Block List (Azure Storage REST docs): `Uncommitted` names a block staged since the last
      // commit, `Committed` one of the committed blob, `Latest` the uncommitted one if any, else the
      // committed one. So a Put Block List sent again after its commit (a lost answer, retried)
      // commits the same blob again.
      const wanted = [
        ...req.body.toString('utf8').matchAll(/<(Latest|Uncommitted|Committed)>([^<]*)<\/\1>/g),
      ];
      const found = wanted.map(([, kind, id]) =>
        kind === 'Uncommitted'
          ? blob.blocks.get(id!)
          : kind === 'Committed'
            ? blob.committedBlocks.get(id!)
            : (blob.blocks.get(id!) ?? blob.committedBlocks.get(id!)),
      );
      if (found.length === 0 || found.some((b) => b === undefined)) {
        return storageError(400, 'InvalidBlockList', 'The specified block list is invalid.');
      }
      const blocks = new Map(wanted.map(([, , id], i) => [id!, found[i]!]));
      return commit(blob, Buffer.concat(found as Buffer[]), req.headers['x-ms-blob-content-type'], blocks);
    }
    if (comp === null && req.headers['x-ms-blob-type'] === 'BlockBlob') {
      return commit(blob, req.body, req.headers['x-ms-blob-content-type'] ?? req.headers['content-type']);
    }
    return storageError(400, 'InvalidQueryParameterValue', `Unsupported blob operation comp=${comp}.`);
  });
  // Get Blob with the URL GetSignedArtifactURL signed for reading (internal/download/download-artifact.ts).
  server.route('GET', blobRoute, (req) => {
    const blob = blobs.get(req.params.blob!.replace(/\.zip$/, ''));
    if (!blob?.committed) return storageError(404, 'BlobNotFound', 'The specified blob does not exist.');
    return {
      status: 200,
      body: blob.committed,
      headers: storageHeaders({
        'content-type': blob.contentType ?? 'application/octet-stream',
        etag: blob.etag,
        'x-ms-blob-type': 'BlockBlob',
      }),
    };
  });

  function commit(
    blob: Blob,
    bytes: Buffer,
    contentType: string | undefined,
    blocks = new Map<string, Buffer>(),
  ): FakeResponse {
    blob.committed = bytes;
    blob.contentType = contentType;
    // Committing discards every uncommitted block (Put Block List docs).
    blob.blocks.clear();
    blob.committedBlocks = blocks;
    blob.etag = `"0x${randomBytes(8).toString('hex').toUpperCase()}"`;
    return {
      status: 201,
      headers: storageHeaders({
        etag: blob.etag,
        'last-modified': new Date().toUTCString(),
        'x-ms-request-server-encrypted': 'true',
      }),
    };
  }

  function check(req: FakeRequest): ContractCheck {
    if (req.path.startsWith('/twirp/')) return checkTwirp(req);
    return checkBlob(req);
  }

  function checkBlob(req: FakeRequest): ContractCheck {
    const operation = `blob.${req.method === 'GET' ? 'get' : (req.query.get('comp') ?? 'put')}`;
    const blob = blobs.get(
      req.path
        .split('/')
        .at(-1)!
        .replace(/\.zip$/, ''),
    );
    const violations: string[] = [];
    // A request signed with a SAS names its version in `sv`; x-ms-version is needed only without
    // it (Azure Storage docs, "Versioning for Azure Storage"). The official client's download is a
    // plain GET of the signed URL (internal/download/download-artifact.ts, streamExtractExternal).
    if (!req.headers['x-ms-version'] && !req.query.get('sv')) violations.push('no x-ms-version header');
    // A service SAS (Azure Storage docs, "Create a service SAS"): the signature `sig` it issued,
    // permissions `sp` (r to read, c/w to create and write), expiry `se`; anything else is 403.
    const sig = req.query.get('sig');
    const permissions = req.query.get('sp') ?? '';
    const expired = Date.parse(req.query.get('se') ?? '') < Date.now();
    const allowed = req.method === 'GET' ? permissions.includes('r') : permissions.includes('w');
    if (!blob || sig !== blob.sig || expired || !allowed) {
      return {
        operation,
        violations: ['blob request without a valid signature'],
        reject: storageError(
          403,
          'AuthenticationFailed',
          'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
        ),
      };
    }
    return { operation, violations };
  }

  return {
    server,
    artifacts,
    get url() {
      return server.url;
    },
    start: () => server.start(),
    stop: () => server.stop(),
    env(input = {}) {
      return {
        ACTIONS_RESULTS_URL: `${server.url}/`,
        ACTIONS_RUNTIME_TOKEN: forgeRuntimeToken({
          runBackendId: input.runBackendId ?? randomUUID(),
          jobBackendId: input.jobBackendId ?? randomUUID(),
        }),
      };
    },
    artifact: (name) => artifacts.find((a) => a.name === name),
  };
}

/**
 * Field name → JSON type the protobuf JSON mapping gives (int64 travels as a string), per request
 * message of the ArtifactService definitions (actions/toolkit
 * packages/artifact/src/generated/results/api/v1/artifact.ts: CreateArtifactRequest,
 * FinalizeArtifactRequest, ListArtifactsRequest, GetSignedArtifactURLRequest,
 * DeleteArtifactRequest). Wrapper types (StringValue, Int64Value) travel as their bare value.
 */
const TWIRP_FIELDS: Record<
  string,
  { required: string[]; fields: Record<string, 'string' | 'int32' | 'int64' | 'timestamp'> }
> = {
  CreateArtifact: {
    required: ['workflow_run_backend_id', 'workflow_job_run_backend_id', 'name', 'version'],
    fields: {
      workflow_run_backend_id: 'string',
      workflow_job_run_backend_id: 'string',
      name: 'string',
      expires_at: 'timestamp',
      version: 'int32',
      mime_type: 'string',
    },
  },
  FinalizeArtifact: {
    required: ['workflow_run_backend_id', 'workflow_job_run_backend_id', 'name', 'size'],
    fields: {
      workflow_run_backend_id: 'string',
      workflow_job_run_backend_id: 'string',
      name: 'string',
      size: 'int64',
      hash: 'string',
    },
  },
  ListArtifacts: {
    required: ['workflow_run_backend_id', 'workflow_job_run_backend_id'],
    fields: {
      workflow_run_backend_id: 'string',
      workflow_job_run_backend_id: 'string',
      name_filter: 'string',
      id_filter: 'int64',
    },
  },
  GetSignedArtifactURL: {
    required: ['workflow_run_backend_id', 'workflow_job_run_backend_id', 'name'],
    fields: { workflow_run_backend_id: 'string', workflow_job_run_backend_id: 'string', name: 'string' },
  },
  DeleteArtifact: {
    required: ['workflow_run_backend_id', 'workflow_job_run_backend_id', 'name'],
    fields: { workflow_run_backend_id: 'string', workflow_job_run_backend_id: 'string', name: 'string' },
  },
};

/**
 * Twirp's JSON protocol (twitchtv/twirp docs, "Twirp Wire Protocol"): POST /twirp/<service>/<method>
 * with Content-Type application/json, errors as `{code, msg}` (bad_route for an unknown route or
 * content type, malformed for an undecodable body); the bearer token is the runner's
 * ACTIONS_RUNTIME_TOKEN (internal/shared/artifact-twirp-client.ts sends it).
 */
function checkTwirp(req: FakeRequest): ContractCheck {
  const method = req.path.slice(`/twirp/${TWIRP_SERVICE}/`.length);
  const spec = req.path.startsWith(`/twirp/${TWIRP_SERVICE}/`) ? TWIRP_FIELDS[method] : undefined;
  if (!spec || req.method !== 'POST') {
    return {
      violations: [`no Twirp method ${req.method} ${req.path}`],
      reject: twirpError(404, 'bad_route', `no handler for path "${req.path}"`),
    };
  }
  const operation = `ArtifactService.${method}`;
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    return {
      operation,
      violations: ['Content-Type is not application/json'],
      reject: twirpError(404, 'bad_route', 'unexpected Content-Type'),
    };
  }
  const scope = tokenScope(req.headers.authorization);
  if (!scope) {
    return {
      operation,
      violations: ['no runtime token with an Actions.Results scope'],
      reject: twirpError(401, 'unauthenticated', 'invalid token'),
    };
  }
  const body = req.json;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return {
      operation,
      violations: ['body is not a JSON object'],
      reject: twirpError(400, 'malformed', 'the json request could not be decoded'),
    };
  }
  const problems: string[] = [];
  for (const field of spec.required) {
    if ((body as Json)[field] === undefined || (body as Json)[field] === '')
      problems.push(`${field} is required`);
  }
  for (const [field, value] of Object.entries(body as Json)) {
    const type = spec.fields[field];
    if (!type) problems.push(`unknown field ${field}`);
    else if (!fitsType(value, type)) problems.push(`${field} is not a ${type}`);
  }
  // Artifacts v4 and later live in the results service (internal/upload/upload-artifact.ts sends 7).
  if (method === 'CreateArtifact' && Number((body as Json).version) < 4)
    problems.push('version must be 4 or later');
  if (problems.length > 0) {
    return {
      operation,
      violations: problems,
      reject: twirpError(400, 'invalid_argument', problems.join('; ')),
    };
  }
  const run = (body as Json).workflow_run_backend_id;
  const job = (body as Json).workflow_job_run_backend_id;
  // The token is scoped to one workflow run: nothing of another run is reachable with it.
  // Within the run, uploading (Create/Finalize) and listing are the token's own job's
  // (internal/upload/upload-artifact.ts, internal/find/list-artifacts.ts send the token's ids),
  // while reading and deleting address an artifact by its listed ids, which may be an
  // earlier job's (internal/download/download-artifact.ts, internal/delete/delete-artifact.ts).
  const ownJobOnly =
    method === 'CreateArtifact' || method === 'FinalizeArtifact' || method === 'ListArtifacts';
  if (run !== scope.run || (ownJobOnly && job !== scope.job)) {
    return {
      operation,
      violations: ['backend ids differ from the token scope'],
      reject: twirpError(403, 'permission_denied', 'workflow run backend ids do not match the token'),
    };
  }
  return { operation, violations: [] };
}

function fitsType(value: unknown, type: 'string' | 'int32' | 'int64' | 'timestamp'): boolean {
  if (type === 'string') return typeof value === 'string';
  if (type === 'int32') return Number.isInteger(value);
  if (type === 'int64') return typeof value === 'string' ? /^-?\d+$/.test(value) : Number.isInteger(value);
  return typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value);
}

/** The `Actions.Results:<run>:<job>` scope of an unexpired runtime JWT (internal/shared/util.ts reads it the same way). */
function tokenScope(header: string | undefined): { run: string; job: string } | undefined {
  const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      scp?: string;
      exp?: number;
    };
    if (claims.exp !== undefined && claims.exp * 1000 < Date.now()) return undefined;
    for (const scope of (claims.scp ?? '').split(' ')) {
      const [kind, run, job, ...rest] = scope.split(':');
      if (kind === 'Actions.Results' && run && job && rest.length === 0) return { run, job };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function twirpError(status: number, code: string, msg: string): FakeResponse {
  return { status, json: { code, msg } };
}

function storageHeaders(extra: Record<string, string>): Record<string, string> {
  return {
    'x-ms-request-id': randomUUID(),
    'x-ms-version': '2025-05-05',
    date: new Date().toUTCString(),
    ...extra,
  };
}

/** Azure Storage's error shape (Azure Storage REST docs, "Status and error codes"): x-ms-error-code and an XML body. */
function storageError(status: number, code: string, message: string): FakeResponse {
  return {
    status,
    headers: storageHeaders({ 'x-ms-error-code': code, 'content-type': 'application/xml' }),
    body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${randomUUID()}\nTime:${new Date().toISOString()}</Message></Error>`,
  };
}

/** Entries of a zip read through its central directory (archiver writes sizes only there). */
export function unzipEntries(zip: Buffer): Map<string, Buffer> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + compressed);
    if (!name.endsWith('/')) out.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}
