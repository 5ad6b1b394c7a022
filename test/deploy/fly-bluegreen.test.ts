import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { summaryRow } from '../helpers/summary-tables.ts';
import {
  digestImage,
  expectNoSecrets,
  expectNoViolations,
  OLD_IMAGE,
  SECRETS,
  statesOf,
} from './fixtures.ts';

/**
 * `strategy: bluegreen` through the committed bundle against the Fly fake, with requests sent
 * through the app's public endpoint (the fake's Fly Proxy) for the whole run: no request may
 * reach a green machine before it is started and passes its checks, and a green that never gets
 * healthy is destroyed while blue keeps serving, untouched.
 */

const CHECK_DELAY_MS = 150;
let fly: FlyFake;
let github: GitHubFake;

beforeEach(async () => {
  fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 300, checkDelayMs: CHECK_DELAY_MS });
  github = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
  await Promise.all([fly.start(), github.start()]);
  fly.addMachine({ id: 'b1', region: 'ams', checks: ['http', 'tcp'] });
  fly.addMachine({ id: 'b2', region: 'fra', checks: ['http', 'tcp'] });
  fly.addMachine({ id: 'b3', region: 'ams', checks: ['http', 'tcp'] });
});
afterEach(async () => {
  await Promise.all([fly.stop(), github.stop()]);
});

const inputs = (extra: Record<string, string> = {}) => ({
  target: 'fly',
  image: digestImage('c'),
  'tag-image': 'false',
  'fly-app': 'test-app',
  'fly-api-token': SECRETS.fly,
  'fly-api-url': `${fly.server.url}/v1`,
  'github-token': SECRETS.github,
  'github-api-url': github.server.url,
  strategy: 'bluegreen',
  ...extra,
});

/** Requests through the proxy, back to back, until `done` settles: statuses seen. */
async function underLoad<T>(done: Promise<T>): Promise<{ result: T; statuses: number[] }> {
  const statuses: number[] = [];
  let over = false;
  const loop = (async () => {
    while (!over) statuses.push((await fetch(`${fly.app.url}/up`)).status);
  })();
  const result = await done.finally(() => {
    over = true;
  });
  await loop;
  return { result, statuses };
}

const blueIds = ['b1', 'b2', 'b3'];

