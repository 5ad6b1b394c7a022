import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GitHubFake } from '../../sandbox/fakes/github.ts';
import type { HerokuFake } from '../../sandbox/fakes/heroku.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations, SECRETS, statesOf } from './fixtures.ts';
import { type HerokuWorld, startHerokuWorld } from './worlds.ts';

/** The committed bundle against the Heroku and GitHub fakes: builds, promotions, rollbacks. */

let world: HerokuWorld;
let heroku: HerokuFake;
let github: GitHubFake;
const LINE_MS = 150;

beforeEach(async () => {
  world = await startHerokuWorld({ knobs: { buildLineIntervalMs: LINE_MS } });
  ({ heroku, github } = world);
});
afterEach(() => world.stop());

function deploy(
  inputs: Record<string, string>,
  onLine?: (line: string, at: number) => void,
): Promise<BundleRun> {
  return runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: { ...world.inputs(), 'heroku-app': 'web-prod', 'health-timeout': '20', ...inputs },
    ...(onLine ? { onLine } : {}),
  });
}

describe('heroku build deploy', () => {
  it('streams the build output line by line while the build runs, then records the release', async () => {
    const seen: [string, number][] = [];
    const run = await deploy({ 'source-url': 'https://example.test/app.tgz' }, (line, at) =>
      seen.push([line, at]),
    );
    expect(run.errors).toEqual([]);
    const lines = seen.filter(([l]) => l.startsWith('  -----> '));
    expect(lines.map(([l]) => l.trim())).toEqual(heroku.knobs.buildLines);
    // Streamed as produced: the first line reached stdout long before the last.
    expect(lines.at(-1)![1] - lines[0]![1]).toBeGreaterThanOrEqual(LINE_MS * 3);
    const current = heroku.currentRelease('web-prod')!;
    expect(current.slugId).not.toBeNull();
    const posted = heroku.server.received('POST /apps/:app/builds')[0]!.json as {
      source_blob: { url: string; version: string };
    };
    expect(posted.source_blob).toEqual({
      url: 'https://example.test/app.tgz',
      version: run.outputs['deploy-tag'],
    });
    expect(run.outputs.status).toBe('success');
    expect(run.outputs['previous-image']).toBe('release v1');
    expect(run.outputs.url).toMatch(/^https:\/\/web-prod-.*\.herokuapp\.com\/$/);
    const [d] = github.deployments();
    expect(d!.payload).toMatchObject({
      target: 'heroku',
      tag: run.outputs['deploy-tag'],
      previous_image: 'release v1',
    });
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'success']);
    expect(github.statusesOf(d!.id)[1]!.description).toContain(current.id);
    expect(run.stdout).toMatch(/\[1\/1 100%\] web-prod updated status=release v2/);
    expectNoSecrets(run);
    expectNoViolations(heroku.server, github.server);
  });

  it('a failed build fails the step and records failure', async () => {
    heroku.knobs.buildFailures.set('web-prod', ['-----> Building', ' !     Push rejected']);
    const run = await deploy({ 'source-url': 'https://example.test/app.tgz' });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(run.stdout).toContain('  !     Push rejected');
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'failure']);
    expectNoSecrets(run);
    expectNoViolations(heroku.server, github.server);
  });
});

