import { createHash } from 'node:crypto';
import { ApiError } from '../../core/errors.ts';
import { excerpt, HttpClient, type HttpClientOptions, isRefusal, providerMessage } from '../../core/http.ts';
import { ComposedError, msg } from '../../core/message.ts';
import {
  type Challenge,
  coversScopes,
  mergeScopes,
  parseChallenges,
  parseScope,
  pickChallenge,
  scopesOf,
} from './challenge.ts';
import { registryRateLimit } from './rate-limit.ts';
import { DOCKER_HUB, DOCKER_HUB_API_HOST, type ImageReference, isLoopbackRegistry } from './reference.ts';

/**
 * The OCI distribution API, as much as a deploy needs: resolve a tag to the
 * digest of what it points at (an index stays an index, so multi-arch images
 * deploy by index digest), and add a tag by PUT of the very same manifest bytes.
 * Auth follows the registry's `WWW-Authenticate` challenges (challenge.ts):
 * Bearer tokens from the realm it names (GHCR, Docker Hub; anonymous ones
 * without credentials), or Basic. No Docker daemon involved.
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
  /** Bounds every wait (rate limits, retries): the deploy's health-timeout from the step's start. */
  waitBound?: HttpClientOptions['waitBound'];
  /** Receives one line per wait. */
  log?: HttpClientOptions['log'];
  /** Test-only: the jitter of waits. */
  random?: HttpClientOptions['random'];
}

/** `registry-1.docker.io` for Docker Hub; plain HTTP only for loopback registries, as Docker does. */
export function registryBaseUrl(registry: string): string {
  const host = registry === DOCKER_HUB || registry === 'index.docker.io' ? DOCKER_HUB_API_HOST : registry;
  return `${isLoopbackRegistry(registry) ? 'http' : 'https'}://${host}`;
}

/** Whether a `tag-image` deploy may push to a repository, learnt before any target is touched. */
export type PushAccess =
  | {
      allowed: true;
      how: string;
      /** Push rights were not learnt (a dry run sends no upload probe): the real run may still be refused. */
      unverified?: boolean;
    }
  | {
      allowed: false;
      /** What is missing, for the error: `no credentials were sent`, `the token grants pull only`, … */
      missing: string;
    };

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** What a registry's `Authorization` is for one repository. */
interface Authorization {
  header: string;
  /** The scopes it covers: asked of the token server (Bearer), or all there are (Basic). */
  scopes: string[];
  /** The actions on the repository the token server said it granted; undefined when it did not say. */
  granted: Set<string> | undefined;
}

interface TokenResponse {
  token?: string;
  access_token?: string;
  scope?: string;
}

type Actions = 'pull' | 'pull,push';

export class RegistryClient {
  private readonly http: HttpClient;
  private readonly registry: string;
  private readonly baseUrl: string;
  private readonly options: RegistryClientOptions;
  /**
   * One authorization per repository. A token's scopes grow as operations
   * need more, the newest first, as google/go-containerregistry
   * pkg/v1/remote/transport/bearer.go (RoundTrip) does: some token servers
   * read only the first scope.
   */
  private readonly auth = new Map<string, Authorization>();

