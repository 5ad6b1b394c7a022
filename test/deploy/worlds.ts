import { createFlyFake, type FlyFake, type FlyFakeOptions } from '../../sandbox/fakes/fly.ts';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { createHerokuFake, type HerokuFake, type HerokuKnobs } from '../../sandbox/fakes/heroku.ts';
import { SECRETS } from './fixtures.ts';

/**
 * The worlds the deploy bundle's tests run in: a provider fake and GitHub's (repository
 * acme/fleet, the one GITHUB_REPOSITORY names in run-bundle.ts), started together, with the
 * canary tokens of fixtures.ts, and the inputs that point the bundle at them. Each test file keeps
 * its own defaults (app, image, health-timeout) beside its tests.
 */

export interface HerokuWorld {
  heroku: HerokuFake;
  github: GitHubFake;
  /** target heroku, the key and URL of this Heroku; with `github`, the token and URL of this GitHub. */
  inputs(options?: { github?: boolean }): Record<string, string>;
  stop(): Promise<void>;
}

/** Heroku with `apps` seeded (default `web-prod`), builds printing a line every `knobs.buildLineIntervalMs`. */
export async function startHerokuWorld(
  options: { apps?: string[]; knobs?: Partial<HerokuKnobs> } = {},
): Promise<HerokuWorld> {
  const heroku = createHerokuFake({ apiKeys: [SECRETS.heroku], knobs: options.knobs ?? {} });
  const github = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
  await Promise.all([heroku.start(), github.start()]);
  for (const name of options.apps ?? ['web-prod']) heroku.seedApp({ name });
  return {
    heroku,
    github,
    inputs: ({ github: withGitHub = true } = {}) => ({
      target: 'heroku',
      'heroku-api-key': SECRETS.heroku,
      'heroku-api-url': heroku.url,
      ...(withGitHub ? { 'github-token': SECRETS.github, 'github-api-url': github.server.url } : {}),
    }),
    stop: async () => {
      await Promise.all([heroku.stop(), github.stop()]);
    },
  };
}

export interface FlyWorld {
  fly: FlyFake;
  github: GitHubFake;
  /** target fly, the token and Machines API URL of this Fly, the token and URL of this GitHub. */
  inputs(): Record<string, string>;
  stop(): Promise<void>;
}

/** Fly Machines (no machines yet: tests add their own) with `options`, and GitHub. */
export async function startFlyWorld(options: Omit<FlyFakeOptions, 'token'> = {}): Promise<FlyWorld> {
  const fly = createFlyFake({ token: SECRETS.fly, ...options });
  const github = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
  await Promise.all([fly.start(), github.start()]);
  return {
    fly,
    github,
    inputs: () => ({
      target: 'fly',
      'fly-api-token': SECRETS.fly,
      'fly-api-url': `${fly.server.url}/v1`,
      'github-token': SECRETS.github,
      'github-api-url': github.server.url,
    }),
    stop: async () => {
      await Promise.all([fly.stop(), github.stop()]);
    },
  };
}
