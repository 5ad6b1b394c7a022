import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type FakeRequest, type FakeResponse, FakeServer } from './fake-server.ts';
import { stopChild } from './stop-child.ts';

/**
 * A real OCI distribution registry (Debian's `docker-registry`, Distribution
 * v2.8) on loopback, plus a helper that pushes a tiny image through the
 * distribution API with plain fetch.
 */

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
const HTPASSWD_BINARY = '/usr/bin/htpasswd';
const OPENSSL_BINARY = 'openssl';
const TOKEN_SERVICE = 'sandbox-registry';
const TOKEN_ISSUER = 'sandbox-token-issuer';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** What a client sends to accept any manifest kind this registry may hold. */
export const MANIFEST_ACCEPT = [
  MEDIA.ociIndex,
  MEDIA.ociManifest,
  MEDIA.dockerList,
  MEDIA.dockerManifest,
].join(', ');

export interface RegistryAuth {
  username: string;
  password: string;
}

export interface Registry {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, as an image reference names it. */
  host: string;
  auth: RegistryAuth | undefined;
  /** `Basic …` for the configured user, or undefined without auth (with token auth: what the token server takes). */
  authorization: string | undefined;
  /** With `tokenAuth`: the token server the registry's Bearer challenge names (`<url>/token`). */
  tokenServer: FakeServer | undefined;
  /** With `multipleChallenges` or `front`: each request the front proxy saw, in order. */
  received: { method: string; path: string }[] | undefined;
  /**
   * With `front`: the next `times` requests the front sees with `method` to a manifest are
   * answered `answer` instead of being passed on (a registry's rate limit, see `dockerHubPullLimit`).
   */
  limit(method: string, times: number, answer: RegistryAnswer): void;
  /** Headers that authorize `pull,push` on `repo` (a bearer token fetched for it, or basic). */
  authorize(repo: string): Promise<Record<string, string>>;
  pid: number;
  /** What the registry printed so far (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

/** What the loopback token server grants besides `auth`'s pull and push everywhere. */
export interface TokenPolicy {
  /** Repositories an anonymous token may pull (Docker Hub's public images). */
  publicRepositories?: string[];
  /** Users whose tokens grant pull only (a GHCR token of a job without `packages: write`). */
  readers?: RegistryAuth[];
  /**
   * Front the registry with a loopback proxy that adds a Basic challenge to the
   * registry's Bearer one in the same header line (`Bearer realm=…,service=…,scope=…, Basic realm="…"`),
   * as RFC 7235 §4.1 allows and registries behind some gateways send. Distribution answers
   * with one challenge only (its config takes one access controller), hence the proxy.
   */
  multipleChallenges?: boolean;
}

export interface StartRegistryOptions {
  auth?: RegistryAuth;
  /** Put the loopback front proxy before the registry, so `limit` can answer in its place. */
  front?: boolean;
  /**
   * Registry v2 token auth: the registry answers `Bearer realm=…` and trusts
   * tokens from a loopback token server that takes `auth` as basic
   * credentials; `true` or a policy for anonymous and pull-only users.
   */
  tokenAuth?: boolean | TokenPolicy;
  binary?: string;
  startTimeoutMs?: number;
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<Registry> {
  const binary = options.binary ?? REGISTRY_BINARY;
  const dir = await mkdtemp(join(tmpdir(), 'registry-'));
  try {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: {
        filesystem: { rootdirectory: join(dir, 'data') },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: { addr: host, secret: randomBytes(16).toString('hex') },
      health: { storagedriver: { enabled: false } },
    };
    let tokenServer: FakeServer | undefined;
    const policy: TokenPolicy | undefined =
      options.tokenAuth === true ? {} : options.tokenAuth === false ? undefined : options.tokenAuth;
    if (policy) {
      if (!options.auth) throw new Error('tokenAuth needs auth (the credentials the token server takes)');
      const signer = await tokenSigner(dir);
      tokenServer = tokenServerFor(options.auth, policy, signer);
      const tokenUrl = `${await tokenServer.start()}/token`;
      config.auth = {
        token: {
          realm: tokenUrl,
          service: TOKEN_SERVICE,
          issuer: TOKEN_ISSUER,
          rootcertbundle: signer.certPath,
        },
      };
    } else if (options.auth) {
      const htpasswd = join(dir, 'htpasswd');
      await writeFile(htpasswd, await htpasswdLine(options.auth));
      config.auth = { htpasswd: { realm: 'basic-realm', path: htpasswd } };
    }
    // YAML is a superset of JSON, so the registry reads this as its config.yml.
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, JSON.stringify(config, null, 2));

    const child = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.once('error', (error) => collect(Buffer.from(String(error))));

    const direct = `http://${host}`;
    let front: ChallengeProxy | undefined;
    try {
      await waitUntilServing(direct, child, () => output, options.startTimeoutMs ?? 10_000);
      if (policy?.multipleChallenges || options.front)
        front = await frontProxy(host, { basicChallenge: policy?.multipleChallenges === true });
    } catch (error) {
      await tokenServer?.stop();
      throw error;
    }
    const url = front ? `http://${front.host}` : direct;
    const authorization = options.auth
      ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
      : undefined;
    const tokens = new Map<string, string>();
    return {
      url,
      host: front?.host ?? host,
      auth: options.auth,
      authorization,
      tokenServer,
      received: front?.received,
      limit(method, times, answer) {
        if (!front) throw new Error('limit needs a registry started with front: true');
        for (let i = 0; i < times; i++) front.limits.push({ method, answer });
      },
      async authorize(repo): Promise<Record<string, string>> {
        if (!authorization) return {};
        if (!tokenServer) return { authorization };
        let token = tokens.get(repo);
        if (!token) {
          const query = new URLSearchParams({
            service: TOKEN_SERVICE,
            scope: `repository:${repo}:pull,push`,
          });
          const res = await fetch(`${tokenServer.url}/token?${query}`, { headers: { authorization } });
          token = ((await res.json()) as { token: string }).token;
          tokens.set(repo, token);
        }
        return { authorization: `Bearer ${token}` };
      },
      pid: child.pid!,
      logs: () => output,
      async stop() {
        await front?.stop();
        await stopChild(child, exited);
        await tokenServer?.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function htpasswdLine(auth: RegistryAuth): Promise<string> {
  // The registry only reads bcrypt entries; Node has no bcrypt, apache2-utils does.
  const { stdout } = await promisify(execFile)(HTPASSWD_BINARY, ['-nbB', auth.username, auth.password]);
  return `${stdout.trim()}\n`;
}

interface TokenSigner {
  certPath: string;
  key: Buffer;
  /** base64 DER of the self-signed certificate, for the JWT `x5c` header. */
  certificate: string;
}

async function tokenSigner(dir: string): Promise<TokenSigner> {
  // Node can make keys but not certificates; the registry trusts signers by certificate.
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  await promisify(execFile)(OPENSSL_BINARY, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    `/CN=${TOKEN_ISSUER}`,
  ]);
  const pem = await readFile(certPath, 'utf8');
  return {
    certPath,
    key: await readFile(keyPath),
    certificate: new X509Certificate(pem).raw.toString('base64'),
  };
}

/**
 * The Docker token protocol (distribution docs spec/auth/token.md): GET
 * /token?service=&scope=repository:<name>:<actions> (one `scope` per scope),
 * Basic credentials or none. Wrong credentials get 401; otherwise the token
 * grants the subset of each requested scope the caller may have (spec/auth/jwt.md:
 * "the token server must next query its access control list" and grants what
 * it allows, possibly nothing): `auth` pull and push everywhere, a reader pull
 * only, an anonymous caller pull on the public repositories. The registry
 * enforces the granted `access` claim itself.
 */
function tokenServerFor(auth: RegistryAuth, policy: TokenPolicy, signer: TokenSigner): FakeServer {
  const basic = (a: RegistryAuth) => `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
  const readers = new Map((policy.readers ?? []).map((r) => [basic(r), r.username]));
  const publicRepositories = new Set(policy.publicRepositories ?? []);
  const server = new FakeServer({ name: 'registry-token' });
  server.route('GET', '/token', (req: FakeRequest): FakeResponse => {
    const given = req.headers.authorization;
    const subject = given === undefined ? '' : given === basic(auth) ? auth.username : readers.get(given);
    if (subject === undefined) {
      return {
        status: 401,
        json: { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
      };
    }
    const allowed = (name: string): string[] =>
      subject === auth.username
        ? ['pull', 'push']
        : subject !== ''
          ? ['pull']
          : publicRepositories.has(name)
            ? ['pull']
            : [];
    const access = req.query.getAll('scope').flatMap((scope) => {
      // The name may hold a host with a port: the actions follow the last colon.
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last <= first) return [];
      const type = scope.slice(0, first);
      const name = scope.slice(first + 1, last);
      const actions = scope
        .slice(last + 1)
        .split(',')
        .filter((a) => type === 'repository' && allowed(name).includes(a));
      return actions.length > 0 ? [{ type, name, actions }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: TOKEN_ISSUER,
      sub: subject,
      aud: req.query.get('service') ?? TOKEN_SERVICE,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const token = signJwt(claims, signer);
    return {
      status: 200,
      json: { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() },
    };
  });
  return server;
}

interface ChallengeProxy {
  /** `127.0.0.1:<port>` */
  host: string;
  received: { method: string; path: string }[];
  /** Answers in the registry's place, first come first used, for manifest requests of `method`. */
  limits: { method: string; answer: RegistryAnswer }[];
  stop(): Promise<void>;
}

/** A registry's own answer, given by the front proxy in its place. */
export interface RegistryAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Docker Hub's answer to a manifest GET past the pull limit (docs.docker.com/docker-hub/usage/pulls/,
 * "View pull rate and limit" and "Pull rate limit" errors): 429 with `ratelimit-limit` and
 * `ratelimit-remaining` as `<count>;w=<window seconds>` (100 pulls per 21600 s for a personal
 * account), `docker-ratelimit-source`, and the `TOOMANYREQUESTS` error of the distribution API
 * (distribution/distribution registry/api/errcode); no time of the next free pull.
 */
export function dockerHubPullLimit(): RegistryAnswer {
  return {
    status: 429,
    headers: {
      'content-type': 'application/json',
      'ratelimit-limit': '100;w=21600',
      'ratelimit-remaining': '0;w=21600',
      'docker-ratelimit-source': '192.0.2.10',
    },
    body: {
      errors: [
        {
          code: 'TOOMANYREQUESTS',
          message:
            "You have reached your pull rate limit as 'acme': dckr_jti_x. You may increase the limit by upgrading. https://www.docker.com/increase-rate-limit",
        },
      ],
    },
  };
}

/**
 * GHCR's 429 (as reported in github.com/falcosecurity/plugins/issues/1069 and
 * github.com/chainguard-images/images/issues/173): `TOOMANYREQUESTS` with the wait in the
 * message as a Go duration, `retry-after: 333.939671ms, allowed: 44000/minute`, and a
 * `Retry-After` header in whole seconds.
 */
export function ghcrRateLimited(retryAfterS = 1): RegistryAnswer {
  return {
    status: 429,
    headers: { 'content-type': 'application/json', 'retry-after': String(retryAfterS) },
    body: {
      errors: [{ code: 'TOOMANYREQUESTS', message: `retry-after: ${retryAfterS}s, allowed: 44000/minute` }],
    },
  };
}

/**
 * A pass-through proxy before the registry: it appends a Basic challenge to each Bearer one
 * the registry sends (`basicChallenge`), and answers in the registry's place while `limits` last.
 */
async function frontProxy(target: string, options: { basicChallenge: boolean }): Promise<ChallengeProxy> {
  const [targetHost, targetPort] = target.split(':');
  const received: { method: string; path: string }[] = [];
  const limits: ChallengeProxy['limits'] = [];
  const server = createHttpServer((req, res) => {
    received.push({ method: req.method ?? '', path: req.url ?? '' });
    const at = /\/manifests\//.test(req.url ?? '') ? limits.findIndex((l) => l.method === req.method) : -1;
    if (at >= 0) {
      const { answer } = limits.splice(at, 1)[0]!;
      req.resume();
      res.writeHead(answer.status, answer.headers);
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(answer.body));
      return;
    }
    const upstream = httpRequest(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const headers = { ...answer.headers };
        const challenge = headers['www-authenticate'];
        if (options.basicChallenge && typeof challenge === 'string' && challenge.startsWith('Bearer '))
          headers['www-authenticate'] = `${challenge}, Basic realm="sandbox-basic"`;
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    received,
    limits,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function signJwt(claims: object, signer: TokenSigner): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ typ: 'JWT', alg: 'RS256', x5c: [signer.certificate] })}.${enc(claims)}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), signer.key).toString('base64url')}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(
  url: string,
  child: ChildProcess,
  logs: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `docker-registry exited (${child.exitCode ?? child.signalCode}) before serving:\n${logs()}`,
      );
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(500) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry did not answer /v2/ within ${timeoutMs} ms:\n${logs()}`);
}

// ---- pushing a tiny image -------------------------------------------------

export interface BuiltImage {
  config: Buffer;
  layer: Buffer;
  /** The manifest bytes exactly as pushed (their sha256 is the digest). */
  manifest: Buffer;
  mediaType: string;
  digest: string;
}

export interface PushImageOptions {
  /** `oci` (default) or `docker` (Docker v2 schema2). */
  format?: 'oci' | 'docker';
  /** Also push an OCI index pointing at the manifest and tag the index instead. */
  index?: boolean;
  /** Text in the layer's one file; different text makes a different image. */
  content?: string;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A one-file image: config blob, gzipped tar layer and manifest, all bytes. */
export function buildImage(options: PushImageOptions = {}): BuiltImage {
  const docker = options.format === 'docker';
  const tar = tarball('hello.txt', options.content ?? 'hello from the sandbox\n');
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2025-01-01T00:00:00Z',
      config: { Cmd: ['/bin/sh', '-c', 'cat /hello.txt'] },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      history: [{ created: '2025-01-01T00:00:00Z', created_by: 'sandbox registry.ts' }],
    }),
  );
  const mediaType = docker ? MEDIA.dockerManifest : MEDIA.ociManifest;
  const manifest = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType,
        config: {
          mediaType: docker ? MEDIA.dockerConfig : MEDIA.ociConfig,
          digest: sha256(config),
          size: config.length,
        },
        layers: [
          {
            mediaType: docker ? MEDIA.dockerLayer : MEDIA.ociLayer,
            digest: sha256(layer),
            size: layer.length,
          },
        ],
      },
      null,
      3,
    ),
  );
  return { config, layer, manifest, mediaType, digest: sha256(manifest) };
}