  constructor(registry: string, options: RegistryClientOptions) {
    this.registry = registry;
    this.options = options;
    this.baseUrl = registryBaseUrl(registry);
    this.http = new HttpClient({
      provider: `Registry ${registry}`,
      baseUrl: this.baseUrl,
      headers: { 'docker-distribution-api-version': 'registry/2.0' },
      redact: options.redact,
      ...(options.credentials && options.credentialSource ? { credential: options.credentialSource } : {}),
      rateLimit: registryRateLimit,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.waitBound ? { waitBound: options.waitBound } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
  }

  /**
   * The manifest `reference` (tag or digest) names, with its digest and its
   * bytes exactly as received: they are PUT again unchanged, so the digest
   * (sha256 of those bytes) cannot change. A GET counts as a pull on Docker Hub.
   */
  async manifest(ref: ImageReference): Promise<Manifest> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const res = await this.send(ref.repository, 'pull', (authorization) => ({
      operation: 'manifest.get',
      path: manifestPath(ref.repository, reference),
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', '), ...authorization },
      binary: true,
    }));
    const bytes = res.bytes ?? Buffer.from(res.text, 'utf8');
    const digest = sha256Digest(bytes);
    const announced = res.headers['docker-content-digest'];
    if (announced && announced !== digest && announced.startsWith('sha256:')) {
      throw new ComposedError(
        msg`registry answered digest ${announced} for ${ref.repository}:${reference}, but the manifest bytes hash to ${digest}`,
      );
    }
    if (ref.digest && ref.digest !== digest) {
      throw new ComposedError(msg`manifest ${ref.repository}@${ref.digest} hashes to ${digest}`);
    }
    return { digest, mediaType: mediaTypeOf(res.headers, bytes), bytes };
  }

  /**
   * The digest and media type `ref` points at, by HEAD: Docker Hub counts a
   * manifest GET as a pull against its limit and a HEAD not
   * (https://docs.docker.com/docker-hub/usage/pulls/). A registry that sends no
   * `Docker-Content-Digest` is asked by GET instead, as crane does
   * (google/go-containerregistry pkg/crane/digest.go).
   */
  async resolve(ref: ImageReference): Promise<{ digest: string; mediaType: string }> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const res = await this.send(ref.repository, 'pull', (authorization) => ({
      operation: 'manifest.head',
      method: 'HEAD',
      path: manifestPath(ref.repository, reference),
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', '), ...authorization },
    }));
    const digest = res.headers['docker-content-digest'];
    if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) {
      const manifest = await this.manifest(ref);
      return { digest: manifest.digest, mediaType: manifest.mediaType };
    }
    if (ref.digest && ref.digest !== digest) {
      throw new ComposedError(msg`registry answered digest ${digest} for ${ref.repository}@${ref.digest}`);
    }
    return { digest, mediaType: res.headers['content-type']?.split(';')[0]?.trim() || '' };
  }

  /**
   * Whether the manifest `ref` names is in the registry, by one HEAD (no pull
   * counted on Docker Hub): false on 404 (MANIFEST_UNKNOWN or NAME_UNKNOWN,
   * distribution docs spec/api.md "Existing Manifests"). Refusals and
   * unreachable registries throw; a network failure is not retried, because
   * the caller only warns about it.
   */
  async exists(ref: ImageReference): Promise<boolean> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const res = await this.send(ref.repository, 'pull', (authorization) => ({
      operation: 'manifest.head',
      method: 'HEAD',
      path: manifestPath(ref.repository, reference),
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', '), ...authorization },
      acceptStatus: [404],
      retries: 0,
    }));
    return res.status !== 404;
  }

  /** PUT the same bytes under `tag`: the digest cannot change, and the registry confirms it. */
  async tag(repository: string, tag: string, manifest: Manifest): Promise<void> {
    const res = await this.send(repository, 'pull,push', (authorization) => ({
      operation: 'manifest.put',
      method: 'PUT',
      path: manifestPath(repository, tag),
      headers: { 'content-type': manifest.mediaType, ...authorization },
      body: manifest.bytes,
    }));
    const digest = res.headers['docker-content-digest'];
    if (digest && digest !== manifest.digest) {
      throw new ComposedError(
        msg`registry stored ${repository}:${tag} as ${digest}, expected ${manifest.digest}`,
      );
    }
  }

  /**
   * Whether the credentials may push to `repository`, learnt without changing
   * anything a target runs:
   * - A registry that challenges a client with no credentials gives at most an anonymous pull.
   * - Bearer: a push-scoped token is asked for. The token server grants what
   *   its access list allows, which may be less than asked (distribution docs
   *   spec/auth/token.md and jwt.md); when its answer says what it granted
   *   (the `access` claim of a JWT, or an OAuth2 `scope` field, spec/auth/oauth.md)
   *   a token without push is refused here.
   * - Otherwise (Basic auth, or an opaque token such as GHCR's that says nothing),
   *   `probe` starts a blob upload and cancels it, as google/go-containerregistry
   *   pkg/v1/remote/check.go (CheckPushPermission) does, because Docker Hub hands
   *   out tokens without checking push (its comment cites docker/hub-feedback#1771).
   *   A dry run sends no POST, so there the probe is left out and the answer
   *   says `unverified`: even a cancelled upload session is a write, and the
   *   dry-run promise is that nothing that changes anything is sent.
   */
  async pushAccess(repository: string, options: { probe: boolean }): Promise<PushAccess> {
    const ping = await this.http.request({ operation: 'ping', path: '/v2/', acceptStatus: [401] });
    let authorization: Record<string, string> = {};
    if (ping.status === 401) {
      if (!this.options.credentials)
        return {
          allowed: false,
          missing: `no credentials are given for ${this.registry}, and without them a registry grants at most an anonymous pull`,
        };
      const challenges = parseChallenges(ping.headers['www-authenticate']);
      const granted = await this.authorize(
        challenges,
        ping.headers['www-authenticate'],
        repository,
        'pull,push',
        [scopeFor(repository, 'pull,push')],
      );
      this.auth.set(repository, granted);
      if (granted.granted && !granted.granted.has('push'))
        return {
          allowed: false,
          missing: `for ${this.options.credentialSource ?? 'the credentials given'} the token server granted ${granted.granted.size > 0 ? [...granted.granted].sort().join(',') : 'no access'} on ${repository}, not push`,
        };
      if (granted.granted) return { allowed: true, how: 'the token server granted push' };
      authorization = { authorization: granted.header };
    }
    if (!options.probe)
      return {
        allowed: true,
        how: 'not verified: only an upload shows push rights on this registry, and a dry run starts none',
        unverified: true,
      };
    const upload = await this.http.request({
      operation: 'upload.start',
      method: 'POST',
      path: `/v2/${repositoryPath(repository)}/blobs/uploads/`,
      headers: authorization,
      acceptStatus: [401, 403],
      retrySafe: true,
    });
    if (upload.status === 401 || upload.status === 403) {
      const said = providerMessage(upload.text);
      return {
        allowed: false,
        missing: `the registry refused ${this.options.credentialSource ?? 'the credentials given'} an upload to ${repository} (HTTP ${upload.status}${said ? `: ${excerpt(this.options.redact(said))}` : ''})`,
      };
    }
    await this.cancelUpload(upload.headers.location, authorization);
    return { allowed: true, how: 'the registry accepted an upload (cancelled at once)' };
  }

  /** An upload started only to learn push rights is cancelled; failing to cancel changes nothing a target runs. */
  private async cancelUpload(location: string | undefined, authorization: Record<string, string>) {
    if (!location) return;
    const url = new URL(location, this.baseUrl);
    // Credentials go to the registry's own origin only.
    if (url.origin !== new URL(this.baseUrl).origin) return;
    await this.http
      .request({
        operation: 'upload.cancel',
        method: 'DELETE',
        path: url.href,
        headers: authorization,
        acceptStatus: [400, 401, 403, 404, 405],
        retries: 0,
      })
      .catch(() => undefined);
  }

  /**
   * Sends with the repository's authorization, answering a 401 challenge. A
   * 401 after an answer is final unless its challenge asks for a scope not yet
   * asked for (`error="insufficient_scope"`): then a token for that scope is
   * asked for once more, as bearer.go does.
   */
  private async send(
    repository: string,
    actions: Actions,
    build: (authorization: Record<string, string>) => Parameters<HttpClient['request']>[0],
  ) {
    const wanted = scopeFor(repository, actions);
    let known = this.auth.get(repository);
    let answered = false;
    const accept = (req: Parameters<HttpClient['request']>[0]) => ({
      ...req,
      acceptStatus: [401, ...(req.acceptStatus ?? [])],
    });
    let res = await this.http.request(accept(build(known ? { authorization: known.header } : {})));
    for (let answers = 0; res.status === 401; answers++) {
      const header = res.headers['www-authenticate'];
      const challenges = parseChallenges(header);
      const challenge = pickChallenge(challenges);
      const scopes = mergeScopes([
        ...(challenge ? scopesOf(challenge) : []),
        wanted,
        ...(known?.scopes ?? []),
      ]);
      const asksMore = !coversScopes(known?.scopes ?? [], scopes);
      if (answers >= 2 || (answered && !asksMore))
        throw this.refused(res, build({}).operation, challenge, repository, actions);
      known = await this.authorize(challenges, header, repository, actions, scopes);
      answered = true;
      this.auth.set(repository, known);
      res = await this.http
        .request(accept(build({ authorization: known.header })))
        .catch((error: unknown) => {
          throw this.explained(error);
        });
    }
    return res;
  }

  /** A 401 after the challenge was answered: the credentials, or the token's scope, do not reach. */
  private refused(
    res: { status: number; text: string; headers: Record<string, string>; request: string },
    operation: string,
    challenge: Challenge | undefined,
    repository: string,
    actions: Actions,
  ): ApiError {
    const said = providerMessage(res.text) ?? challenge?.params.error_description ?? challenge?.params.error;
    // Docker Hub (and the distribution token server) answer an anonymous pull of a private
    // repository with 401 insufficient_scope: the fix is credentials, so the error is about them.
    if (!this.options.credentials)
      return this.anonymousRefusal(
        { operation, request: res.request, said: said && excerpt(this.options.redact(said)) },
        repository,
        actions,
        `The repository is private or does not exist. ${ANONYMOUS_HINT}`,
      );
    const credential = this.options.credentialSource;
    const missing = challenge?.params.error === 'insufficient_scope' ? scopesOf(challenge).join(' ') : '';
    return new ApiError({
      provider: this.http.provider,
      operation,
      request: res.request,
      status: res.status,
      ...(said ? { providerMessage: excerpt(this.options.redact(said)) } : {}),
      retryable: false,
      attempts: 1,
      ...(credential ? { refusedCredential: credential } : {}),
      ...(missing ? { hint: `The token does not grant ${missing}` } : {}),
    });
  }

  /** `Registry quay.io answered its authentication challenge with HTTP 401. <hint>` */
  private unauthorized(hint: string): ApiError {
    return new ApiError({
      provider: this.http.provider,
      operation: 'auth',
      request: CHALLENGE,
      status: 401,
      retryable: false,
      attempts: 1,
      hint,
    });
  }

  /**
   * `An anonymous pull of acme/app was refused by Registry quay.io (401: …). <hint>`: the
   * registry's host and, in the hint, the inputs that would give it credentials.
   */
  private anonymousRefusal(
    answer: { operation: string; request: string; said: string | undefined },
    repository: string,
    actions: Actions,
    hint: string,
  ): ApiError {
    return new ApiError({
      provider: this.http.provider,
      operation: answer.operation,
      request: answer.request,
      status: 401,
      ...(answer.said ? { providerMessage: answer.said } : {}),
      retryable: false,
      attempts: 1,
      refusedCredential: `An anonymous ${actions === 'pull' ? 'pull of' : 'push to'} ${repository}`,
      hint,
    });
  }

  /** A 401/403 to a client that sent no credentials: the fix is to give some, so the error says which inputs. */
  private explained(error: unknown): unknown {
    if (this.options.credentials || !(error instanceof ApiError) || !isRefusal(error.status)) return error;
    return new ApiError({
      provider: error.provider,
      operation: error.operation,
      request: error.request,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.providerMessage === undefined ? {} : { providerMessage: error.providerMessage }),
      retryable: false,
      attempts: error.attempts,
      hint: ANONYMOUS_HINT,
    });
  }

  /**
   * Answers the challenge: Basic with the credentials, or a Bearer token from
   * the realm for `scopes` (Docker token spec: GET realm?service=…&scope=…, one
   * `scope` per scope, Basic credentials if any; without credentials the token
   * is an anonymous one, which a public repository grants pull with).
   */
  private async authorize(
    challenges: Challenge[],
    header: string | undefined,
    repository: string,
    actions: Actions,
    scopes: string[],
  ): Promise<Authorization> {
    const challenge = pickChallenge(challenges);
    const creds = this.options.credentials;
    const basic = creds
      ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
      : undefined;
    if (challenge?.scheme === 'basic') {
      // distribution's htpasswd access controller (registry/auth/htpasswd/access.go) challenges
      // every request without credentials this way: no anonymous access exists to fall back on.
      if (!basic)
        throw this.anonymousRefusal(
          {
            operation: 'auth',
            request: CHALLENGE,
            said: 'the registry takes only a username and password (HTTP Basic)',
          },
          repository,
          actions,
          ANONYMOUS_HINT,
        );
      return { header: basic, scopes, granted: undefined };
    }
    if (!challenge) {
      throw this.unauthorized(`the registry answered 401 with an unknown challenge (${header ?? 'none'})`);
    }
    const realm = URL.parse(challenge.params.realm!);
    // As google/go-containerregistry bearer.go (validateRealmURL): credentials go to a realm over
    // plain HTTP only for a registry that is itself spoken to over HTTP (a loopback one).
    if (
      !realm ||
      !(realm.protocol === 'https:' || (realm.protocol === 'http:' && isLoopbackRegistry(this.registry)))
    ) {
      throw this.unauthorized(`the registry's token realm is not an https URL (${challenge.params.realm})`);
    }
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    for (const scope of scopes) realm.searchParams.append('scope', scope);
    const res = await this.http
      .request<TokenResponse>({
        operation: 'token.get',
        path: realm.href,
        headers: basic ? { authorization: basic } : {},
      })
      .catch((error: unknown) => {
        throw this.explained(error);
      });
    const token = res.data?.token ?? res.data?.access_token;
    if (!token) throw this.unauthorized('the token server answered without a token');
    this.options.onToken?.(token);
    return { header: `Bearer ${token}`, scopes, granted: grantedActions(res.data, token, repository) };
  }
}

