import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../sandbox/fake-server.ts';
import type { FlyFake } from '../../sandbox/fakes/fly.ts';
import type { GitHubFake } from '../../sandbox/fakes/github.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { summaryRow } from '../helpers/summary-tables.ts';
import { digestImage, expectNoSecrets, expectNoViolations, OLD_IMAGE, statesOf } from './fixtures.ts';
import { type FlyWorld, startFlyWorld } from './worlds.ts';

/**
 * Cancellation of a Fly deploy through the committed bundles (issue 13 §2): the runner sends
 * SIGINT to node and SIGTERM 7.5 s later (actions/runner src/Runner.Sdk/ProcessInvoker.cs), so
 * the step must send back what it changed, release its leases, give the deployment its final
 * status and exit non-zero before then. A step killed outright is finished by its post step.
 */

/** The runner's grace between SIGINT and SIGTERM: a contract, not a speed goal. */
const RUNNER_SIGINT_GRACE_MS = 7500;

let world: FlyWorld;
let fly: FlyFake;
let github: GitHubFake;

beforeEach(async () => {
  world = await startFlyWorld({ startDelayMs: 100 });
  ({ fly, github } = world);
});
afterEach(() => world.stop());

const inputs = () => ({
  ...world.inputs(),
  image: digestImage('b'),
  'tag-image': 'false',
  'fly-app': 'test-app',
  'health-timeout': '120',
  'max-unavailable': '2',
});

const machineOf = (r: RecordedRequest) => r.path.split('/')[5];
const updates = () => fly.server.received('Machines_update');

/**
 * Three machines: m1 alone gets healthy, then m2 and m3 are updated together and never get
 * healthy; `signal` is sent by PID once both are in their health wait.
 */
async function interruptedDeploy(
  signal: NodeJS.Signals,
): Promise<{ run: BundleRun; exitMs: number | undefined }> {
  for (let i = 1; i <= 3; i++) fly.addMachine({ id: `m${i}` });
  let child: ChildProcess | undefined;
  let sentAt: number | undefined;
  let exitMs: number | undefined;
  const watcher = setInterval(() => {
    if (updates().length >= 2) fly.failHealthFor(digestImage('b'));
    const waiting = fly.server.requests.filter(
      (r) => r.operation === 'Machines_show' && ['m2', 'm3'].includes(machineOf(r) ?? ''),
    );
    if (sentAt === undefined && updates().length >= 3 && waiting.length >= 2 && child?.pid) {
      sentAt = performance.now();
      process.kill(child.pid, signal);
    }
  }, 5);
  const run = await runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: inputs(),
    timeoutMs: 30_000,
    onSpawn: (c) => {
      child = c;
      c.on('exit', () => {
        if (sentAt !== undefined) exitMs = performance.now() - sentAt;
      });
    },
  }).finally(() => clearInterval(watcher));
  return { run, exitMs };
}

describe('fly deploy cancelled during its health wait', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: sends every changed machine back, releases every lease, records error, exits non-zero in time`, async () => {
      const { run, exitMs } = await interruptedDeploy(signal);
      expect(exitMs).toBeDefined();
      expect(exitMs!).toBeLessThan(RUNNER_SIGINT_GRACE_MS);
      expect(run.code).toBe(1);
      for (const m of fly.machines) expect(m.config.image).toBe(OLD_IMAGE);
      // The new image went to three machines, the old one came back to the same three.
      const sent = updates().map((u) => [
        machineOf(u),
        (u.json as { config: { image: string } }).config.image,
      ]);
      expect(
        sent
          .filter(([, image]) => image === digestImage('b'))
          .map(([m]) => m)
          .sort(),
      ).toEqual(['m1', 'm2', 'm3']);
      expect(
        sent
          .filter(([, image]) => image === OLD_IMAGE)
          .map(([m]) => m)
          .sort(),
      ).toEqual(['m1', 'm2', 'm3']);
      for (const m of fly.machines) expect(m.lease).toBeUndefined();
      const [d] = github.deployments();
      expect(statesOf(github, d!.id)).toEqual(['in_progress', 'error']);
      expect(github.statusesOf(d!.id).at(-1)!.description).toBe(
        'cancelled: 3 unit(s) changed, 3 sent back to their previous version',
      );
      expect(run.errors).toEqual([
        `cancelled (${signal}): 3 unit(s) changed, 3 sent back to their previous version`,
      ]);
      expect(run.outputs.status).toBe('rolled-back');
      expect(run.summary).toMatch(/cancelled: 3 unit\(s\) changed, 3 sent back/);
      expect(run.summary).toMatch(/^## deploy to fly \(production\): cancelled, rolled-back$/m);
      expect(summaryRow(run.summary, 'm2')?.slice(0, 4)).toEqual([
        'm2',
        'ams',
        '2',
        'rolled-back: cancelled before it was healthy',
      ]);
      expect(run.log.some((l) => l.step === 'cancelled' && l.outcome === 'failed')).toBe(true);
      // Nothing left for the post step: it sends no Fly or GitHub request.
      const before = fly.server.requests.length + github.server.requests.length;
      const post = await runBundle('deploy', {
        env: UNSPACED_GITHUB_WRITES,
        entry: 'post',
        inputs: inputs(),
        state: run.state,
      });
      expect(post.code).toBe(0);
      expect(fly.server.requests.length + github.server.requests.length).toBe(before);
      expectNoSecrets(run);
      expectNoViolations(fly.server, github.server);
    }, 90_000);
  }
});

describe('fly deploy killed with SIGKILL during its health wait', () => {
  it('the post step releases the leases it left and gives the deployment its final status', async () => {
    const { run } = await interruptedDeploy('SIGKILL');
    expect(run.code).toBeNull();
    const held = fly.machines.filter((m) => m.lease).map((m) => m.id);
    expect(held.sort()).toEqual(['m1', 'm2', 'm3']);
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress']);
    const post = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      entry: 'post',
      inputs: inputs(),
      state: run.state,
    });
    expect(post.code).toBe(0);
    expect(post.errors).toEqual([]);
    for (const m of fly.machines) expect(m.lease).toBeUndefined();
    const released = fly.server.received('Machines_release_lease').filter((r) => r.status === 200);
    expect(released.map(machineOf).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'error']);
    expect(github.statusesOf(d!.id).at(-1)!.description).toBe(
      'cancelled: the deploy step ended without an outcome; the post step released 3 lease(s)/lock(s)',
    );
    expect(post.stdout).toMatch(/Fly leases left by the deploy step: 3 released/);
    expectNoSecrets(post);
    expectNoViolations(fly.server, github.server);
  }, 90_000);

  it("the post step leaves a lease alone that is no longer this run's", async () => {
    const { run } = await interruptedDeploy('SIGKILL');
    // Someone else takes m2 after our lease went away.
    const m2 = fly.machine('m2')!;
    m2.lease = {
      nonce: 'f00d',
      expires_at: Math.floor(Date.now() / 1000) + 60,
      owner: 'ops@example.com',
      description: 'manual fix',
    };
    const post = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      entry: 'post',
      inputs: inputs(),
      state: run.state,
    });
    expect(post.code).toBe(0);
    expect(fly.machine('m2')!.lease?.nonce).toBe('f00d');
    expect(fly.machine('m1')!.lease).toBeUndefined();
    expect(fly.machine('m3')!.lease).toBeUndefined();
    expect(fly.server.received('Machines_release_lease').map(machineOf)).not.toContain('m2');
  }, 90_000);
});
