import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeServer } from '../../sandbox/fake-server.ts';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import {
  buildImage,
  MEDIA,
  pushImage,
  putManifest,
  type Registry,
  startRegistry,
} from '../../sandbox/registry.ts';
import { RegistryClient } from '../../src/providers/registry/distribution.ts';
import { parseImageReference } from '../../src/providers/registry/reference.ts';
import { runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations, SECRETS } from './fixtures.ts';

/** The OCI distribution client against the real Debian docker-registry on a free loopback port. */

const auth = { username: 'deployer', password: SECRETS.registry };

for (const mode of ['basic', 'token'] as const) {
  describe(`registry with ${mode} auth`, () => {
    let registry: Registry;
    beforeAll(async () => {
      registry = await startRegistry({ auth, tokenAuth: mode === 'token' });
    });
    afterAll(() => registry?.stop());

    const client = (credentials = auth, tokens: string[] = []) =>
      new RegistryClient(registry.host, {
        credentials,
        redact: (t) => t.replaceAll(SECRETS.registry, '[REDACTED]'),
        onToken: (t) => tokens.push(t),
        retry: { retries: 0 },
      });

    it('resolves a tag to its digest and adds a tag with the same bytes', async () => {
      const digest = await pushImage(registry, 'acme/web', '1.0.0');
      const tokens: string[] = [];
      const c = client(auth, tokens);
      const ref = parseImageReference(`${registry.host}/acme/web:1.0.0`)!;
      const manifest = await c.manifest(ref);
      expect(manifest.digest).toBe(digest);
      expect(manifest.mediaType).toBe(MEDIA.ociManifest);
      await c.tag('acme/web', 'deploy_0123abcd', manifest);
      const tagged = await c.manifest({ ...ref, tag: 'deploy_0123abcd' });
      expect(tagged.digest).toBe(digest);
      expect(tagged.bytes.equals(manifest.bytes)).toBe(true);
      expect(tokens.length > 0).toBe(mode === 'token');
    });

    it('keeps the index digest for a multi-arch image and Docker manifests as they are', async () => {
      const index = await pushImage(registry, 'acme/multi', 'v1', { index: true, content: 'multi' });
      const docker = await pushImage(registry, 'acme/dock', 'v1', { format: 'docker', content: 'dock' });
      const c = client();
      const a = await c.manifest(parseImageReference(`${registry.host}/acme/multi:v1`)!);
      expect(a.digest).toBe(index);
      expect(a.mediaType).toBe(MEDIA.ociIndex);
      await c.tag('acme/multi', 'deploy_aaaaaaaa', a);
      expect(
        (await c.manifest(parseImageReference(`${registry.host}/acme/multi:deploy_aaaaaaaa`)!)).digest,
      ).toBe(index);
      const d = await c.manifest(parseImageReference(`${registry.host}/acme/dock:v1`)!);
      expect(d.digest).toBe(docker);
      expect(d.mediaType).toBe(MEDIA.dockerManifest);
      await c.tag('acme/dock', 'deploy_bbbbbbbb', d);
      expect(
        (await c.manifest(parseImageReference(`${registry.host}/acme/dock:deploy_bbbbbbbb`)!)).digest,
      ).toBe(docker);
    });

    it('refuses wrong credentials without printing the password', async () => {
      await pushImage(registry, 'acme/web', '1.0.1', { content: 'x' });
      const c = client({ username: 'deployer', password: `${SECRETS.registry}-wrong` });
      const error = await c.manifest(parseImageReference(`${registry.host}/acme/web:1.0.1`)!).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/401/);
      expect(error?.message).not.toContain(SECRETS.registry);
    });
  });
}

