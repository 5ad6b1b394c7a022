import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImage,
  MANIFEST_ACCEPT,
  MEDIA,
  pushImage,
  putManifest,
  type Registry,
  sha256,
  startRegistry,
} from '../../sandbox/registry.ts';

const AUTH = { username: 'deployer', password: 's3cret-pass' };
const SKOPEO = '/usr/bin/skopeo';

describe('docker-registry with basic auth', () => {
  let registry: Registry;

  beforeAll(async () => {
    registry = await startRegistry({ auth: AUTH });
  });

  afterAll(async () => {
    await registry?.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${registry.url}${path}`, { headers: { authorization: registry.authorization!, ...headers } });

  it('answers 401 with a Basic challenge without credentials', async () => {
    const res = await fetch(`${registry.url}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="basic-realm"');
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    const wrong = await fetch(`${registry.url}/v2/`, {
      headers: { authorization: `Basic ${Buffer.from('deployer:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    expect((await get('/v2/')).status).toBe(200);
  });

  it('pushes an OCI image and serves its manifest with the digest', async () => {
    const digest = await pushImage(registry, 'shop/web', 'v1');
    expect(digest).toBe(buildImage().digest);
    const res = await get('/v2/shop/web/manifests/v1', { accept: MANIFEST_ACCEPT });
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(res.headers.get('content-type')).toBe(MEDIA.ociManifest);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(sha256(bytes)).toBe(digest);
    const head = await fetch(`${registry.url}/v2/shop/web/manifests/${digest}`, {
      method: 'HEAD',
      headers: { authorization: registry.authorization!, accept: MANIFEST_ACCEPT },
    });
    expect(head.headers.get('docker-content-digest')).toBe(digest);
  });

  it('keeps the digest when the same bytes are PUT under a new tag', async () => {
    const digest = await pushImage(registry, 'shop/web', 'v2', { content: 'second\n' });
    const res = await get('/v2/shop/web/manifests/v2', { accept: MANIFEST_ACCEPT });
    const bytes = Buffer.from(await res.arrayBuffer());
    const tagged = await putManifest(
      registry,
      'shop/web',
      'deploy_0a1b2c3d',
      bytes,
      res.headers.get('content-type')!,
    );
    expect(tagged).toBe(digest);
    const again = await get('/v2/shop/web/manifests/deploy_0a1b2c3d', { accept: MANIFEST_ACCEPT });
    expect(again.headers.get('docker-content-digest')).toBe(digest);
    const tags = (await (await get('/v2/shop/web/tags/list')).json()) as { tags: string[] };
    expect(tags.tags.sort()).toEqual(['deploy_0a1b2c3d', 'v1', 'v2']);
  });

  it('pushes Docker schema2 manifests and OCI indexes too', async () => {
    const docker = await pushImage(registry, 'shop/worker', 'v1', { format: 'docker', content: 'worker\n' });
    const res = await get('/v2/shop/worker/manifests/v1', { accept: MANIFEST_ACCEPT });
    expect(res.headers.get('content-type')).toBe(MEDIA.dockerManifest);
    expect(res.headers.get('docker-content-digest')).toBe(docker);

    const index = await pushImage(registry, 'shop/multi', 'v1', { index: true, content: 'multi\n' });
    const indexed = await get('/v2/shop/multi/manifests/v1', { accept: MANIFEST_ACCEPT });
    expect(indexed.headers.get('content-type')).toBe(MEDIA.ociIndex);
    expect(indexed.headers.get('docker-content-digest')).toBe(index);
    const body = (await indexed.json()) as { manifests: { digest: string }[] };
    expect(body.manifests[0]!.digest).toBe(buildImage({ content: 'multi\n' }).digest);
  });

  it('is an image skopeo can read', async () => {
    const digest = await pushImage(registry, 'shop/checked', 'v1', { content: 'checked\n' });
    const { stdout } = await promisify(execFile)(SKOPEO, [
      'inspect',
      '--tls-verify=false',
      '--creds',
      `${AUTH.username}:${AUTH.password}`,
      `docker://${registry.host}/shop/checked:v1`,
    ]);
    const info = JSON.parse(stdout) as { Digest: string; Os: string; Architecture: string; Layers: string[] };
    expect(info).toMatchObject({ Digest: digest, Os: 'linux', Architecture: 'amd64' });
    expect(info.Layers).toHaveLength(1);
  });
});

describe('docker-registry with bearer-token auth', () => {
  let registry: Registry;

  beforeAll(async () => {
    registry = await startRegistry({ auth: AUTH, tokenAuth: true });
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('challenges with Bearer, and a token from the realm opens the repository', async () => {
    const digest = await pushImage(registry, 'shop/web', 'v1');
    const res = await fetch(`${registry.url}/v2/shop/web/manifests/v1`, {
      headers: { accept: MANIFEST_ACCEPT },
    });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).toBe(
      `Bearer realm="${registry.tokenServer!.url}/token",service="sandbox-registry",scope="repository:shop/web:pull"`,
    );

    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const tokenUrl = `${params.realm}?${new URLSearchParams({ service: params.service!, scope: params.scope! })}`;
    expect((await fetch(tokenUrl)).status).toBe(401);
    const { token } = (await (
      await fetch(tokenUrl, { headers: { authorization: registry.authorization! } })
    ).json()) as {
      token: string;
    };
    const opened = await fetch(`${registry.url}/v2/shop/web/manifests/v1`, {
      headers: { accept: MANIFEST_ACCEPT, authorization: `Bearer ${token}` },
    });
    expect(opened.status).toBe(200);
    expect(opened.headers.get('docker-content-digest')).toBe(digest);

    // A pull-only token cannot tag.
    const bytes = Buffer.from(await opened.arrayBuffer());
    const push = await fetch(`${registry.url}/v2/shop/web/manifests/deploy_1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': MEDIA.ociManifest },
      body: bytes,
    });
    expect(push.status).toBe(401);
    expect(registry.tokenServer!.received('GET /token')).toHaveLength(3);
  });
});

describe('docker-registry lifecycle', () => {
  it('starts without auth and stop() ends the process and removes its files', async () => {
    const registry = await startRegistry();
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(200);
    await registry.stop();
    expect(() => process.kill(registry.pid, 0)).toThrow();
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();
  });
});
