import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../sandbox/fake-server.ts';
import type { FlyFake } from '../../sandbox/fakes/fly.ts';
import type { GitHubFake } from '../../sandbox/fakes/github.ts';
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
import { type FlyWorld, startFlyWorld } from './worlds.ts';

/** The committed bundle against the Fly Machines and GitHub fakes: rollouts, leases, rollbacks, history. */

const START_MS = 300;
let world: FlyWorld;
let fly: FlyFake;
let github: GitHubFake;

beforeEach(async () => {
  world = await startFlyWorld({ startDelayMs: START_MS });
  ({ fly, github } = world);
});
afterEach(() => world.stop());

function deploy(inputs: Record<string, string> = {}): Promise<BundleRun> {
  return runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: {
      ...world.inputs(),
      image: digestImage('b'),
      'tag-image': 'false',
      'fly-app': 'test-app',
      'health-timeout': '10',
      ...inputs,
    },
  });
}

const updates = () => fly.server.received('Machines_update');
const machineOf = (r: RecordedRequest) => r.path.split('/')[5];

function expectLeasesReleased(): void {
  const acquired = fly.server.received('Machines_create_lease');
  const released = fly.server.received('Machines_release_lease').filter((r) => r.status === 200);
  expect(released.map(machineOf).sort()).toEqual(acquired.map(machineOf).sort());
  for (const m of fly.machines) expect(m.lease).toBeUndefined();
  // Every change carried the nonce of a lease we held.
  for (const u of updates()) expect(u.headers['fly-machine-lease-nonce']).toMatch(/^[0-9a-f]+$/);
}

function addMachines(n: number): string[] {
  return Array.from({ length: n }, (_, i) => fly.addMachine({ id: `m${i + 1}` }).id);
}