describe('registry client against token auth with a policy and two challenges', () => {
  // Distribution with token auth behind a proxy that adds `, Basic realm="sandbox-basic"` to each challenge.
  let registry: Registry;
  const reader = { username: 'reader', password: `${SECRETS.registry}-reader` };
  beforeAll(async () => {
    registry = await startRegistry({
      auth,
      tokenAuth: { publicRepositories: ['shop/public'], readers: [reader], multipleChallenges: true },
    });
  });
  afterAll(() => registry?.stop());

  const client = (credentials?: { username: string; password: string }, credentialSource?: string) =>
    new RegistryClient(registry.host, {
      credentials,
      credentialSource,
      redact: (t) => t.replaceAll(SECRETS.registry, '[REDACTED]'),
      retry: { retries: 0 },
    });
  const tokenRequests = () =>
    registry.tokenServer!.received('GET /token').map((r) => ({
      scopes: new URLSearchParams(r.query)
        .getAll('scope')
        .map((s) => s.replace(/[^:]+$/, (actions) => actions.split(',').sort().join(','))),
      anonymous: r.headers.authorization === undefined,
    }));

  it('answers the Bearer challenge of a two-challenge header, and resolves a public image anonymously by HEAD', async () => {
    const digest = await pushImage(registry, 'shop/public', '1.0', { content: 'public' });
    registry.tokenServer!.reset();
    registry.received!.length = 0;
    const resolved = await client().resolve(parseImageReference(`${registry.host}/shop/public:1.0`)!);
    expect(resolved).toEqual({ digest, mediaType: MEDIA.ociManifest });
    expect(tokenRequests()).toEqual([{ scopes: ['repository:shop/public:pull'], anonymous: true }]);
    expect(registry.received).toEqual([
      { method: 'HEAD', path: '/v2/shop/public/manifests/1.0' },
      { method: 'HEAD', path: '/v2/shop/public/manifests/1.0' },
    ]);
  });

  it('asks again for the scope an insufficient_scope challenge names, and tags with the same bytes', async () => {
    const digest = await pushImage(registry, 'shop/app', '1.0', { content: 'scope' });
    registry.tokenServer!.reset();
    const c = client(auth, 'registry-password');
    const manifest = await c.manifest(parseImageReference(`${registry.host}/shop/app:1.0`)!);
    await c.tag('shop/app', 'deploy_5c09e000', manifest);
    // The pull token was enough for the GET; the PUT's 401 (insufficient_scope) named `push,pull`.
    expect(tokenRequests()).toEqual([
      { scopes: ['repository:shop/app:pull'], anonymous: false },
      // Distribution lists the actions in either order (`push,pull` or `pull,push`): sorted here.
      { scopes: ['repository:shop/app:pull,push'], anonymous: false },
    ]);
    expect((await c.resolve(parseImageReference(`${registry.host}/shop/app:deploy_5c09e000`)!)).digest).toBe(
      digest,
    );
    // skopeo (containers/image) reads the new tag through the same two-challenge header.
    const { stdout } = await promisify(execFile)('/usr/bin/skopeo', [
      'inspect',
      '--tls-verify=false',
      '--creds',
      `${auth.username}:${auth.password}`,
      `docker://${registry.host}/shop/app:deploy_5c09e000`,
    ]);
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(digest);
  });

  it('keeps manifest bytes that are not clean UTF-8 as they are, so the digest holds', async () => {
    await pushImage(registry, 'shop/bytes', 'base', { content: 'bytes' });
    const base = buildImage({ content: 'bytes' });
    const odd = Buffer.concat([
      base.manifest.subarray(0, -1),
      Buffer.from(',"annotations":{"note":"'),
      Buffer.from([0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0xff]),
      Buffer.from('"}}'),
    ]);
    const digest = await putManifest(registry, 'shop/bytes', 'odd', odd, MEDIA.ociManifest);
    const c = client(auth, 'registry-password');
    const manifest = await c.manifest(parseImageReference(`${registry.host}/shop/bytes:odd`)!);
    expect(manifest.digest).toBe(digest);
    expect(manifest.bytes.equals(odd)).toBe(true);
    await c.tag('shop/bytes', 'deploy_0dd0dd00', manifest);
    expect(
      (await c.manifest(parseImageReference(`${registry.host}/shop/bytes:deploy_0dd0dd00`)!)).bytes.equals(
        odd,
      ),
    ).toBe(true);
  });

  it.each([
    ['no credentials', undefined, undefined, /no credentials are given for 127\.0\.0\.1:\d+/],
    [
      'a reader',
      reader,
      'github-token',
      /for github-token the token server granted pull on shop\/app, not push/,
    ],
  ])('refuses push access to %s', async (_label, credentials, source, missing) => {
    const access = await client(credentials, source).pushAccess('shop/app', { probe: true });
    expect(access.allowed).toBe(false);
    expect(access.allowed ? '' : access.missing).toMatch(missing);
  });

  it('grants push access to the deployer from the token alone, without an upload', async () => {
    registry.received!.length = 0;
    const access = await client(auth, 'registry-password').pushAccess('shop/app', { probe: true });
    expect(access).toEqual({ allowed: true, how: 'the token server granted push' });
    expect(registry.received!.map((r) => r.method)).toEqual(['GET']);
  });
});

