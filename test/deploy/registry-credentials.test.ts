import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DOCKER_HUB_AUTH_HOST,
  DOCKER_HUB_REGISTRY_HOST,
  type DockerHubFront,
  FLY_REGISTRY_HOST,
  GHCR_HOST,
  startDockerHubFront,
} from '../../sandbox/docker-hub.ts';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { pushImage, type Registry, startRegistry } from '../../sandbox/registry.ts';
import { credentialsFor, type RegistryCredentialSources } from '../../src/deploy/registry-credentials.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations, SECRETS } from './fixtures.ts';

/**
 * The GitHub token goes to ghcr.io only, the Fly token to registry.fly.io only
 * (user `x`, as `fly auth docker` logs in: superfly/flyctl
 * internal/command/auth/docker.go); any other registry gets only what
 * registry-username/registry-password give.
 */

const github = { username: 'octocat', password: SECRETS.github };
const user = { username: 'deployer', password: SECRETS.registry };
const sources = (s: Partial<RegistryCredentialSources> = {}): RegistryCredentialSources => ({
  given: undefined,
  github,
  flyToken: SECRETS.fly,
  ...s,
});

describe('credentialsFor', () => {
  const fly = { credentials: { username: 'x', password: SECRETS.fly }, source: 'fly-api-token' };
  const gh = { credentials: github, source: 'github-token' };
  const given = { credentials: user, source: 'registry-password' };
  it.each([
    ['ghcr.io', 'tokens only', sources(), gh],
    ['GHCR.io', 'tokens only', sources(), gh],
    ['registry.fly.io', 'tokens only', sources(), fly],
    ['docker.io', 'tokens only', sources(), undefined],
    ['ghcr.io.evil.example', 'tokens only', sources(), undefined],
    ['127.0.0.1:5000', 'tokens only', sources(), undefined],
    ['registry.fly.io:443', 'tokens only', sources(), undefined],
    ['ghcr.io', 'no github-token', sources({ github: undefined }), undefined],
    ['registry.fly.io', 'no fly-api-token', sources({ flyToken: undefined }), undefined],
    ['docker.io', 'registry-password', sources({ given: user }), given],
    ['ghcr.io', 'registry-password', sources({ given: user }), given],
  ])('%s with %s', (host, _label, s, expected) => {
    expect(credentialsFor(host, s)).toEqual(expected);
  });

  it('never hands the GitHub or Fly token to a host they are not for', () => {
    fc.assert(
      fc.property(fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 })), (domain, port) => {
        const host = port === null ? domain : `${domain}:${port}`;
        const chosen = credentialsFor(host, sources())?.credentials.password;
        if (chosen === SECRETS.github) expect(host.toLowerCase()).toBe('ghcr.io');
        if (chosen === SECRETS.fly) expect(host.toLowerCase()).toBe('registry.fly.io');
      }),
    );
  });
});

/** A pass-through proxy in front of a registry that keeps every request's headers. */
interface RecordingProxy {
  host: string;
  headers: IncomingHttpHeaders[];
  stop(): Promise<void>;
}