const ANONYMOUS_HINT =
  'No credentials were sent: set registry-username and registry-password of an account with access to the image (the GitHub token is sent only to ghcr.io, the Fly API token only to registry.fly.io)';

function scopeFor(repository: string, actions: Actions): string {
  return `repository:${repository}:${actions}`;
}

/**
 * The actions a token server says it granted on `repository`: the OAuth2
 * answer's `scope` field, else the `access` claim of a JWT token (distribution
 * docs spec/auth/oauth.md, spec/auth/jwt.md). Undefined when it says nothing
 * (an opaque token). The JWT is read, not verified: this only refuses early
 * what the registry would refuse anyway, it never grants anything.
 */
export function grantedActions(
  answer: TokenResponse | undefined,
  token: string,
  repository: string,
): Set<string> | undefined {
  const fromScopes = (scopes: { type: string; name: string; actions: string[] }[]) =>
    new Set(scopes.filter((s) => s.type === 'repository' && s.name === repository).flatMap((s) => s.actions));
  if (typeof answer?.scope === 'string') {
    return fromScopes(answer.scope.split(' ').flatMap((s) => parseScope(s) ?? []));
  }
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { access?: unknown };
    if (!Array.isArray(claims.access)) return undefined;
    return fromScopes(
      claims.access.flatMap((a: { type?: unknown; name?: unknown; actions?: unknown }) =>
        typeof a?.type === 'string' && typeof a.name === 'string' && Array.isArray(a.actions)
          ? [
              {
                type: a.type,
                name: a.name,
                actions: a.actions.filter((x): x is string => typeof x === 'string'),
              },
            ]
          : [],
      ),
    );
  } catch {
    return undefined;
  }
}

function mediaTypeOf(headers: Record<string, string>, bytes: Buffer): string {
  const header = headers['content-type']?.split(';')[0]?.trim();
  if (header) return header;
  try {
    return (
      (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType || MANIFEST_MEDIA_TYPES[1]
    );
  } catch {
    return MANIFEST_MEDIA_TYPES[1];
  }
}

function repositoryPath(repository: string): string {
  return repository.split('/').map(encodeURIComponent).join('/');
}

/**
 * `/v2/<name>/manifests/<reference>`, a digest's colon kept as the distribution spec and
 * google/go-containerregistry (pkg/v1/remote) send it: a colon is legal in a path segment
 * (RFC 3986 pchar), and request paths appear in the log as the user wrote the reference.
 */
function manifestPath(repository: string, reference: string): string {
  return `/v2/${repositoryPath(repository)}/manifests/${encodeURIComponent(reference).replace(/%3A/gi, ':')}`;
}

/** Raised on the registry's challenge itself, before any token request. */
const CHALLENGE = 'its authentication challenge';
