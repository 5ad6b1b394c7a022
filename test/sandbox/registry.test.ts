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
    // Without credentials the token server still answers, with a token that grants nothing here.
    const anonymous = (await (await fetch(tokenUrl)).json()) as { token: string };
    const refused = await fetch(`${registry.url}/v2/shop/web/manifests/v1`, {
      headers: { accept: MANIFEST_ACCEPT, authorization: `Bearer ${anonymous.token}` },
    });
    expect(refused.status).toBe(401);
    const wrong = await fetch(tokenUrl, {
      headers: { authorization: `Basic ${Buffer.from('deployer:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
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
    expect(registry.tokenServer!.received('GET /token')).toHaveLength(4);
  });
});

describe('docker-registry behind the token server with a policy and two challenges', () => {
  let registry: Registry;
  const reader = { username: 'reader', password: 'read-only-pass' };

  beforeAll(async () => {
    registry = await startRegistry({
      auth: AUTH,
      tokenAuth: { publicRepositories: ['shop/public'], readers: [reader], multipleChallenges: true },
    });
  });

  afterAll(async () => {
    await registry?.stop();
  });

  const token = async (scope: string, who?: { username: string; password: string }) => {
    const query = new URLSearchParams({ service: 'sandbox-registry', scope });
    const headers: Record<string, string> = who
      ? { authorization: `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}` }
      : {};
    const res = await fetch(`${registry.tokenServer!.url}/token?${query}`, { headers });
    const { token } = (await res.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
      access: { name: string; actions: string[] }[];
    };
    return { token, access: claims.access };
  };

  it('sends the Bearer and a Basic challenge in one header line', async () => {
    const res = await fetch(`${registry.url}/v2/shop/public/manifests/v1`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="${registry.tokenServer!.url}/token",service="sandbox-registry",scope="repository:shop/public:pull", Basic realm="sandbox-basic"`,
    );
  });

  it('grants an anonymous pull of a public repository only, a reader pull only, and the registry enforces it', async () => {
    const digest = await pushImage(registry, 'shop/public', 'v1', { content: 'public\n' });
    await pushImage(registry, 'shop/private', 'v1', { content: 'private\n' });
    const anonymous = await token('repository:shop/public:pull,push');
    expect(anonymous.access).toEqual([{ type: 'repository', name: 'shop/public', actions: ['pull'] }]);
    expect((await token('repository:shop/private:pull')).access).toEqual([]);
    const read = await token('repository:shop/private:pull,push', reader);
    expect(read.access).toEqual([{ type: 'repository', name: 'shop/private', actions: ['pull'] }]);

    const get = (repo: string, bearer: string) =>
      fetch(`${registry.url}/v2/${repo}/manifests/v1`, {
        headers: { accept: MANIFEST_ACCEPT, authorization: `Bearer ${bearer}` },
      });
    const pulled = await get('shop/public', anonymous.token);
    expect(pulled.headers.get('docker-content-digest')).toBe(digest);
    const bytes = Buffer.from(await pulled.arrayBuffer());
    expect((await get('shop/private', anonymous.token)).status).toBe(401);
    expect((await get('shop/private', read.token)).status).toBe(200);
    const push = await fetch(`${registry.url}/v2/shop/public/manifests/deploy_2`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${anonymous.token}`, 'content-type': MEDIA.ociManifest },
      body: bytes,
    });
    expect(push.status).toBe(401);
    expect(push.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('is a registry skopeo pulls a public image from anonymously', async () => {
    const digest = await pushImage(registry, 'shop/public', 'v2', { content: 'skopeo\n' });
    const { stdout } = await promisify(execFile)(SKOPEO, [
      'inspect',
      '--tls-verify=false',
      '--no-creds',
      `docker://${registry.host}/shop/public:v2`,
    ]);
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(digest);
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