describe('registry client push access on a Basic-auth registry', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry({ auth });
  });
  afterAll(() => registry?.stop());

  it('starts an upload and cancels it when nothing else tells, and skips that in a dry run', async () => {
    const c = (credentials = auth) =>
      new RegistryClient(registry.host, {
        credentials,
        credentialSource: 'registry-password',
        redact: (t) => t,
        retry: { retries: 0 },
      });
    expect(await c().pushAccess('acme/probe', { probe: true })).toEqual({
      allowed: true,
      how: 'the registry accepted an upload (cancelled at once)',
    });
    expect(await c().pushAccess('acme/probe', { probe: false })).toEqual({
      allowed: true,
      how: 'not verified: only an upload shows push rights on this registry, and a dry run starts none',
      unverified: true,
    });
    const wrong = await c({ username: 'deployer', password: 'wrong' })
      .pushAccess('acme/probe', { probe: true })
      .catch((e: unknown) => e as Error);
    expect(wrong).toMatchObject({ allowed: false });
  });
});

describe('deploy bundle dry run with tag-image on a Basic-auth registry', () => {
  let registry: Registry;
  let fly: FlyFake;
  beforeAll(async () => {
    registry = await startRegistry({ auth });
    fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 50 });
    await fly.start();
  });
  afterAll(async () => {
    await fly?.stop();
    await registry?.stop();
  });

  it('passes, but warns and says in the summary that push rights are not verified', async () => {
    await pushImage(registry, 'acme/app', '5.0', { content: 'basic-dry' });
    fly.addMachine({ id: 'basic-dry' });
    const run = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: {
        target: 'fly',
        image: `${registry.host}/acme/app:5.0`,
        'registry-username': auth.username,
        'registry-password': auth.password,
        'fly-app': 'test-app',
        'fly-api-token': SECRETS.fly,
        'fly-api-url': `${fly.server.url}/v1`,
        'dry-run': 'true',
      },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('planned');
    const warning = `tag-image: push rights to ${registry.host}/acme/app are not verified by this dry run`;
    expect(run.stdout).toContain(`::warning::${warning}`);
    expect(run.summary).toMatch(/not verified/);
    expect(run.summary).toContain(warning);
    expectNoSecrets(run);
    expectNoViolations(fly.server);
  });
});

