import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../sandbox/fake-server.ts';
import { createFlyFake, type FlyFake, type FlyFakeOptions } from '../../sandbox/fakes/fly.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { summaryRow } from '../helpers/summary-tables.ts';
import { digestImage, expectNoSecrets, expectNoViolations, OLD_IMAGE, SECRETS } from './fixtures.ts';

/**
 * Fly as flyctl and fly-go run it (issue 13 §4), through the committed bundle against the Fly
 * fake: the health gate, which machines are deployed and how, the update body, start under a
 * lease with 412 waited out, `wait` by version, and tokens.
 */

/** A unit's row of the deploy summary: unit, where, batch, outcome, old image, new image, health, time. */
const unitRow = (run: { summary: string }, unit: string) => summaryRow(run.summary, unit);

const START_MS = 300;
let fly: FlyFake;

async function startFly(options: FlyFakeOptions = {}): Promise<void> {
  fly = createFlyFake({ token: SECRETS.fly, startDelayMs: START_MS, ...options });
  await fly.start();
}
afterEach(async () => {
  await fly?.stop();
});

function deploy(inputs: Record<string, string> = {}): Promise<BundleRun> {
  return runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: {
      target: 'fly',
      image: digestImage('b'),
      'tag-image': 'false',
      'fly-app': 'test-app',
      'fly-api-token': SECRETS.fly,
      'fly-api-url': `${fly.server.url}/v1`,
      'github-token': '',
      'health-timeout': '10',
      ...inputs,
    },
  });
}

const machineOf = (r: RecordedRequest) => r.path.split('/')[5];
const received = (operation: string, id?: string) =>
  fly.server.received(operation).filter((r) => id === undefined || machineOf(r) === id);
const bodyOf = (r: RecordedRequest) =>
  r.json as {
    config: Record<string, unknown> & { image: string };
    region?: string;
    skip_launch?: boolean;
    min_secrets_version?: number;
  };

function expectLeasesReleased(): void {
  for (const m of fly.machines) expect(m.lease).toBeUndefined();
}

describe('health gate: every check the config defines has reported and passes', () => {
  it.each([
    [
      'no results at all after the update',
      0,
      /m1: checks not passing within the health timeout: no check results yet \(3 defined\)/,
    ],
    [
      'fewer results than defined, all passing (flyctl would pass)',
      2,
      /m1: checks not passing within the health timeout: 2 of 3 checks reported, 2 passing/,
    ],
  ])('%s: the machine is not healthy', async (_name, reported, error) => {
    // The results that will report are all in once the machine starts, so the 1 s health timeout
    // cannot end before they arrive however loaded the machine is (it did, at load 16, with 100 ms each).
    await startFly({ checkDelayMs: 0 });
    fly.addMachine({ id: 'm1', checks: ['http', 'tcp'], serviceChecks: 1 });
    fly.reportOnlyChecks(digestImage('b'), reported);
    const run = await deploy({ 'health-timeout': '1', 'auto-rollback': 'false' });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(run.summary).toMatch(error);
    expectLeasesReleased();
    expectNoViolations(fly.server);
  });

  it('an empty list right after the update means "not yet": it waits until all results are in', async () => {
    await startFly({ checkDelayMs: 150 });
    fly.addMachine({ id: 'm1', checks: ['http', 'tcp'], serviceChecks: 1 });
    fly.addMachine({ id: 'm2', checks: ['http', 'tcp'], serviceChecks: 1 });
    const run = await deploy({ 'max-unavailable': '1' });
    expect(run.errors).toEqual([]);
    expect(run.outputs.status).toBe('success');
    // m1 was read again after an incomplete answer before m2 was touched.
    const requests = fly.server.requests;
    const m2Update = requests.findIndex((r) => r.operation === 'Machines_update' && machineOf(r) === 'm2');
    const m1Update = requests.findIndex((r) => r.operation === 'Machines_update' && machineOf(r) === 'm1');
    const m1Reads = requests
      .slice(m1Update, m2Update)
      .filter((r) => r.operation === 'Machines_show' && machineOf(r) === 'm1');
    expect(m1Reads.length).toBeGreaterThan(1);
    expect(unitRow(run, 'm1')).toMatchObject({ 0: 'm1', 1: 'ams', 2: '1', 3: 'updated', 6: 'passing' });
    expectNoViolations(fly.server);
  });

  it('a machine whose config defines no checks passes once started', async () => {
    await startFly({ checkDelayMs: 60_000 });
    fly.addMachine({ id: 'm1', checks: [] });
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(unitRow(run, 'm1')).toMatchObject({ 0: 'm1', 1: 'ams', 2: '1', 3: 'updated', 6: 'passing' });
    expect(fly.machine('m1')!.state).toBe('started');
    expect(fly.machine('m1')!.config.image).toBe(digestImage('b'));
  });
});

