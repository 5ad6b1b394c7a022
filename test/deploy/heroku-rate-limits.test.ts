import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HerokuFake, herokuFault } from '../../sandbox/fakes/heroku.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations } from './fixtures.ts';
import { type HerokuWorld, startHerokuWorld } from './worlds.ts';

/**
 * Heroku's rate limit met by a deploy, through the committed bundle: Heroku's real 429
 * (RateLimit-Remaining 0, no Retry-After) waited out as heroku-go does — 30 s, then 60 s,
 * each spread ±25 %, logged as such, slept 0.01 of it here through the test-only OPS_ACTIONS_TEST_WAIT_SCALE — or, when the
 * wait would pass the input health-timeout, one clean error naming Heroku and the limit.
 */

let world: HerokuWorld;
let heroku: HerokuFake;

beforeEach(async () => {
  world = await startHerokuWorld({ knobs: { buildLineIntervalMs: 1 } });
  ({ heroku } = world);
});
afterEach(() => world.stop());

async function deploy(env: Record<string, string> = {}, healthTimeout = '20'): Promise<BundleRun> {
  const run = await runBundle('deploy', {
    env: { ...UNSPACED_GITHUB_WRITES, ...env },
    // No github-token: the deploy is not recorded, so only Heroku's limits are met.
    inputs: {
      ...world.inputs({ github: false }),
      'heroku-app': 'web-prod',
      'source-url': 'https://example.test/app.tgz',
      'health-timeout': healthTimeout,
    },
  });
  expectNoSecrets(run);
  expectNoViolations(heroku.server);
  return run;
}

describe('Heroku rate limits in a deploy', () => {
  it('waits 30 s, then 60 s (each ±25 %), as heroku-go does, says so, and deploys', async () => {
    heroku.server.inject({ route: 'app.info', times: 2, fault: herokuFault(429) });
    // 30 + 60 s of computed waits fit a 120 s health-timeout; the scale only shortens the sleeps.
    const run = await deploy({ OPS_ACTIONS_TEST_WAIT_SCALE: '0.01' }, '120');
    expect(run.errors).toEqual([]);
    expect(run.outputs.status).toBe('success');
    const waits = run.stdout.split('\n').filter((l) => l.startsWith('rate limited by Heroku'));
    expect(waits).toHaveLength(2);
    const seconds = waits.map((l) =>
      Number(/waiting (\d+) s \(HTTP 429, RateLimit-Remaining 0; app\.info\)$/.exec(l)?.[1]),
    );
    expect(seconds[0]).toBeGreaterThanOrEqual(22);
    expect(seconds[0]).toBeLessThanOrEqual(38);
    expect(seconds[1]).toBeGreaterThanOrEqual(45);
    expect(seconds[1]).toBeLessThanOrEqual(75);
    expect(
      heroku.server
        .received('app.info')
        .map((r) => r.status)
        .slice(0, 3),
    ).toEqual([429, 429, 200]);
  });

  it('fails at once, naming Heroku and the limit, when 30 s would pass the health-timeout', async () => {
    heroku.server.inject({ route: 'app.info', times: Number.POSITIVE_INFINITY, fault: herokuFault(429) });
    const run = await deploy();
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /Heroku answered GET \/apps\/[\w-]+ with HTTP 429: rate limited by Heroku past the input health-timeout \(HTTP 429, RateLimit-Remaining 0: waiting (2[3-9]|3[0-7]) s would pass it, 20 s left\)/,
    );
    expect(heroku.server.received('app.info')).toHaveLength(1);
    expect(heroku.server.received('build.create')).toEqual([]);
  });

  it('SIGINT during a 30 s wait: exits within the runner grace with one cancelled error, nothing built', async () => {
    // The runner's grace between SIGINT and SIGTERM (actions/runner ProcessInvoker.cs).
    const RUNNER_SIGINT_GRACE_MS = 7500;
    heroku.server.inject({ route: 'app.info', times: Number.POSITIVE_INFINITY, fault: herokuFault(429) });
    let child: ChildProcess | undefined;
    let sentAt: number | undefined;
    let exitMs: number | undefined;
    const run = await runBundle('deploy', {
      inputs: {
        ...world.inputs({ github: false }),
        'heroku-app': 'web-prod',
        'source-url': 'https://example.test/app.tgz',
        'health-timeout': '120',
      },
      onSpawn: (c) => {
        child = c;
        c.on('exit', () => {
          if (sentAt !== undefined) exitMs = performance.now() - sentAt;
        });
      },
      onLine: (line) => {
        if (sentAt === undefined && line.startsWith('rate limited by Heroku, waiting ') && child?.pid) {
          sentAt = performance.now();
          process.kill(child.pid, 'SIGINT');
        }
      },
    });
    expect(exitMs).toBeDefined();
    expect(exitMs!).toBeLessThan(RUNNER_SIGINT_GRACE_MS);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/cancelled \(SIGINT\)/);
    expect(heroku.server.received('app.info')).toHaveLength(1);
    expect(heroku.server.received('build.create')).toEqual([]);
    expectNoSecrets(run);
    expectNoViolations(heroku.server);
  }, 60_000);
});
