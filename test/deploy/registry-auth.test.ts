import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerHubFront, startDockerHubFront } from '../../sandbox/docker-hub.ts';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import { pushImage, type Registry, startRegistry } from '../../sandbox/registry.ts';
import { RegistryClient } from '../../src/providers/registry/distribution.ts';
import { parseImageReference } from '../../src/providers/registry/reference.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations, SECRETS } from './fixtures.ts';

/**
 * The committed deploy bundle against the real Distribution registry with token
 * auth, fronted by a proxy that sends two challenges in one header
 * (`Bearer …, Basic realm="sandbox-basic"`), and a token server that gives
 * anonymous pull tokens for a public repository and pull-only tokens to a
 * reader (a GHCR token without `packages: write`).
 */

const deployer = { username: 'deployer', password: SECRETS.registry };
const reader = { username: 'reader', password: `${SECRETS.registry}-reader` };

let registry: Registry;
let fly: FlyFake;
let hub: DockerHubFront;
beforeAll(async () => {
  registry = await startRegistry({
    auth: deployer,
    tokenAuth: {
      publicRepositories: ['shop/public', 'library/nginx'],
      readers: [reader],
      multipleChallenges: true,
    },
  });
  fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 50 });
  [hub] = await Promise.all([startDockerHubFront(registry), fly.start()]);
});
afterAll(async () => {
  await Promise.all([fly?.stop(), hub?.stop()]);
  await registry?.stop();
});

const deploy = (machine: string, inputs: Record<string, string>, env: Record<string, string> = {}) => {
  fly.addMachine({ id: machine });
  return runBundle('deploy', {
    env,
    inputs: {
      target: 'fly',
      'fly-app': 'test-app',
      'fly-api-token': SECRETS.fly,
      'fly-api-url': `${fly.server.url}/v1`,
      ...inputs,
    },
  });
};