/** Pushes a tiny image under `repo:tag` and returns the digest the tag points at. */
export async function pushImage(
  registry: Registry,
  repo: string,
  tag: string,
  options: PushImageOptions = {},
): Promise<string> {
  const image = buildImage(options);
  await uploadBlob(registry, repo, image.config);
  await uploadBlob(registry, repo, image.layer);
  if (!options.index) return putManifest(registry, repo, tag, image.manifest, image.mediaType);

  await putManifest(registry, repo, image.digest, image.manifest, image.mediaType);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: [
        {
          mediaType: image.mediaType,
          digest: image.digest,
          size: image.manifest.length,
          platform: { architecture: 'amd64', os: 'linux' },
        },
      ],
    }),
  );
  return putManifest(registry, repo, tag, index, MEDIA.ociIndex);
}

export async function putManifest(
  registry: Registry,
  repo: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
): Promise<string> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...(await registry.authorize(repo)), 'content-type': mediaType },
    body: bytes,
  });
  await expectStatus(res, 201, `PUT manifest ${repo}:${reference}`);
  const digest = res.headers.get('docker-content-digest');
  if (digest !== sha256(bytes))
    throw new Error(`registry answered digest ${digest}, expected ${sha256(bytes)}`);
  return digest;
}

async function uploadBlob(registry: Registry, repo: string, bytes: Buffer): Promise<void> {
  const digest = sha256(bytes);
  const auth = await registry.authorize(repo);
  const head = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD', headers: auth });
  if (head.status === 200) return;
  const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    headers: auth,
  });
  await expectStatus(start, 202, `start upload to ${repo}`);
  const location = new URL(start.headers.get('location') ?? '', registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  await expectStatus(put, 201, `upload blob ${digest}`);
}

async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${text}`);
}

/** A ustar archive with one regular file, ending in the two zero blocks. */
function tarball(name: string, text: string): Buffer {
  const content = Buffer.from(text);
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) =>
    header.write(value, offset, length, 'ascii');
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, '0')}\0`;
  field(name, 0, 100);
  field(octal(0o644, 8), 100, 8);
  field(octal(0, 8), 108, 8);
  field(octal(0, 8), 116, 8);
  field(octal(content.length, 12), 124, 12);
  field(octal(1735689600, 12), 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}