describe('deploy bundle with a registry image', () => {
  let registry: Registry;
  let fly: FlyFake;
  beforeAll(async () => {
    registry = await startRegistry({ auth, tokenAuth: true });
    fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 100 });
    await fly.start();
  });
  afterAll(async () => {
    await fly?.stop();
    await registry?.stop();
  });

  it('resolves the tag, adds deploy_xxxxxxxx in the registry and deploys by digest', async () => {
    const digest = await pushImage(registry, 'acme/app', '2.0.0', { content: 'bundle' });
    fly.addMachine({ id: 'r1' });
    const run = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: {
        target: 'fly',
        image: `${registry.host}/acme/app:2.0.0`,
        'registry-username': auth.username,
        'registry-password': auth.password,
        'fly-app': 'test-app',
        'fly-api-token': SECRETS.fly,
        'fly-api-url': `${fly.server.url}/v1`,
      },
    });
    expect(run.errors).toEqual([]);
    const pinned = `${registry.host}/acme/app@${digest}`;
    expect(run.outputs.image).toBe(pinned);
    expect(fly.machine('r1')!.config.image).toBe(pinned);
    const c = new RegistryClient(registry.host, { credentials: auth, redact: (t) => t });
    const tag = run.outputs['deploy-tag']!;
    expect(tag).toMatch(/^deploy_[0-9a-f]{8}$/);
    expect((await c.manifest(parseImageReference(`${registry.host}/acme/app:${tag}`)!)).digest).toBe(digest);
    expectNoSecrets(run);
    expectNoViolations(fly.server);
  });

  it('dry-run resolves but does not tag', async () => {
    const digest = await pushImage(registry, 'acme/app', '2.0.1', { content: 'dry' });
    fly.addMachine({ id: 'r2' });
    const run = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: {
        target: 'fly',
        image: `${registry.host}/acme/app:2.0.1`,
        'registry-username': auth.username,
        'registry-password': auth.password,
        'fly-app': 'test-app',
        'fly-api-token': SECRETS.fly,
        'fly-api-url': `${fly.server.url}/v1`,
        'dry-run': 'true',
      },
    });
    expect(run.code).toBe(0);
    // A dry run reports what it would do, but no tag and no success: nothing was created.
    expect(run.outputs.status).toBe('planned');
    expect(run.outputs['deploy-tag']).toBe('');
    const wouldTag = new RegExp(
      `would PUT the same manifest as ${registry.host.replace('.', '\\.')}/acme/app:(deploy_[0-9a-f]{8})`,
    ).exec(run.stdout)?.[1];
    expect(wouldTag).toBeDefined();
    const c = new RegistryClient(registry.host, {
      credentials: auth,
      redact: (t) => t,
      retry: { retries: 0 },
    });
    const missing = await c.manifest(parseImageReference(`${registry.host}/acme/app:${wouldTag}`)!).then(
      () => 'found',
      () => 'missing',
    );
    expect(missing).toBe('missing');
    expect(run.outputs.image).toBe(`${registry.host}/acme/app@${digest}`);
    expectNoSecrets(run);
  });
});

describe('registry client push access with an opaque token (as GHCR answers)', () => {
  // GHCR hands out tokens that say nothing of their scope, and refuses the push itself with 403
  // `denied: permission_denied: write_package` when the job lacks `packages: write`
  // (docker/build-push-action#806, actions/runner#1039). Its challenge names its own realm
  // (`Bearer realm="https://ghcr.io/token",service="ghcr.io",scope=…`).
  const ghcr = new FakeServer({ name: 'ghcr-like' });
  const opaque = Buffer.from('v1:opaque-token').toString('base64');
  ghcr.route('GET', '/v2/', () => ({
    status: 401,
    json: { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
    headers: {
      'www-authenticate': `Bearer realm="${ghcr.url}/token",service="ghcr.io",scope="repository:user/image:pull"`,
    },
  }));
  ghcr.route('GET', '/token', () => ({ status: 200, json: { token: opaque } }));
  ghcr.route('POST', '/v2/acme/app/blobs/uploads/', () => ({
    status: 403,
    json: { errors: [{ code: 'DENIED', message: 'permission_denied: write_package' }] },
  }));
  beforeAll(() => ghcr.start());
  afterAll(() => ghcr.stop());

  it('learns the missing write permission from a refused upload, and sends no POST in a dry run', async () => {
    const c = new RegistryClient(new URL(ghcr.url).host, {
      credentials: { username: 'octocat', password: SECRETS.github },
      credentialSource: 'github-token',
      redact: (t) => t.replaceAll(SECRETS.github, '[REDACTED]'),
      retry: { retries: 0 },
    });
    const access = await c.pushAccess('acme/app', { probe: true });
    expect(access).toEqual({
      allowed: false,
      missing:
        'the registry refused github-token an upload to acme/app (HTTP 403: permission_denied: write_package)',
    });
    const token = ghcr.received('GET /token')[0]!;
    // The placeholder scope of the /v2/ ping's challenge is not asked for (nor does ggcr's ping.go).
    expect(new URLSearchParams(token.query).getAll('scope')).toEqual(['repository:acme/app:pull,push']);
    ghcr.reset();
    expect(await c.pushAccess('acme/app', { probe: false })).toEqual({
      allowed: true,
      how: 'not verified: only an upload shows push rights on this registry, and a dry run starts none',
      unverified: true,
    });
    expect(ghcr.requests.map((r) => r.method)).not.toContain('POST');
  });
});
