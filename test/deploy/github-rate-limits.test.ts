import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type GitHubFake, primaryRateLimit, secondaryRateLimit } from '../../sandbox/fakes/github.ts';
import type { HerokuFake } from '../../sandbox/fakes/heroku.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations, statesOf } from './fixtures.ts';
import { type HerokuWorld, startHerokuWorld } from './worlds.ts';

/**
 * GitHub's rate limits met by the deploy history (Deployments API), through the
 * committed bundle: waited out within `health-timeout` with a line saying so,
 * or, when they outlast it, a clean failure naming the limit before the target
 * is touched.
 */

const LIST = 'GET /repos/:owner/:repo/deployments';
const CREATE = 'POST /repos/:owner/:repo/deployments';
const STATUS = 'POST /repos/:owner/:repo/deployments/:id/statuses';

let world: HerokuWorld;
let heroku: HerokuFake;
let github: GitHubFake;

beforeEach(async () => {
  world = await startHerokuWorld({ knobs: { buildLineIntervalMs: 1 } });
  ({ heroku, github } = world);
});
afterEach(() => world.stop());

async function deploy(inputs: Record<string, string> = {}): Promise<BundleRun> {
  const run = await runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: {
      ...world.inputs(),
      'heroku-app': 'web-prod',
      'source-url': 'https://example.test/app.tgz',
      'health-timeout': '20',
      ...inputs,
    },
  });
  expectNoSecrets(run);
  expectNoViolations(heroku.server, github.server);
  return run;
}

const waits = (run: BundleRun) =>
  run.stdout.split('\n').filter((l) => l.startsWith('rate limited by GitHub'));

describe('GitHub rate limits in the deploy history', () => {
  it('waits out a primary limit (403) on the history lookup until x-ratelimit-reset', async () => {
    github.server.inject({ route: LIST, fault: primaryRateLimit({ resetAt: new Date(Date.now() + 1000) }) });
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(run.outputs.status).toBe('success');
    expect(waits(run)).toEqual([
      expect.stringMatching(
        /^rate limited by GitHub, waiting \d s \(primary rate limit, GET \/repos\/acme\/fleet\/deployments\)$/,
      ),
    ]);
    expect(github.server.received(LIST).map((r) => r.status)).toEqual([403, 200]);
  });

  it('waits out a primary limit (429) on the create: sent again, one deployment made', async () => {
    github.server.inject({
      route: CREATE,
      fault: primaryRateLimit({ resetAt: new Date(Date.now() + 1000), status: 429 }),
    });
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(waits(run)).toEqual([
      expect.stringContaining('(primary rate limit, POST /repos/acme/fleet/deployments)'),
    ]);
    expect(github.server.received(CREATE).map((r) => r.status)).toEqual([429, 201]);
    const [d] = github.deployments();
    expect(github.deployments()).toHaveLength(1);
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'success']);
  });

  it('waits out a secondary limit on the final status for its retry-after', async () => {
    github.server.inject({ route: STATUS, call: 2, fault: secondaryRateLimit({ retryAfter: 1 }) });
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(waits(run)).toEqual([
      expect.stringMatching(
        /^rate limited by GitHub, waiting 1 s \(secondary rate limit, POST \/repos\/acme\/fleet\/deployments\/\d+\/statuses\)$/,
      ),
    ]);
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'success']);
  });

  it('waits out a 429 that is neither kind for its retry-after, as every provider 429 is', async () => {
    github.server.inject({
      route: LIST,
      fault: { status: 429, retryAfter: 1, json: { message: 'Too Many Requests' } },
    });
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(waits(run)).toEqual([
      'rate limited by GitHub, waiting 1 s (HTTP 429 with retry-after, GET /repos/acme/fleet/deployments)',
    ]);
    expect(github.server.received(LIST).map((r) => r.status)).toEqual([429, 200]);
  });

  it('a primary limit that resets after health-timeout fails at once, before the target is touched', async () => {
    const resetAt = new Date(Date.now() + 3600_000);
    github.server.inject({ route: LIST, fault: primaryRateLimit({ resetAt }) });
    const run = await deploy();
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(
      'GitHub answered GET /repos/acme/fleet/deployments with HTTP 403: API rate limit exceeded',
    );
    expect(run.errors[0]).toContain(
      `GitHub's primary rate limit (x-ratelimit-remaining 0, resource core, resets at ${new Date(Math.floor(resetAt.getTime() / 1000) * 1000).toISOString()})`,
    );
    expect(run.errors[0]).toContain(
      'more than the 20 s a GitHub request may wait (the input health-timeout)',
    );
    expect(waits(run)).toEqual([]);
    expect(github.server.received(LIST)).toHaveLength(1);
    expect(heroku.server.received('POST /apps/:app/builds')).toEqual([]);
    expect(github.deployments()).toEqual([]);
  });

  it('a secondary limit without retry-after (one minute) past health-timeout fails naming it', async () => {
    github.server.inject({ route: CREATE, fault: secondaryRateLimit() });
    const run = await deploy();
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringContaining("GitHub's secondary rate limit (no retry-after: at least one minute)"),
    ]);
    expect(github.server.received(CREATE)).toHaveLength(1);
    expect(github.deployments()).toEqual([]);
  });

  it('SIGINT during a one-minute wait on the in_progress status cuts it at once: one cancelled error, summary written, final status recorded, nothing built', async () => {
    // Without the cut the wait holds the step until the forced exit (FORCED_EXIT_MS after the
    // signal), which prints no error and writes no summary.
    github.server.inject({ route: STATUS, call: 1, fault: secondaryRateLimit() });
    let child: ChildProcess | undefined;
    let signalled = false;
    const run = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: {
        ...world.inputs(),
        'heroku-app': 'web-prod',
        'source-url': 'https://example.test/app.tgz',
        'health-timeout': '120',
      },
      onSpawn: (c) => {
        child = c;
      },
      onLine: (line) => {
        if (!signalled && line.startsWith('rate limited by GitHub, waiting 60 s') && child?.pid) {
          signalled = true;
          process.kill(child.pid, 'SIGINT');
        }
      },
    });
    expect(signalled).toBe(true);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/cancelled \(SIGINT\)/);
    expect(run.summary).toContain('cancelled, failed');
    expect(github.server.received(STATUS).map((r) => (r.json as { state: string }).state)).toEqual([
      'in_progress',
      'error',
    ]);
    expect(heroku.server.received('POST /apps/:app/builds')).toEqual([]);
    expectNoSecrets(run);
    expectNoViolations(heroku.server, github.server);
  }, 60_000);
});