async function recordingProxy(target: Registry): Promise<RecordingProxy> {
  const headers: IncomingHttpHeaders[] = [];
  const [targetHost, targetPort] = target.host.split(':');
  const server: Server = createServer((req, res) => {
    headers.push(req.headers);
    const upstream = httpRequest(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
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
    headers,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every credential-looking string a request carried, Basic decoded. */
function carried(all: IncomingHttpHeaders[]): string {
  return all
    .flatMap((h) => Object.values(h).flat())
    .map((v) => {
      const basic = /^Basic (.+)$/i.exec(String(v));
      return basic ? `${v} ${Buffer.from(basic[1]!, 'base64').toString('utf8')}` : String(v);
    })
    .join('\n');
}

describe('deploy bundle: the GitHub token never reaches another registry', () => {
  // One registry with token auth (as ghcr.io and Docker Hub answer) and one with Basic auth.
  let tokenRegistry: Registry;
  let basicRegistry: Registry;
  let proxies: RecordingProxy[];
  let fly: FlyFake;
  let gh: GitHubFake;
  beforeAll(async () => {
    [tokenRegistry, basicRegistry] = await Promise.all([
      startRegistry({ auth: user, tokenAuth: true }),
      startRegistry({ auth: user }),
    ]);
    proxies = await Promise.all([recordingProxy(tokenRegistry), recordingProxy(basicRegistry)]);
    fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 50 });
    gh = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
    await Promise.all([fly.start(), gh.start()]);
    await pushImage(tokenRegistry, 'acme/app', '1.0.0', { content: 'token' });
    await pushImage(basicRegistry, 'acme/app', '1.0.0', { content: 'basic' });
  });
  afterAll(async () => {
    await Promise.all([fly?.stop(), gh?.stop(), ...(proxies ?? []).map((p) => p.stop())]);
    await Promise.all([tokenRegistry?.stop(), basicRegistry?.stop()]);
  });

  const deploy = (host: string, inputs: Record<string, string> = {}) =>
    runBundle('deploy', {
      env: { ...UNSPACED_GITHUB_WRITES, GITHUB_ACTOR: github.username },
      inputs: {
        target: 'fly',
        image: `${host}/acme/app:1.0.0`,
        'fly-app': 'test-app',
        'fly-api-token': SECRETS.fly,
        'fly-api-url': `${fly.server.url}/v1`,
        'github-token': SECRETS.github,
        'github-api-url': gh.server.url,
        ...inputs,
      },
    });

  for (const kind of ['token', 'basic'] as const) {
    it(`${kind} auth: without registry credentials the registry gets none, and the error names the inputs`, async () => {
      const proxy = proxies[kind === 'token' ? 0 : 1]!;
      const registry = kind === 'token' ? tokenRegistry : basicRegistry;
      fly.addMachine({ id: `anon-${kind}` });
      const run = await deploy(proxy.host);
      expect(run.code).toBe(1);
      expect(run.errors.join('\n')).toMatch(/registry-username and registry-password/);
      expect(proxy.headers.length).toBeGreaterThan(0);
      const sent = carried([
        ...proxy.headers,
        ...(registry.tokenServer?.requests ?? []).map((r) => r.headers),
      ]);
      expect(sent).not.toContain(SECRETS.github);
      expect(sent).not.toContain(SECRETS.fly);
      expect(fly.machine(`anon-${kind}`)!.config.image).not.toContain('acme/app');
      expectNoSecrets(run);
    });
  }

  it('the credentials the user gives go to the image registry, and the tokens still do not', async () => {
    const proxy = proxies[1]!;
    proxy.headers.length = 0;
    fly.addMachine({ id: 'given' });
    const run = await deploy(proxy.host, {
      'registry-username': user.username,
      'registry-password': user.password,
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs.status).toBe('success');
    const sent = carried(proxy.headers);
    expect(sent).toContain(`${user.username}:${user.password}`);
    expect(sent).not.toContain(SECRETS.github);
    expect(sent).not.toContain(SECRETS.fly);
    expectNoSecrets(run);
    expectNoViolations(fly.server, gh.server);
  });

  it('a refused registry-password is named as such', async () => {
    fly.addMachine({ id: 'refused' });
    const run = await deploy(proxies[0]!.host, {
      'registry-username': user.username,
      'registry-password': `${user.password}-wrong`,
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(
      new RegExp(`registry-password was refused by Registry ${proxies[0]!.host.replace('.', '\\.')} \\(401`),
    );
    expectNoSecrets(run);
  });
});

describe('deploy bundle: each registry by name gets its own credential, and only it (issue 20)', () => {
  // ghcr.io, registry.fly.io and Docker Hub answered on loopback through HTTPS_PROXY
  // (sandbox/docker-hub.ts), every request's Authorization header kept per host. The token server
  // grants pull to the GitHub token (as the job's GITHUB_TOKEN with packages: read) and to the Fly
  // token, pull and push to the user's registry-password.
  let registry: Registry;
  let front: DockerHubFront;
  let fly: FlyFake;
  let gh: GitHubFake;
  const flyLogin = { username: 'x', password: SECRETS.fly };
  beforeAll(async () => {
    registry = await startRegistry({ auth: user, tokenAuth: { readers: [github, flyLogin] } });
    fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 50 });
    gh = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
    [front] = await Promise.all([startDockerHubFront(registry), fly.start(), gh.start()]);
    await pushImage(registry, 'acme/app', '1.0.0', { content: 'named' });
  });
  afterAll(async () => {
    await Promise.all([fly?.stop(), gh?.stop(), front?.stop()]);
    await registry?.stop();
  });

  const basic = (c: { username: string; password: string }) =>
    `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  /** The Authorization headers each host of the front received during `run`. */
  const sentDuring = async (run: () => Promise<BundleRun>) => {
    front.authorizations.length = 0;
    const result = await run();
    const byHost: Record<string, (string | undefined)[]> = {};
    for (const a of front.authorizations) byHost[a.host] = [...(byHost[a.host] ?? []), a.authorization];
    return { result, byHost };
  };
  const deploy = (image: string, inputs: Record<string, string> = {}) => {
    const machine = `m-${image.split('/')[0]!.replace(/[^a-z0-9]/g, '')}-${Object.keys(inputs).length}`;
    fly.addMachine({ id: machine });
    return runBundle('deploy', {
      env: { GITHUB_ACTOR: github.username, HTTPS_PROXY: front.proxyUrl, NODE_EXTRA_CA_CERTS: front.caFile },
      inputs: {
        target: 'fly',
        image,
        'tag-image': 'false',
        'fly-app': 'test-app',
        'fly-api-token': SECRETS.fly,
        'fly-api-url': `${fly.server.url}/v1`,
        'github-token': SECRETS.github,
        'github-api-url': gh.server.url,
        ...inputs,
      },
    });
  };
  /** Token requests carry the Basic credentials; registry requests only the Bearer tokens they gave. */
  const tokenAuthorizations = (byHost: Record<string, (string | undefined)[]>, host: string) =>
    (byHost[host] ?? []).filter((a) => a?.startsWith('Basic '));

  it('ghcr.io gets the GitHub token (GITHUB_ACTOR as user), and nothing else does', async () => {
    const { result, byHost } = await sentDuring(() => deploy(`${GHCR_HOST}/acme/app:1.0.0`));
    expect(result.errors).toEqual([]);
    expect(result.outputs.image).toMatch(/^ghcr\.io\/acme\/app@sha256:/);
    expect(Object.keys(byHost)).toEqual([GHCR_HOST]);
    expect(new Set(tokenAuthorizations(byHost, GHCR_HOST))).toEqual(new Set([basic(github)]));
    expectNoSecrets(result);
  });

  it('registry.fly.io gets the Fly token (user x), never the GitHub token', async () => {
    const { result, byHost } = await sentDuring(() => deploy(`${FLY_REGISTRY_HOST}/acme/app:1.0.0`));
    expect(result.errors).toEqual([]);
    expect(Object.keys(byHost)).toEqual([FLY_REGISTRY_HOST]);
    expect(new Set(tokenAuthorizations(byHost, FLY_REGISTRY_HOST))).toEqual(new Set([basic(flyLogin)]));
    expect(carried(front.authorizations.map((a) => ({ authorization: a.authorization })))).not.toContain(
      SECRETS.github,
    );
    expectNoSecrets(result);
  });

  it('Docker Hub gets only registry-username/registry-password, never the GitHub or Fly token', async () => {
    const { result, byHost } = await sentDuring(() =>
      deploy('docker.io/acme/app:1.0.0', {
        'registry-username': user.username,
        'registry-password': user.password,
      }),
    );
    expect(result.errors).toEqual([]);
    expect(Object.keys(byHost).sort()).toEqual([DOCKER_HUB_AUTH_HOST, DOCKER_HUB_REGISTRY_HOST].sort());
    expect(new Set(tokenAuthorizations(byHost, DOCKER_HUB_AUTH_HOST))).toEqual(new Set([basic(user)]));
    const sent = carried(front.authorizations.map((a) => ({ authorization: a.authorization })));
    expect(sent).not.toContain(SECRETS.github);
    expect(sent).not.toContain(SECRETS.fly);
    expectNoSecrets(result);
  });

  it('Docker Hub without registry credentials is asked anonymously: no token of the job goes there', async () => {
    const { result, byHost } = await sentDuring(() => deploy('docker.io/acme/app:1.0.0'));
    // acme/app is not public on this registry: the anonymous pull is refused, naming the inputs.
    expect(result.code).toBe(1);
    expect(result.errors.join('\n')).toMatch(/registry-username and registry-password/);
    expect(byHost[DOCKER_HUB_AUTH_HOST]).toEqual([undefined]);
    // The registry sees no header, then the anonymous token the token server gave.
    expect(
      byHost[DOCKER_HUB_REGISTRY_HOST]?.filter((a) => a !== undefined && !a.startsWith('Bearer ')),
    ).toEqual([]);
    const sent = carried(front.authorizations.map((a) => ({ authorization: a.authorization })));
    expect(sent).not.toContain(SECRETS.github);
    expect(sent).not.toContain(SECRETS.fly);
    expectNoSecrets(result);
  });
});
