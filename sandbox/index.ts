import type { FakeServer, Violation } from './fake-server.ts';
import { createCloudflareFake } from './fakes/cloudflare.ts';
import { createDigitalOceanFake } from './fakes/digitalocean.ts';
import { createFlyFake } from './fakes/fly.ts';
import { createGitHubFake } from './fakes/github.ts';
import { createHerokuFake } from './fakes/heroku.ts';
import { createHetznerFake } from './fakes/hetzner.ts';
import { createKamalFake } from './fakes/kamal.ts';
import { createResultsFake } from './fakes/results.ts';

/**
 * Every provider fake on loopback at once, with the credentials they accept:
 * what `npm run demo` and the CI dry-run job point the actions at.
 */

export const SANDBOX_TOKENS = {
  heroku: 'sandbox-heroku-api-key',
  hetzner: 'sandbox-hetzner-token',
  cloudflare: 'sandbox-cloudflare-token',
  fly: 'sandbox-fly-token',
  digitalocean: 'sandbox-do-token',
  github: 'sandbox-github-token',
} as const;

export interface SandboxOptions {
  /** GITHUB_REPOSITORY the GitHub fake serves. */
  repository?: string;
  flyApp?: string;
  kamalHosts?: number;
  /** Fly machine start time in ms. */
  flyStartDelayMs?: number;
  /** Credentials the fakes accept instead of SANDBOX_TOKENS (e.g. canaries in secret scans). */
  tokens?: Partial<Record<keyof typeof SANDBOX_TOKENS, string>>;
}

export async function startSandbox(options: SandboxOptions = {}) {
  const tokens = { ...SANDBOX_TOKENS, ...options.tokens };
  const heroku = createHerokuFake({ apiKeys: [tokens.heroku] });
  const hetzner = createHetznerFake({ token: tokens.hetzner });
  const cloudflare = createCloudflareFake({ token: tokens.cloudflare });
  const fly = createFlyFake({
    token: tokens.fly,
    app: options.flyApp ?? 'smooth',
    startDelayMs: options.flyStartDelayMs ?? 300,
  });
  const digitalocean = createDigitalOceanFake({ token: tokens.digitalocean });
  const github = createGitHubFake({
    token: tokens.github,
    repositories: [options.repository ?? 'acme/fleet'],
  });
  const results = createResultsFake();
  const kamal = createKamalFake({ hosts: options.kamalHosts ?? 2 });
  const fakes = [heroku, hetzner, cloudflare, fly, digitalocean, github, results, kamal];
  await Promise.all(fakes.map((f) => f.start()));
  const servers: FakeServer[] = [
    heroku.server,
    hetzner.server,
    cloudflare.server,
    fly.server,
    fly.app,
    digitalocean.server,
    github.server,
    results.server,
    ...kamal.hosts.map((h) => h.server),
  ];
  return {
    heroku,
    hetzner,
    cloudflare,
    fly,
    digitalocean,
    github,
    results,
    kamal,
    tokens,
    /** Every loopback server, for counting what reached any fake. */
    servers,
    urls: {
      heroku: heroku.url,
      hetzner: `${hetzner.server.url}/v1`,
      cloudflare: `${cloudflare.server.url}/client/v4`,
      fly: `${fly.server.url}/v1`,
      flyApp: fly.app.url,
      digitalocean: `${digitalocean.server.url}/v2`,
      github: github.server.url,
      results: results.url,
      kamal: kamal.hosts.map((h) => h.url),
    },
    /** Every request any fake refused as outside its provider's contract. */
    violations(): Violation[] {
      return servers.flatMap((s) => s.violations);
    },
    async stop(): Promise<void> {
      await Promise.all(fakes.map((f) => f.stop()));
    },
  };
}

export type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