describe('deploy bundle: challenges, anonymous pulls and push rights', () => {
  it('pulls a public image with an anonymous token, answering the Bearer challenge, by HEAD only', async () => {
    const digest = await pushImage(registry, 'shop/public', '1.0', { content: 'public' });
    registry.tokenServer!.reset();
    registry.received!.length = 0;
    const run = await deploy('pub', { image: `${registry.host}/shop/public:1.0`, 'tag-image': 'false' });
    expect(run.errors).toEqual([]);
    expect(run.outputs.image).toBe(`${registry.host}/shop/public@${digest}`);
    expect(fly.machine('pub')!.config.image).toBe(`${registry.host}/shop/public@${digest}`);
    const tokens = registry.tokenServer!.received('GET /token');
    expect(
      tokens.map((t) => [t.headers.authorization, new URLSearchParams(t.query).getAll('scope')]),
    ).toEqual([[undefined, ['repository:shop/public:pull']]]);
    // No manifest GET: on Docker Hub that would count as a pull.
    expect(registry.received).toEqual([
      { method: 'HEAD', path: '/v2/shop/public/manifests/1.0' },
      { method: 'HEAD', path: '/v2/shop/public/manifests/1.0' },
    ]);
    expectNoSecrets(run);
    expectNoViolations(fly.server);
  });

  it.each([
    ['no credentials', {}, /no credentials are given for 127\.0\.0\.1:\d+/],
    [
      'a pull-only token',
      { 'registry-username': reader.username, 'registry-password': reader.password },
      /for registry-password the token server granted pull on shop\/public, not push/,
    ],
  ])('tag-image with %s is refused before any request to the target', async (_label, credentials, why) => {
    await pushImage(registry, 'shop/public', '1.1', { content: 'refused' });
    const before = fly.server.requests.length;
    const run = await deploy('refused', {
      image: `${registry.host}/shop/public:1.1`,
      'tag-image': 'true',
      ...credentials,
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    const error = run.errors[0]!;
    expect(error).toMatch(/^Input 'tag-image' is true, so the deploy tag is pushed to /);
    expect(error).toMatch(/push permission is missing/);
    expect(error).toMatch(why);
    expect(error).toMatch(/registry-username and registry-password of an account that may push there/);
    expect(error).toMatch(/or set tag-image: false/);
    expect(fly.server.requests.length).toBe(before);
    expect(run.outputs['deploy-tag']).toBeUndefined();
    expectNoSecrets(run);
  });

  it('tag-image with push rights tags after one push-scoped token, and deploys by digest', async () => {
    const digest = await pushImage(registry, 'shop/app', '3.0', { content: 'tagged' });
    registry.tokenServer!.reset();
    registry.received!.length = 0;
    const run = await deploy('tagged', {
      image: `${registry.host}/shop/app:3.0`,
      'registry-username': deployer.username,
      'registry-password': deployer.password,
    });
    expect(run.errors).toEqual([]);
    expect(fly.machine('tagged')!.config.image).toBe(`${registry.host}/shop/app@${digest}`);
    const tag = run.outputs['deploy-tag']!;
    expect(tag).toMatch(/^deploy_[0-9a-f]{8}$/);
    expect(run.stdout).toContain('the token server granted push');
    expect(registry.tokenServer!.received('GET /token')).toHaveLength(1);
    expect(registry.received!.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v2/',
      'GET /v2/shop/app/manifests/3.0',
      `PUT /v2/shop/app/manifests/${tag}`,
    ]);
    const c = new RegistryClient(registry.host, { credentials: deployer, redact: (t) => t });
    expect((await c.resolve(parseImageReference(`${registry.host}/shop/app:${tag}`)!)).digest).toBe(digest);
    expectNoSecrets(run);
  });
});

describe('deploy bundle: Docker Hub references', () => {
  // registry-1.docker.io and auth.docker.io answered on loopback through HTTPS_PROXY (sandbox/docker-hub.ts).
  it.each(['nginx:1.27', 'index.docker.io/nginx:1.27', 'registry-1.docker.io/nginx:1.27'])(
    '%s is library/nginx on registry-1.docker.io, pulled with an anonymous token',
    async (image) => {
      const digest = await pushImage(registry, 'library/nginx', '1.27', { content: 'nginx' });
      hub.received.length = 0;
      const machine = `hub-${image.split('/')[0]!.replace(/[^a-z0-9]/g, '')}`;
      const run = await deploy(
        machine,
        { image, 'tag-image': 'false' },
        { HTTPS_PROXY: hub.proxyUrl, NODE_EXTRA_CA_CERTS: hub.caFile },
      );
      expect(run.errors).toEqual([]);
      expect(run.outputs.image).toBe(`docker.io/library/nginx@${digest}`);
      expect(fly.machine(machine)!.config.image).toBe(`docker.io/library/nginx@${digest}`);
      // Tunnels only to Docker Hub's API and token hosts (how many is undici's connection reuse).
      expect(new Set(hub.received.filter((r) => r.startsWith('CONNECT ')))).toEqual(
        new Set(['CONNECT registry-1.docker.io:443', 'CONNECT auth.docker.io:443']),
      );
      expect(hub.received.filter((r) => !r.startsWith('CONNECT '))).toEqual([
        'HEAD https://registry-1.docker.io/v2/library/nginx/manifests/1.27',
        'GET https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull',
        'HEAD https://registry-1.docker.io/v2/library/nginx/manifests/1.27',
      ]);
      expectNoSecrets(run);
    },
  );
});

describe('deploy bundle: image references the registry does not hold, or may not give', () => {
  const flyChanges = () =>
    fly.server.requests.filter((r) => r.method !== 'GET' && !r.path.endsWith('/lease')).length;

  it.each([
    ['a 40-character digest', `sha256:${'c'.repeat(40)}`],
    ['an uppercase digest', `sha256:${'C'.repeat(64)}`],
  ])('%s is an input error naming image, before any request', async (_label, digest) => {
    registry.received!.length = 0;
    const fleetBefore = fly.server.requests.length;
    const run = await deploy('bad-digest', {
      image: `${registry.host}/shop/app@${digest}`,
      'tag-image': 'false',
    });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      `Input 'image' must be an image reference like ghcr.io/org/app:1.2.3 (the digest after @ must be sha256: followed by exactly 64 lowercase hex digits); got "${registry.host}/shop/app@${digest}"`,
    ]);
    expect(registry.received).toEqual([]);
    expect(fly.server.requests.length).toBe(fleetBefore);
  });

  it.each([
    ['image', { image: 'MISSING', 'tag-image': 'false' }],
    ['image', { image: 'MISSING', 'tag-image': 'true', ...{ 'registry-username': 'deployer' } }],
    ['rollback-to', { operation: 'rollback', 'rollback-to': 'MISSING', 'tag-image': 'false' }],
  ])(
    'a well-formed digest the registry does not hold is refused naming %s, nothing changed',
    async (input, raw) => {
      await pushImage(registry, 'shop/public', '1.2', { content: 'exists' });
      const missing = `${registry.host}/shop/public@sha256:${'d'.repeat(64)}`;
      const inputs = Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [k, v === 'MISSING' ? missing : v]),
      );
      if (inputs['registry-username']) inputs['registry-password'] = deployer.password;
      const changesBefore = flyChanges();
      const run = await deploy(`missing-${input}`, inputs);
      expect(run.code).toBe(1);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toBe(
        `Input '${input}' names ${missing}, but ${registry.host} has no shop/public with digest sha256:${'d'.repeat(64)} (HTTP 404); nothing was changed. Check the reference, or push the image first`,
      );
      expect(flyChanges()).toBe(changesBefore);
      expect(fly.machine(`missing-${input}`)!.config.image).not.toContain('sha256:dddd');
      expectNoSecrets(run);
    },
  );

  it('an anonymous pull of a private repository names registry-username and registry-password', async () => {
    const digest = await pushImage(registry, 'shop/app', '4.0', { content: 'private' });
    const byTag = await deploy('private-tag', {
      image: `${registry.host}/shop/app:4.0`,
      'tag-image': 'false',
    });
    expect(byTag.code).toBe(1);
    expect(byTag.errors).toHaveLength(1);
    const error = byTag.errors[0]!;
    expect(error).toMatch(
      /^Could not read 127\.0\.0\.1:\d+\/shop\/app:4\.0 from its registry: An anonymous pull of shop\/app was refused by Registry 127\.0\.0\.1:\d+ \(401/,
    );
    expect(error).toMatch(/The repository is private or does not exist/);
    expect(error).toMatch(/set registry-username and registry-password/);
    expect(error).not.toMatch(/manifest\.head|insufficient_scope\. the token/);
    // Pinned by digest, the same refusal only warns: the target pulls with its own access, as before the check.
    const byDigest = await deploy('private-digest', {
      image: `${registry.host}/shop/app@${digest}`,
      'tag-image': 'false',
    });
    expect(byDigest.errors).toEqual([]);
    expect(byDigest.stdout).toMatch(
      /could not check that .*shop\/app@sha256:[0-9a-f]{64} exists; the target will pull it by digest\. An anonymous pull of shop\/app was refused/,
    );
    expect(fly.machine('private-digest')!.config.image).toBe(`${registry.host}/shop/app@${digest}`);
    expectNoSecrets(byTag);
  });
});