describe('fly bluegreen', () => {
  it('creates green beside blue, moves traffic only once every green is healthy, then destroys blue', async () => {
    const { result: run, statuses } = await underLoad(
      runBundle('deploy', {
        env: UNSPACED_GITHUB_WRITES,
        inputs: inputs(),
      }),
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('success');
    const green = fly.created;
    expect(green).toHaveLength(3);
    // Same config, new image, same regions.
    expect(green.map((id) => fly.machine(id)!.region).sort()).toEqual(['ams', 'ams', 'fra']);
    for (const id of green) {
      const m = fly.machine(id)!;
      expect(m.config.image).toBe(digestImage('c'));
      expect(Object.keys(m.config.checks ?? {})).toEqual(['http', 'tcp']);
      expect(m.state).toBe('started');
      expect(m.cordoned).toBe(false);
    }
    const creates = fly.server.received('Machines_create');
    expect(
      creates.every((r) => (r.json as { skip_service_registration?: boolean }).skip_service_registration),
    ).toBe(true);
    // No request reached a green machine before it was uncordoned, nor before its checks passed.
    const uncordoned = new Map(
      fly.server.received('Machines_uncordon').map((r) => [r.path.split('/')[5]!, r.at] as const),
    );
    expect([...uncordoned.keys()].sort()).toEqual([...green].sort());
    for (const id of green) {
      const healthyAt = fly.machine(id)!.startedAt! + 2 * CHECK_DELAY_MS;
      expect(uncordoned.get(id)!).toBeGreaterThanOrEqual(healthyAt);
      for (const call of fly.appCalls(id)) expect(call.at).toBeGreaterThanOrEqual(uncordoned.get(id)!);
    }
    // Every blue was cordoned only after every green was uncordoned, then destroyed under our lease.
    const lastUncordon = Math.max(...uncordoned.values());
    for (const r of fly.server.received('Machines_cordon')) expect(r.at).toBeGreaterThanOrEqual(lastUncordon);
    const destroyed = fly.server.received('Machines_delete');
    expect(destroyed.map((r) => r.path.split('/')[5]).sort()).toEqual(blueIds);
    for (const r of destroyed) {
      expect(r.query).toContain('force=true');
      expect(r.headers['fly-machine-lease-nonce']).toBeTruthy();
    }
    for (const id of blueIds) expect(fly.machine(id)!.state).toBe('destroyed');
    // The app answered every request throughout.
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(fly.appCalls().some((c) => green.includes(c.target))).toBe(true);
    for (const m of fly.machines) expect(m.lease).toBeUndefined();
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'success']);
    expectNoSecrets(run);
    expectNoViolations(fly.server, github.server);
  }, 60_000);

  it('a green that never gets healthy is destroyed; blue keeps serving, untouched and unleased', async () => {
    fly.failHealthFor(digestImage('c'));
    const { result: run, statuses } = await underLoad(
      runBundle('deploy', {
        env: UNSPACED_GITHUB_WRITES,
        inputs: inputs({ 'health-timeout': '3' }),
      }),
    );
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(run.errors[0]).toMatch(/green machine\(s\) destroyed, blue untouched/);
    const green = fly.created;
    expect(green).toHaveLength(3);
    for (const id of green) expect(fly.machine(id)!.state).toBe('destroyed');
    for (const id of blueIds) {
      const m = fly.machine(id)!;
      expect([m.state, m.config.image, m.cordoned, m.lease]).toEqual([
        'started',
        OLD_IMAGE,
        false,
        undefined,
      ]);
    }
    expect(fly.server.received('Machines_uncordon')).toEqual([]);
    expect(fly.server.received('Machines_cordon')).toEqual([]);
    expect(fly.server.received('Machines_update')).toEqual([]);
    // No request ever reached a green machine, and blue answered every one.
    for (const id of green) expect(fly.appCalls(id)).toEqual([]);
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'failure']);
    expectNoSecrets(run);
    expectNoViolations(fly.server, github.server);
  }, 60_000);

  it('dry-run shows the blue-green plan and changes nothing; a machine set without checks is refused', async () => {
    const dry = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: inputs({ 'dry-run': 'true' }),
    });
    expect(dry.code).toBe(0);
    expect(fly.server.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(dry.stdout).toContain('plan: fly app test-app: 3 machine(s) to');
    expect(dry.stdout).toContain('plan: create a green machine beside b2 in fra (same config, new image');
    expect(dry.stdout).toContain(
      'plan: move traffic: uncordon every green machine, then cordon every blue one',
    );

    await fly.stop();
    fly = createFlyFake({ token: SECRETS.fly });
    await fly.start();
    fly.addMachine({ id: 'n1', checks: [] });
    const refused = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: inputs(),
    });
    expect(refused.code).toBe(1);
    expect(refused.errors[0]).toContain('bluegreen needs at least one machine whose config defines a check');
    expect(fly.server.received('Machines_create')).toEqual([]);
    expect(fly.server.received('Machines_create_lease')).toEqual([]);
  }, 60_000);
});

/** The runner's grace between SIGINT and SIGTERM: a contract, not a speed goal. */
const RUNNER_SIGINT_GRACE_MS = 7500;

/** The bundle, sent `signal` by PID once `when()` holds (checked every 5 ms). */
async function interrupted(
  signal: NodeJS.Signals,
  when: () => boolean,
  extra: Record<string, string> = {},
): Promise<{ run: BundleRun; exitMs: number | undefined }> {
  let child: ChildProcess | undefined;
  let sentAt: number | undefined;
  let exitMs: number | undefined;
  const watcher = setInterval(() => {
    if (sentAt === undefined && child?.pid && when()) {
      sentAt = performance.now();
      process.kill(child.pid, signal);
    }
  }, 5);
  const run = await runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: inputs({ 'health-timeout': '60', ...extra }),
    timeoutMs: 30_000,
    onSpawn: (c) => {
      child = c;
      c.on('exit', () => {
        if (sentAt !== undefined) exitMs = performance.now() - sentAt;
      });
    },
  }).finally(() => clearInterval(watcher));
  expect(sentAt).toBeDefined();
  return { run, exitMs };
}

const greenPolled = () =>
  fly.server.received('Machines_show').filter((r) => fly.created.includes(r.path.split('/')[5]!)).length >= 3;