describe('heroku promotion', () => {
  it('promotes the upstream app through the pipeline and waits for the target', async () => {
    heroku.seedApp({ name: 'web-staging' });
    const [staged] = heroku.seedReleases('web-staging', 1);
    const pipeline = heroku.seedPipeline('web');
    heroku.couple('web-staging', pipeline.id, 'staging');
    heroku.couple('web-prod', pipeline.id, 'production');
    const run = await deploy({ 'promote-from': 'web-staging' });
    expect(run.errors).toEqual([]);
    expect(heroku.currentRelease('web-prod')!.slugId).toBe(staged!.slugId);
    expect(heroku.server.received('POST /pipeline-promotions')).toHaveLength(1);
    expectNoSecrets(run);
    expectNoViolations(heroku.server, github.server);
  });

  it('a failed promotion target fails the step', async () => {
    heroku.seedApp({ name: 'web-staging' });
    heroku.seedReleases('web-staging', 1);
    const pipeline = heroku.seedPipeline('web');
    heroku.couple('web-staging', pipeline.id, 'staging');
    heroku.couple('web-prod', pipeline.id, 'production');
    heroku.knobs.promotionFailures.set('web-prod', 'release phase failed');
    const run = await deploy({ 'promote-from': 'web-staging' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toContain('release phase failed');
  });
});

describe('heroku rollback', () => {
  it('rollback-to previous without history POSTs the release before the current one', async () => {
    const [, v3] = heroku.seedReleases('web-prod', 3);
    const run = await deploy({ operation: 'rollback', 'github-token': '' });
    expect(run.errors).toEqual([]);
    const post = heroku.server.received('POST /apps/:app/releases');
    expect(post.map((r) => r.json)).toEqual([{ release: v3!.id }]);
    expect(heroku.currentRelease('web-prod')!.description).toBe('Rollback to v3');
    expect(github.server.requests).toHaveLength(0);
    expectNoSecrets(run);
    expectNoViolations(heroku.server);
  });

  it('rollback-to a deployment id restores the release that deployment made, recorded as a deployment', async () => {
    const first = await deploy({ 'source-url': 'https://example.test/a.tgz' });
    const firstRelease = heroku.currentRelease('web-prod')!;
    const second = await deploy({ 'source-url': 'https://example.test/b.tgz' });
    expect([first.code, second.code]).toEqual([0, 0]);
    const run = await deploy({ operation: 'rollback', 'rollback-to': first.outputs['deployment-id']! });
    expect(run.errors).toEqual([]);
    expect(heroku.server.received('POST /apps/:app/releases').map((r) => r.json)).toEqual([
      { release: firstRelease.id },
    ]);
    expect(run.outputs['deploy-tag']).toBe(first.outputs['deploy-tag']);
    const latest = github.deployments().at(-1)!;
    expect(latest.payload).toMatchObject({ operation: 'rollback', release: firstRelease.id });
    expect(statesOf(github, latest.id)).toEqual(['in_progress', 'success']);
    // previous, from the history: the deployment before the current one (the second build).
    const back = await deploy({ operation: 'rollback' });
    expect(back.code).toBe(0);
    const secondRelease = heroku.state.releases.find(
      (r) => r.description.startsWith('Deploy') && r.id !== firstRelease.id && r.slugId,
    );
    expect(heroku.server.received('POST /apps/:app/releases').at(-1)!.json).toEqual({
      release: secondRelease!.id,
    });
    expectNoSecrets(run);
    expectNoViolations(heroku.server, github.server);
  });

  it('dry-run sends nothing that changes anything', async () => {
    heroku.seedReleases('web-prod', 2);
    const run = await deploy({ operation: 'rollback', 'dry-run': 'true' });
    expect(run.code).toBe(0);
    expect(heroku.server.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(github.server.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(run.stdout).toContain('plan: POST /apps/web-prod/releases');
  });
});

describe('heroku build cancelled by the runner', () => {
  /** The runner's grace between SIGINT and SIGTERM (actions/runner ProcessInvoker.cs): a contract. */
  const RUNNER_SIGINT_GRACE_MS = 7500;

  it('SIGINT while the build runs: the build is cancelled, no release lands, the deployment ends error', async () => {
    heroku.knobs.buildLineIntervalMs = 400;
    heroku.knobs.buildLines = Array.from({ length: 40 }, (_, i) => `-----> step ${i}`);
    const releasesBefore = heroku.state.releases.length;
    let child: ChildProcess | undefined;
    let sentAt: number | undefined;
    let exitMs: number | undefined;
    const run = await runBundle('deploy', {
      inputs: {
        target: 'heroku',
        'heroku-app': 'web-prod',
        'heroku-api-key': SECRETS.heroku,
        'heroku-api-url': heroku.url,
        'github-token': SECRETS.github,
        'github-api-url': github.server.url,
        'source-url': 'https://example.test/app.tgz',
      },
      onSpawn: (c) => {
        child = c;
        c.on('exit', () => {
          if (sentAt !== undefined) exitMs = performance.now() - sentAt;
        });
      },
      onLine: (line) => {
        if (sentAt === undefined && line.includes('-----> step 1') && child?.pid) {
          sentAt = performance.now();
          process.kill(child.pid, 'SIGINT');
        }
      },
    });
    expect(exitMs).toBeDefined();
    expect(exitMs!).toBeLessThan(RUNNER_SIGINT_GRACE_MS);
    expect(run.code).toBe(1);
    expect(run.errors).toEqual(['cancelled (SIGINT): no unit was changed']);
    const [build] = heroku.state.builds;
    expect(heroku.server.received('DELETE /apps/:app/builds/:build').map((r) => r.path)).toEqual([
      `/apps/web-prod/builds/${build!.id}`,
    ]);
    expect(build!.status).toBe('failed');
    // Long after the build would have finished, the app still has the release it had.
    await new Promise((r) => setTimeout(r, 1000));
    expect(heroku.state.releases.length).toBe(releasesBefore);
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'error']);
    expect(github.statusesOf(d!.id).at(-1)!.description).toBe('cancelled: no unit was changed');
    expect(run.summary).toMatch(/cancelled: no unit was changed/);
    expect(run.stdout).toMatch(/Cancelled: build \S+ cancelled \(now failed\)/);
    // Nothing is left for the post step: it sends no Heroku or GitHub request.
    const sent = heroku.server.requests.length + github.server.requests.length;
    const post = await runBundle('deploy', { entry: 'post', inputs: {}, state: run.state });
    expect(post.code).toBe(0);
    expect(heroku.server.requests.length + github.server.requests.length).toBe(sent);
    expectNoSecrets(run);
    expectNoViolations(heroku.server, github.server);
  }, 60_000);
});
