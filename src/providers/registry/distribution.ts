import { createHash } from 'node:crypto';
import { ApiError } from '../../core/errors.ts';
import { HttpClient, type HttpClientOptions, isRefusal } from '../../core/http.ts';
import { type ImageReference, isLoopbackRegistry } from './reference.ts';

/**
 * The OCI distribution API, as much as a deploy needs: resolve a tag to the
 * digest of what it points at (an index stays an index, so multi-arch images
 * deploy by index digest), and add a tag by PUT of the very same manifest bytes.
 * Auth follows the registry's `WWW-Authenticate` challenge: Bearer tokens from
 * the realm it names (GHCR, Docker Hub), or Basic. No Docker daemon involved.
 */

export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface Manifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface RegistryClientOptions {
  credentials?: RegistryCredentials | undefined;
  /** The input the credentials came from (`registry-password`), named when the registry refuses them. */
  credentialSource?: string | undefined;
  redact: (text: string) => string;
  /** Each bearer token is a credential: it must be masked the moment it exists. */
  onToken?: (token: string) => void;
  signal?: AbortSignal;
  retry?: HttpClientOptions['retry'];
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `registry-1.docker.io` for Docker Hub; plain HTTP only for loopback registries, as Docker does. */
export function registryBaseUrl(registry: string): string {
  const host = registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
  return `${isLoopbackRegistry(registry) ? 'http' : 'https'}://${host}`;
}

export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const m of match[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export class RegistryClient {
  private readonly http: HttpClient;
  private readonly options: RegistryClientOptions;
  /** Authorization per repository and access level, once the challenge was answered. */
  private readonly auth = new Map<string, string>();

  constructor(registry: string, options: RegistryClientOptions) {
    this.options = options;
    this.http = new HttpClient({
      provider: `Registry ${registry}`,
      baseUrl: registryBaseUrl(registry),
      headers: { 'docker-distribution-api-version': 'registry/2.0' },
      redact: options.redact,
      ...(options.credentials && options.credentialSource ? { credential: options.credentialSource } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
  }

  /** The manifest `reference` (tag or digest) names, with its digest and exact bytes. */
  async manifest(ref: ImageReference, push = false): Promise<Manifest> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const res = await this.send(ref.repository, push, (authorization) => ({
      operation: 'manifest.get',
      path: manifestPath(ref.repository, reference),
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', '), ...authorization },
    }));
    const bytes = Buffer.from(res.text, 'utf8');
    const digest = sha256Digest(bytes);
    const announced = res.headers['docker-content-digest'];
    if (announced && announced !== digest && announced.startsWith('sha256:')) {
      throw new Error(
        `registry answered digest ${announced} for ${ref.repository}:${reference}, but the manifest bytes hash to ${digest}`,
      );
    }
    if (ref.digest && ref.digest !== digest) {
      throw new Error(`manifest ${ref.repository}@${ref.digest} hashes to ${digest}`);
    }
    const mediaType =
      res.headers['content-type']?.split(';')[0]?.trim() ||
      (JSON.parse(res.text) as { mediaType?: string }).mediaType ||
      MANIFEST_MEDIA_TYPES[1];
    return { digest, mediaType, bytes };
  }

  /** PUT the same bytes under `tag`: the digest cannot change, and the registry confirms it. */
  async tag(repository: string, tag: string, manifest: Manifest): Promise<void> {
    const res = await this.send(repository, true, (authorization) => ({
      operation: 'manifest.put',
      method: 'PUT',
      path: manifestPath(repository, tag),
      headers: { 'content-type': manifest.mediaType, ...authorization },
      body: manifest.bytes,
    }));
    const digest = res.headers['docker-content-digest'];
    if (digest && digest !== manifest.digest) {
      throw new Error(`registry stored ${repository}:${tag} as ${digest}, expected ${manifest.digest}`);
    }
  }

  private async send(
    repository: string,
    push: boolean,
    build: (authorization: Record<string, string>) => Parameters<HttpClient['request']>[0],
  ) {
    const key = `${repository} ${push ? 'push' : 'pull'}`;
    const known = this.auth.get(key);
    const first = await this.http.request({
      ...build(known ? { authorization: known } : {}),
      acceptStatus: [401],
    });
    if (first.status !== 401) return first;
    const authorization = await this.authorize(first.headers['www-authenticate'], repository, push);
    this.auth.set(key, authorization);
    return this.http.request(build({ authorization })).catch((error: unknown) => {
      throw this.explained(error);
    });
  }

  /** A 401/403 to a client that sent no credentials: the fix is to give some, so the error says which inputs. */
  private explained(error: unknown): unknown {
    if (this.options.credentials || !(error instanceof ApiError) || !isRefusal(error.status)) return error;
    return new ApiError({
      provider: error.provider,
      operation: error.operation,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.providerMessage === undefined ? {} : { providerMessage: error.providerMessage }),
      retryable: false,
      attempts: error.attempts,
      hint: ANONYMOUS_HINT,
    });
  }

  private async authorize(header: string | undefined, repository: string, push: boolean): Promise<string> {
    const challenge = parseChallenge(header);
    const creds = this.options.credentials;
    const basic = creds
      ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
      : undefined;
    if (challenge?.scheme === 'basic') {
      if (!basic) throw unauthorized(ANONYMOUS_HINT);
      return basic;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw unauthorized(`the registry answered 401 with an unknown challenge (${header ?? 'none'})`);
    }
    const scope = `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
    const res = await this.http
      .request<{ token?: string; access_token?: string }>({
        operation: 'token.get',
        path: challenge.params.realm,
        query: { service: challenge.params.service, scope },
        headers: basic ? { authorization: basic } : {},
      })
      .catch((error: unknown) => {
        throw this.explained(error);
      });
    const token = res.data?.token ?? res.data?.access_token;
    if (!token) throw unauthorized('the token server answered without a token');
    this.options.onToken?.(token);
    return `Bearer ${token}`;
  }
}

const ANONYMOUS_HINT =
  'the registry wants credentials and none were sent: set registry-username and registry-password (the GitHub token is sent only to ghcr.io, the Fly API token only to registry.fly.io)';

function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository.split('/').map(encodeURIComponent).join('/')}/manifests/${encodeURIComponent(reference)}`;
}

function unauthorized(hint: string): ApiError {
  return new ApiError({
    provider: 'Registry',
    operation: 'auth',
    status: 401,
    retryable: false,
    attempts: 1,
    hint,
  });
}