describe('fly rolling deploy', () => {
  it('updates the first machine alone and starts the next batch only once it is healthy', async () => {
    addMachines(5);
    const run = await deploy({ 'max-unavailable': '2' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const order = updates().map(machineOf);
    expect(order.slice(0, 1)).toEqual(['m1']);
    expect(order.slice(1, 3).sort()).toEqual(['m2', 'm3']);
    expect(order.slice(3).sort()).toEqual(['m4', 'm5']);
    // Batch 2 went out after m1 was started and its checks read as passing.
    const requests = fly.server.requests;
    const firstHealthyRead = requests.findLastIndex(
      (r) => r.operation === 'Machines_show' && machineOf(r) === 'm1',
    );
    const batch2 = requests.findIndex((r) => r.operation === 'Machines_update' && machineOf(r) !== 'm1');
    expect(firstHealthyRead).toBeGreaterThan(-1);
    expect(batch2).toBeGreaterThan(firstHealthyRead);
    const at = updates().map((u) => u.at);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(START_MS - 20);
    expect(at[3]! - at[1]!).toBeGreaterThanOrEqual(START_MS - 20);
    // Only the image changed in each config.
    for (const u of updates()) {
      const body = u.json as { config: { image: string; checks: unknown; metadata: unknown } };
      expect(body.config.image).toBe(digestImage('b'));
      expect(body.config.checks).toEqual({ http: { type: 'http', port: 8080, path: '/health' } });
      expect(body.config.metadata).toEqual({ fly_process_group: 'app', fly_platform_version: 'v2' });
    }
    for (const m of fly.machines) expect(m.config.image).toBe(digestImage('b'));
    expectLeasesReleased();

    expect(run.outputs.status).toBe('success');
    expect(run.outputs.image).toBe(digestImage('b'));
    expect(run.outputs['previous-image']).toBe(OLD_IMAGE);
    expect(run.outputs['deploy-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.outputs['deploy-tag']).toBe(
      `deploy_${run.outputs['deploy-id']!.replace(/-/g, '').slice(0, 8)}`,
    );
    expect(run.outputs.url).toBe('https://test-app.fly.dev');

    const [d] = github.deployments('production');
    expect(run.outputs['deployment-id']).toBe(String(d!.id));
    expect(d!.ref).toBe('a'.repeat(40));
    expect(d!.production_environment).toBe(true);
    expect(d!.payload).toEqual({
      deploy_id: run.outputs['deploy-id'],
      image: digestImage('b'),
      digest: `sha256:${'b'.repeat(64)}`,
      tag: run.outputs['deploy-tag'],
      target: 'fly',
      target_name: 'test-app',
      previous_image: OLD_IMAGE,
      operation: 'deploy',
      run_id: '4242',
      run_attempt: '1',
    });
    const posted = github.server.received('POST /repos/:owner/:repo/deployments')[0]!.json as Record<
      string,
      unknown
    >;
    expect(posted).toMatchObject({ auto_merge: false, required_contexts: [], environment: 'production' });
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'success']);
    const success = github.statusesOf(d!.id)[1]!;
    expect(success.log_url).toBe('https://github.com/acme/fleet/actions/runs/4242');
    expect(success.environment_url).toBe('https://test-app.fly.dev');

    // One progress line per machine, as each finished.
    expect(run.stdout.match(/^\[\s*\d\/5\s+\d+%\] m\d \(ams\) updated status=passing/gm)).toHaveLength(5);
    expect(run.summary).toContain('```mermaid');
    expect(run.summary).toContain('section batch 3');
    expect(summaryRow(run.summary, 'm1')?.slice(0, 7)).toEqual([
      'm1',
      'ams',
      '1',
      'updated',
      'registry.fly.io/test-app:deployment-1',
      `ghcr.io/acme/web@sha256:${'b'.repeat(64)}`,
      'passing',
    ]);
    expect(run.log.map((e) => e.step)).toEqual(
      expect.arrayContaining([
        'target.observe',
        'version.resolve',
        'github.deployment.create',
        'target.rollout',
      ]),
    );
    expectNoSecrets(run);
    expectNoViolations(fly.server, github.server);
  });

  it('canary: a started machine first, healthy, then the rest in rolling batches', async () => {
    addMachines(5);
    fly.machine('m1')!.state = 'stopped';
    const run = await deploy({ strategy: 'canary', 'max-unavailable': '2' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const order = updates().map(machineOf);
    // m1 is stopped: never the canary, and last, since updating it proves nothing.
    expect(order[0]).toBe('m2');
    expect(order.slice(1, 3).sort()).toEqual(['m3', 'm4']);
    expect(order.slice(3).sort()).toEqual(['m1', 'm5']);
    const requests = fly.server.requests;
    const canaryHealthy = requests.findLastIndex(
      (r) => r.operation === 'Machines_show' && machineOf(r) === 'm2',
    );
    const batch2 = requests.findIndex((r) => r.operation === 'Machines_update' && machineOf(r) !== 'm2');
    expect(batch2).toBeGreaterThan(canaryHealthy);
    const batch3 = requests.findIndex(
      (r) => r.operation === 'Machines_update' && ['m5', 'm1'].includes(machineOf(r)!),
    );
    const batch2Healthy = Math.max(
      ...['m3', 'm4'].map((id) =>
        requests.findLastIndex((r) => r.operation === 'Machines_show' && machineOf(r) === id),
      ),
    );
    expect(batch3).toBeGreaterThan(batch2Healthy);
    expect(run.summary).toContain('section batch 3');
    expect(run.summary).not.toContain('section batch 4');
    expectLeasesReleased();
    expectNoSecrets(run);
    expectNoViolations(fly.server, github.server);
  });

  it('immediate: every machine at once, no health wait', async () => {
    addMachines(4);
    const run = await deploy({ strategy: 'immediate' });
    expect(run.code).toBe(0);
    expect(updates()).toHaveLength(4);
    expect(fly.server.received('Machines_wait')).toHaveLength(0);
    const at = updates().map((u) => u.at);
    expect(Math.max(...at) - Math.min(...at)).toBeLessThan(START_MS);
    expect(run.stdout).toMatch(/m1 \(ams\) updated status=skipped/);
    expectLeasesReleased();
    expectNoViolations(fly.server, github.server);
  });

  it('leaves machines that already run the image alone, and only leases those it changes', async () => {
    addMachines(2);
    fly.addMachine({ id: 'm3', image: digestImage('b') });
    const run = await deploy();
    expect(run.code).toBe(0);
    expect(updates().map(machineOf).sort()).toEqual(['m1', 'm2']);
    expect(fly.server.received('Machines_create_lease').map(machineOf).sort()).toEqual(['m1', 'm2']);
    expect(summaryRow(run.summary, 'm3')?.slice(0, 4)).toEqual(['m3', 'ams', '-', 'unchanged']);
    expectLeasesReleased();
  });

  it('only touches machines of the process group', async () => {
    fly.addMachine({ id: 'web1', processGroup: 'app' });
    fly.addMachine({ id: 'wrk1', processGroup: 'worker' });
    const run = await deploy({ 'process-group': 'worker' });
    expect(run.code).toBe(0);
    expect(updates().map(machineOf)).toEqual(['wrk1']);
    expect(fly.machine('web1')!.config.image).toBe(OLD_IMAGE);
  });
});

describe('fly failed health', () => {
  it('auto-rollback puts the previous image back on every changed machine, releases leases, fails rolled-back', async () => {
    addMachines(3);
    // The second machine's new version never gets healthy: machines 1 and 2 were changed, 3 never.
    const watcher = setInterval(() => {
      if (updates().length >= 2) fly.failHealthFor(digestImage('b'));
    }, 5);
    const run = await deploy({ 'max-unavailable': '1', 'health-timeout': '2' }).finally(() =>
      clearInterval(watcher),
    );
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('rolled-back');
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/rolled back/);
    expect(fly.machine('m1')!.config.image).toBe(OLD_IMAGE);
    expect(fly.machine('m2')!.config.image).toBe(OLD_IMAGE);
    expect(fly.machine('m3')!.config.image).toBe(OLD_IMAGE);
    const images = updates().map((u) => [
      machineOf(u),
      (u.json as { config: { image: string } }).config.image,
    ]);
    expect(images.slice(0, 2)).toEqual([
      ['m1', digestImage('b')],
      ['m2', digestImage('b')],
    ]);
    expect(
      images
        .slice(2)
        .map(([m]) => m)
        .sort(),
    ).toEqual(['m1', 'm2']);
    expect(images.slice(2).every(([, image]) => image === OLD_IMAGE)).toBe(true);
    expect(summaryRow(run.summary, 'm1')?.slice(0, 4)).toEqual(['m1', 'ams', '1', 'rolled-back']);
    expect(summaryRow(run.summary, 'm3')?.slice(0, 4)).toEqual(['m3', 'ams', '3', 'skipped']);
    expectLeasesReleased();
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'failure']);
    expect(github.statusesOf(d!.id)[1]!.description).toMatch(/^rolled back: m2: checks not passing/);
    expectNoSecrets(run);
    expectNoViolations(fly.server, github.server);
  });

  it('without auto-rollback leaves the new image, fails with status failed and releases leases (timeout path)', async () => {
    addMachines(2);
    fly.failHealthFor(digestImage('b'));
    const run = await deploy({ 'auto-rollback': 'false', 'health-timeout': '1' });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(updates().map(machineOf)).toEqual(['m1']);
    expect(fly.machine('m1')!.config.image).toBe(digestImage('b'));
    expect(fly.machine('m2')!.config.image).toBe(OLD_IMAGE);
    expectLeasesReleased();
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'failure']);
    expectNoSecrets(run);
  });

  it('a lease held by someone else stops the deploy before any change, and releases what it took', async () => {
    addMachines(3);
    const res = await fetch(`${fly.server.url}/v1/apps/test-app/machines/m2/lease`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRETS.fly}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttl: 60 }),
    });
    expect(res.status).toBe(201);
    const run = await deploy();
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(
      /Could not take the leases on the machines of Fly app test-app: m2: .*lease currently held/,
    );
    expect(updates()).toHaveLength(0);
    const released = fly.server.received('Machines_release_lease').map(machineOf).sort();
    expect(released).toEqual(['m1', 'm3']);
    expect(fly.machine('m1')!.lease).toBeUndefined();
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'error']);
    expectNoSecrets(run);
  });
});

