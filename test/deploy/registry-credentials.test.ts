import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { pushImage, type Registry, startRegistry } from '../../sandbox/registry.ts';
import { credentialsFor, type RegistryCredentialSources } from '../../src/deploy/registry-credentials.ts';
import { runBundle } from '../helpers/run-bundle.ts';
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
      env: { GITHUB_ACTOR: github.username },
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