describe('which machines are deployed (fly-go ListActive, flyctl shouldSkipLaunch)', () => {
  it('leaves out console, release-command and hand-made machines; deploys failed ones', async () => {
    await startFly();
    fly.addMachine({ id: 'web1' });
    fly.addMachine({ id: 'bad1', state: 'failed' });
    fly.addMachine({ id: 'con1', processGroup: 'fly_app_console' });
    fly.addMachine({ id: 'rel1', processGroup: 'fly_app_release_command', state: 'stopped' });
    fly.addMachine({ id: 'own1', platform: false });
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(received('Machines_update').map(machineOf).sort()).toEqual(['bad1', 'web1']);
    expect(received('Machines_create_lease').map(machineOf).sort()).toEqual(['bad1', 'web1']);
    // The failed machine was launched with the new version and passed its checks.
    expect(bodyOf(received('Machines_update', 'bad1')[0]!).skip_launch).toBeUndefined();
    expect(fly.machine('bad1')).toMatchObject({ state: 'started', config: { image: digestImage('b') } });
    for (const id of ['con1', 'rel1', 'own1']) expect(fly.machine(id)!.config.image).toBe(OLD_IMAGE);
    for (const id of ['con1', 'rel1', 'own1']) expect(unitRow(run, id)).toBeUndefined();
    expectLeasesReleased();
    expectNoViolations(fly.server);
  });

  it('stopping, suspending and suspended machines are updated without launching and not health-checked', async () => {
    await startFly();
    fly.addMachine({ id: 'web1' });
    fly.addMachine({ id: 'sus1', state: 'suspended' });
    fly.addMachine({ id: 'sus2', state: 'suspending' });
    fly.addMachine({ id: 'stp1', state: 'stopping' });
    const dry = await deploy({ 'dry-run': 'true', 'max-unavailable': '3' });
    expect(dry.code).toBe(0);
    // The plan promises a health wait for web1 only.
    expect(dry.stdout).toContain('plan: batch 1: update web1, wait for started and passing checks');
    expect(dry.stdout).toContain('plan: batch 2: update sus1, sus2, stp1, no health wait');
    expect(dry.stdout).toMatch(
      /plan: {3}POST \/apps\/test-app\/machines\/sus1 \(ams\): config\.image .* skip_launch: suspended, updated without starting, not health-checked/,
    );

    const run = await deploy({ 'max-unavailable': '3' });
    expect(run.errors).toEqual([]);
    for (const id of ['sus1', 'sus2', 'stp1']) {
      expect(bodyOf(received('Machines_update', id)[0]!).skip_launch).toBe(true);
      expect(received('Machines_wait', id)).toHaveLength(0);
      expect(received('Machines_start', id)).toHaveLength(0);
      expect(fly.machine(id)!.config.image).toBe(digestImage('b'));
    }
    expect(unitRow(run, 'sus1')).toMatchObject({
      0: 'sus1',
      1: 'ams',
      2: '2',
      3: 'updated: was suspended: updated without starting, not health-checked',
      6: 'skipped',
    });
    expect(unitRow(run, 'stp1')?.slice(0, 3)).toEqual(['stp1', 'ams', '2']);
    expect(unitRow(run, 'stp1')?.[3]).toMatch(/^updated: was stopping: updated without starting/);
    expect(run.stdout).toMatch(/sus1 \(ams\) updated status=skipped .*was suspended/);
    expectLeasesReleased();
    expectNoViolations(fly.server);
  });

  it('a machine that already runs the digest is unchanged, whatever name its config uses', async () => {
    await startFly();
    fly.pushTag(OLD_IMAGE, `sha256:${'b'.repeat(64)}`);
    fly.addMachine({ id: 'same' });
    fly.addMachine({ id: 'diff', image: 'ghcr.io/acme/web:latest' });
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(received('Machines_update').map(machineOf)).toEqual(['diff']);
    expect(unitRow(run, 'same')?.slice(0, 4)).toEqual(['same', 'ams', '-', 'unchanged']);
  });
});