describe('fly bluegreen killed or cancelled', () => {
  it('SIGKILL while green gets healthy: the post step destroys every green, releases the blue leases, finalises', async () => {
    fly.failHealthFor(digestImage('c'));
    const { run } = await interrupted('SIGKILL', () => fly.created.length === 3 && greenPolled());
    expect(run.code).toBeNull();
    const green = fly.created;
    expect(JSON.parse(run.state['fly-green']!)).toEqual({
      app: 'test-app',
      machines: expect.arrayContaining(green),
      blue: blueIds,
    });
    for (const id of green) expect(fly.machine(id)!.state).not.toBe('destroyed');
    const [d] = github.deployments();
    const post = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      entry: 'post',
      inputs: inputs(),
      state: run.state,
    });
    expect(post.code).toBe(0);
    expect(post.errors).toEqual([]);
    for (const id of green) expect(fly.machine(id)!.state).toBe('destroyed');
    expect(
      fly.server
        .received('Machines_delete')
        .map((r) => r.path.split('/')[5])
        .sort(),
    ).toEqual([...green].sort());
    for (const id of blueIds) {
      const m = fly.machine(id)!;
      expect([m.state, m.config.image, m.cordoned, m.lease]).toEqual([
        'started',
        OLD_IMAGE,
        false,
        undefined,
      ]);
    }
    expect(post.stdout).toMatch(
      /Green machines the deploy step left before traffic moved to them: 3 of 3 destroyed/,
    );
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'error']);
    expect(github.statusesOf(d!.id).at(-1)!.description).toBe(
      'cancelled: the deploy step ended without an outcome; the post step destroyed 3 unused green machine(s); the post step released 3 lease(s)/lock(s)'.slice(
        0,
        140,
      ),
    );
    // A second post step (a re-run of it) finds nothing left to do.
    const again = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      entry: 'post',
      inputs: inputs(),
      state: run.state,
    });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/3 of 3 destroyed \(\S+ already gone/);
    expectNoSecrets(post);
    expectNoViolations(fly.server, github.server);
  }, 60_000);

  // A SIGKILL between a green's uncordon and the state write leaves that green listed although the
  // proxy may route to it. The API state such a kill leaves is set on the fake after the kill.
  it.each([
    ['every green uncordoned, every blue cordoned: every green is kept', true],
    ['greens uncordoned, blue still serving: each green is cordoned, then destroyed', false],
  ])(
    'SIGKILL, then %s',
    async (_name, blueCordoned) => {
      fly.failHealthFor(digestImage('c'));
      const { run } = await interrupted('SIGKILL', () => fly.created.length === 3 && greenPolled());
      const green = fly.created;
      expect(JSON.parse(run.state['fly-green']!)).toEqual({
        app: 'test-app',
        machines: expect.arrayContaining(green),
        blue: blueIds,
      });
      for (const id of green) fly.machine(id)!.cordoned = false;
      for (const id of blueIds) fly.machine(id)!.cordoned = blueCordoned;
      const [d] = github.deployments();
      const post = await runBundle('deploy', {
        env: UNSPACED_GITHUB_WRITES,
        entry: 'post',
        inputs: inputs(),
        state: run.state,
      });
      expect(post.code).toBe(0);
      expect(post.errors).toEqual([]);
      for (const id of blueIds) expect(fly.machine(id)!.state).toBe('started');
      const description = github.statusesOf(d!.id).at(-1)!.description;
      const warnings = post.stdout.split('\n').filter((l) => /^::warning[^:]*::/.test(l));
      if (blueCordoned) {
        expect(fly.server.received('Machines_delete')).toEqual([]);
        for (const id of green)
          expect([fly.machine(id)!.state, fly.machine(id)!.cordoned]).toEqual(['started', false]);
        expect(warnings).toHaveLength(3);
        for (const id of green)
          expect(warnings).toContainEqual(
            expect.stringContaining(
              `kept green machine ${id} of Fly app test-app: it is uncordoned and every blue machine is cordoned or gone, so it may be all that serves`,
            ),
          );
        expect(description).toBe(
          `cancelled: the deploy step ended without an outcome; green ${green.join(', ')} may serve (blue cordoned): kept; the post step released 3 lease(s)/lock(s)`.slice(
            0,
            140,
          ),
        );
      } else {
        for (const id of green) expect(fly.machine(id)!.state).toBe('destroyed');
        const cordons = fly.server.received('Machines_cordon').map((r) => r.path.split('/')[5]);
        expect(cordons.sort()).toEqual([...green].sort());
        for (const id of green) {
          const cordonAt = fly.server
            .received('Machines_cordon')
            .find((r) => r.path.split('/')[5] === id)!.at;
          const deleteAt = fly.server
            .received('Machines_delete')
            .find((r) => r.path.split('/')[5] === id)!.at;
          expect(cordonAt).toBeLessThanOrEqual(deleteAt);
        }
        expect(warnings).toEqual([]);
        expect(post.stdout).toMatch(
          /3 of 3 destroyed \(\S+ destroyed: cordoned first; blue b1, b2, b3 serves/,
        );
      }
      expectNoSecrets(post);
    },
    60_000,
  );

  it('SIGINT after traffic moved, auto-rollback: blue serves again, green destroyed; status, summary and record agree', async () => {
    // A machine with no checks of its own is started, not health-checked, and says so.
    fly.addMachine({ id: 'b4', region: 'fra', checks: [] });
    fly.server.inject({
      route: 'Machines_cordon',
      times: Number.POSITIVE_INFINITY,
      fault: { delayMs: 20_000 },
    });
    const { run, exitMs } = await interrupted(
      'SIGINT',
      () => fly.server.received('Machines_cordon').length > 0,
    );
    expect(exitMs!).toBeLessThan(RUNNER_SIGINT_GRACE_MS);
    expect(run.code).toBe(1);
    const green = fly.created;
    expect(green).toHaveLength(4);
    for (const id of green) expect(fly.machine(id)!.state).toBe('destroyed');
    for (const id of [...blueIds, 'b4']) {
      const m = fly.machine(id)!;
      expect([m.state, m.config.image, m.cordoned, m.lease]).toEqual([
        'started',
        OLD_IMAGE,
        false,
        undefined,
      ]);
    }
    const note =
      'cancelled: 4 unit(s) changed, 4 sent back to their previous version; traffic is back on blue';
    expect(run.outputs.status).toBe('rolled-back');
    expect(run.errors).toEqual([`cancelled (SIGINT): ${note.replace(/^cancelled: /, '')}`]);
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'error']);
    expect(github.statusesOf(d!.id).at(-1)!.description).toBe(note);
    expect(run.summary).toMatch(/^## deploy to fly \(production\): cancelled, rolled-back$/m);
    expect(run.summary).toContain(note);
    expect(summaryRow(run.summary, 'b2')?.[3]).toMatch(/^rolled-back/);
    const b4Green = fly.created[3];
    expect(run.stdout).toMatch(/b4: green \S+ started \(no checks defined\)/);
    expect(run.stdout).toMatch(/b1: green \S+ started and healthy \(2\/2 checks passing\)/);
    expect(b4Green).toBeDefined();
    expect(run.state['fly-green'] ?? '').toBe('');
    expectNoSecrets(run);
  }, 60_000);

  it('SIGINT after traffic moved, no auto-rollback: green keeps serving and every report says so', async () => {
    fly.server.inject({
      route: 'Machines_cordon',
      times: Number.POSITIVE_INFINITY,
      fault: { delayMs: 20_000 },
    });
    const { run, exitMs } = await interrupted(
      'SIGINT',
      () => fly.server.received('Machines_cordon').length > 0,
      {
        'auto-rollback': 'false',
      },
    );
    expect(exitMs!).toBeLessThan(RUNNER_SIGINT_GRACE_MS);
    expect(run.code).toBe(1);
    const green = fly.created;
    for (const id of green)
      expect([fly.machine(id)!.state, fly.machine(id)!.cordoned]).toEqual(['started', false]);
    for (const id of blueIds)
      expect([fly.machine(id)!.state, fly.machine(id)!.lease]).toEqual(['started', undefined]);
    const serving = `new version on green ${green.join(', ')}; blue ${blueIds.join(', ')} kept`;
    const note = `cancelled: 3 unit(s) changed, 0 sent back to their previous version; ${serving}`;
    expect(run.outputs.status).toBe('failed');
    const [d] = github.deployments();
    expect(github.statusesOf(d!.id).at(-1)!.description).toBe(note.slice(0, 140));
    expect(run.summary).toMatch(/^## deploy to fly \(production\): cancelled, failed$/m);
    expect(run.summary).toContain(note);
    const row = summaryRow(run.summary, 'b1')!;
    expect(row[3]).toMatch(/^updated/);
    expect(row.join(' ')).toMatch(/green \S+ serves; blue b1 kept, still serving/);
    // Nothing for the post step to destroy: traffic was moved to every green.
    expect(run.state['fly-green'] ?? '').toBe('');
  }, 60_000);
});