describe('fly rollback', () => {
  async function history(): Promise<BundleRun[]> {
    addMachines(2);
    const a = await deploy({ image: digestImage('a') });
    const b = await deploy({ image: digestImage('b') });
    expect([a.code, b.code]).toEqual([0, 0]);
    return [a, b];
  }

  it('rollback-to previous goes back to the last successful deployment before the current one', async () => {
    await history();
    const run = await deploy({ operation: 'rollback', image: '' });
    expect(run.errors).toEqual([]);
    for (const m of fly.machines) expect(m.config.image).toBe(digestImage('a'));
    expect(run.outputs.image).toBe(digestImage('a'));
    expect(run.outputs['previous-image']).toBe(digestImage('b'));
    const latest = github.deployments().at(-1)!;
    expect(latest.payload).toMatchObject({ operation: 'rollback', image: digestImage('a') });
    expect(statesOf(github, latest.id)).toEqual(['in_progress', 'success']);
    // A second "previous" toggles back to b.
    const again = await deploy({ operation: 'rollback', image: '' });
    expect(again.code).toBe(0);
    for (const m of fly.machines) expect(m.config.image).toBe(digestImage('b'));
    expectLeasesReleased();
    expectNoSecrets(run);
    expectNoViolations(fly.server, github.server);
  });

  it('rollback-to a deployment id and to a deploy_ tag', async () => {
    const [a] = await history();
    const byId = await deploy({
      operation: 'rollback',
      image: '',
      'rollback-to': a!.outputs['deployment-id']!,
    });
    expect(byId.code).toBe(0);
    for (const m of fly.machines) expect(m.config.image).toBe(digestImage('a'));
    const b = github.deployments()[1]!;
    const byTag = await deploy({
      operation: 'rollback',
      image: '',
      'rollback-to': String(b.payload && (b.payload as { tag: string }).tag),
    });
    expect(byTag.code).toBe(0);
    expect(byTag.outputs['deploy-tag']).toBe((b.payload as { tag: string }).tag);
    for (const m of fly.machines) expect(m.config.image).toBe(digestImage('b'));
    expectNoViolations(fly.server, github.server);
  });

  it('rollback-to previous with nothing before fails before any change', async () => {
    addMachines(1);
    const run = await deploy({ operation: 'rollback', image: '' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(/no deployment of fly app test-app is recorded/);
    expect(fly.server.received('Machines_create_lease')).toHaveLength(0);
    expect(github.deployments()).toHaveLength(0);
  });
});

describe('fly dry run and recording switches', () => {
  it('dry-run prints the plan and sends nothing that changes anything', async () => {
    addMachines(3);
    const run = await deploy({ 'dry-run': 'true', 'max-unavailable': '1' });
    expect(run.code).toBe(0);
    expect(fly.server.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(github.server.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(run.stdout).toContain('plan: batch 1: update m1');
    expect(run.stdout).toContain('plan: batch 3: update m3');
    expect(run.summary).toContain('dry run, nothing changed');
    expectNoSecrets(run);
  });

  it('an empty github-token deploys without recording and warns once', async () => {
    addMachines(1);
    const run = await deploy({ 'github-token': '' });
    expect(run.code).toBe(0);
    expect(github.server.requests).toHaveLength(0);
    expect(run.stdout.match(/::warning::github-token is empty/g)).toHaveLength(1);
    expect(run.outputs['deployment-id']).toBeUndefined();
  });

  it('an echoed token in an error body never reaches the output', async () => {
    addMachines(1);
    fly.server.inject({
      route: 'Machines_update',
      fault: { status: 422, json: { error: `bad token ${SECRETS.fly} and ${SECRETS.github}` } },
    });
    const run = await deploy({ 'auto-rollback': 'false' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toContain('[REDACTED');
    expectLeasesReleased();
    expectNoSecrets(run);
  });
});