describe('update body, wait and start (flyctl launchInputForUpdate, fly-go flaps)', () => {
  it('keeps region and minimum secrets version, gives the app container the image, waits by version', async () => {
    await startFly();
    const m = fly.addMachine({
      id: 'm1',
      region: 'fra',
      containers: [
        { name: 'nginx', image: 'nginx:1.27' },
        { name: 'app', image: OLD_IMAGE },
      ],
    });
    m.config.guest = { cpus: 1, memory_mb: 256 };
    const run = await deploy({ 'fly-min-secrets-version': '7' });
    expect(run.errors).toEqual([]);
    const [update] = received('Machines_update');
    expect(bodyOf(update!)).toEqual({
      config: expect.objectContaining({
        image: digestImage('b'),
        guest: { cpus: 1, memory_mb: 256 },
        containers: [
          { name: 'nginx', image: 'nginx:1.27' },
          { name: 'app', image: digestImage('b') },
        ],
      }),
      region: 'fra',
      min_secrets_version: 7,
    });
    const waits = received('Machines_wait');
    expect(waits.length).toBeGreaterThan(0);
    for (const w of waits) {
      const query = new URLSearchParams(w.query);
      expect(query.get('version')).toBe(fly.machine('m1')!.instance_id);
      expect(query.has('instance_id')).toBe(false);
    }
    expectNoViolations(fly.server);
  });

  it('refuses a minimum secrets version that is not a whole number, before any request', async () => {
    await startFly();
    fly.addMachine({ id: 'm1' });
    const run = await deploy({ 'fly-min-secrets-version': 'v7' });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([`Input 'fly-min-secrets-version' must be a whole number >= 0; got "v7"`]);
    expect(fly.server.requests).toHaveLength(0);
  });

  it('a machine that began stopping is started under the lease once it can be: 412 waited out', async () => {
    await startFly();
    fly.addMachine({ id: 'm1' });
    fly.stopAfterNextListing('m1', 1500);
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(bodyOf(received('Machines_update', 'm1')[0]!).skip_launch).toBe(true);
    const starts = received('Machines_start', 'm1');
    expect(starts[0]!.status).toBe(412);
    expect(starts.at(-1)!.status).toBe(200);
    const nonce = received('Machines_update', 'm1')[0]!.headers['fly-machine-lease-nonce'];
    for (const s of starts) expect(s.headers['fly-machine-lease-nonce']).toBe(nonce);
    expect(fly.machine('m1')).toMatchObject({ state: 'started', config: { image: digestImage('b') } });
    expectLeasesReleased();
    expectNoViolations(fly.server);
  });

  it('a 412 that lasts past the deadline is reported as such', async () => {
    await startFly();
    fly.addMachine({ id: 'm1' });
    fly.stopAfterNextListing('m1', 60_000);
    const run = await deploy({ 'health-timeout': '1', 'auto-rollback': 'false' });
    expect(run.code).toBe(1);
    expect(run.summary).toMatch(
      /m1: could not be started within the health timeout: the Machines API kept refusing the start with 412 \(unable to start machine from current state: stopping\)/,
    );
    expect(received('Machines_start', 'm1').every((s) => s.status === 412)).toBe(true);
    expectLeasesReleased();
  });

  it('a version that ends failed fails fast and is rolled back', async () => {
    await startFly();
    fly.addMachine({ id: 'm1' });
    fly.failBootFor(digestImage('b'));
    const run = await deploy({ 'health-timeout': '30' });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('rolled-back');
    expect(run.errors[0]).toMatch(/m1: version \w+ failed to start \(machine state failed\)/);
    expect(fly.machine('m1')).toMatchObject({ state: 'started', config: { image: OLD_IMAGE } });
    expectLeasesReleased();
  });
});

describe('tokens as fly-go sends them', () => {
  const macaroon = 'fm2_CANARYmacaroonTOKEN0123456789abcdefghij';
  it.each([
    ['a bare macaroon', macaroon],
    ['a macaroon pasted with Bearer', `Bearer ${macaroon}`],
    ['a macaroon pasted with FlyV1', `FlyV1 ${macaroon}`],
  ])('%s is sent as FlyV1', async (_name, input) => {
    fly = createFlyFake({ token: macaroon, startDelayMs: 50 });
    await fly.start();
    fly.addMachine({ id: 'm1' });
    const run = await deploy({ 'fly-api-token': input });
    expect(run.errors).toEqual([]);
    for (const r of fly.server.requests) expect(r.headers.authorization).toBe(`FlyV1 ${macaroon}`);
    expect(run.everything).not.toContain(macaroon);
    expectNoSecrets(run);
  });
});
