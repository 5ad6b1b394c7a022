import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlyFake } from '../../sandbox/fakes/fly.ts';
import type { GitHubFake } from '../../sandbox/fakes/github.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { digestImage, expectNoSecrets, expectNoViolations, SECRETS, statesOf } from './fixtures.ts';
import { type FlyWorld, startFlyWorld } from './worlds.ts';

/**
 * History scoped to one target (issue 13 §1) and rollbacks that mean what users
 * mean (issue 20), through the committed bundle: two Fly apps share the
 * environment `production`, and every lookup sees only its own app's deployments.
 */

let world: FlyWorld;
let fly: FlyFake;
let github: GitHubFake;

beforeEach(async () => {
  world = await startFlyWorld({ startDelayMs: 50 });
  ({ fly, github } = world);
  fly.addMachine({ id: 's1', app: 'smooth' });
  fly.addMachine({ id: 's2', app: 'smooth' });
  fly.addMachine({ id: 'o1', app: 'other' });
});
afterEach(() => world.stop());

function deploy(app: string, inputs: Record<string, string> = {}): Promise<BundleRun> {
  return runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: { ...world.inputs(), 'tag-image': 'false', 'fly-app': app, 'health-timeout': '5', ...inputs },
  });
}

const rollback = (app: string, to = 'previous') => deploy(app, { operation: 'rollback', 'rollback-to': to });
const imagesOf = (app: string) => fly.machines.filter((m) => m.app === app).map((m) => m.config.image);
const mutations = () => fly.server.requests.filter((r) => r.method !== 'GET');

async function deployOk(app: string, image: string): Promise<BundleRun> {
  const run = await deploy(app, { image });
  expect(run.errors).toEqual([]);
  return run;
}

describe('rollback history scoped to the Fly app', () => {
  it('smooth@a, other@c, smooth@b, rollback smooth previous: smooth goes back to a, other is left alone', async () => {
    await deployOk('smooth', digestImage('a'));
    await deployOk('other', digestImage('c'));
    await deployOk('smooth', digestImage('b'));

    const run = await rollback('smooth');
    expect(run.errors).toEqual([]);
    expect(run.outputs.status).toBe('success');
    expect(run.outputs.image).toBe(digestImage('a'));
    expect(imagesOf('smooth')).toEqual([digestImage('a'), digestImage('a')]);
    expect(imagesOf('other')).toEqual([digestImage('c')]);
    const last = github.deployments('production').at(-1)!;
    expect(last.payload).toMatchObject({ operation: 'rollback', target: 'fly', target_name: 'smooth' });
    expect(last.description).toBe(`rollback ${run.outputs['deploy-tag']} to fly app smooth`);
    expectNoSecrets(run);
    expectNoViolations(fly.server, github.server);
  });

  it("refuses another app's deployment id and deploy tag, naming the app, before any change", async () => {
    await deployOk('smooth', digestImage('a'));
    const other = await deployOk('other', digestImage('c'));
    const before = github.deployments().length;
    const changesBefore = mutations().length;

    const byId = await rollback('smooth', other.outputs['deployment-id']!);
    expect(byId.code).toBe(1);
    expect(byId.errors).toEqual([
      `Input 'rollback-to' names GitHub deployment ${other.outputs['deployment-id']}, which belongs to fly app other (GitHub deployment ${other.outputs['deployment-id']}, environment production), not to fly app smooth`,
    ]);
    const byTag = await rollback('smooth', other.outputs['deploy-tag']!);
    expect(byTag.code).toBe(1);
    expect(byTag.errors[0]).toMatch(
      new RegExp(
        `^Input 'rollback-to' names ${other.outputs['deploy-tag']}, which belongs to fly app other `,
      ),
    );
    expect(mutations()).toHaveLength(changesBefore);
    expect(github.deployments()).toHaveLength(before);
    expect(imagesOf('smooth')).toEqual([digestImage('a'), digestImage('a')]);

    // A tag of another app in another environment, of this app in another environment, and of nothing
    // (issue 13): each refused from the history alone, before any change and without asking a registry.
    const staged = await deploy('other', { image: digestImage('d'), environment: 'staging' });
    const smoothStaged = await deploy('smooth', { image: digestImage('e'), environment: 'staging' });
    const stagingBefore = github.deployments().length;
    const changesAfterStaging = mutations().length;
    const imagesAfterStaging = imagesOf('smooth');
    const otherStaged = await rollback('smooth', staged.outputs['deploy-tag']!);
    expect(otherStaged.outputs.status).toBe('failed');
    expect(otherStaged.errors).toEqual([
      `Input 'rollback-to' names ${staged.outputs['deploy-tag']}, which belongs to fly app other (GitHub deployment ${staged.outputs['deployment-id']}, environment staging), not to fly app smooth`,
    ]);
    const ownStaged = await rollback('smooth', smoothStaged.outputs['deploy-tag']!);
    expect(ownStaged.errors).toEqual([
      `Input 'rollback-to' names ${smoothStaged.outputs['deploy-tag']}, which was deployed to fly app smooth in environment staging (GitHub deployment ${smoothStaged.outputs['deployment-id']}), not in environment production`,
    ]);
    const nowhere = await rollback('smooth', 'deploy_deadbeef');
    expect(nowhere.errors).toEqual([
      "Input 'rollback-to' names deploy_deadbeef, but no deployment of fly app smooth carries that tag (GitHub deployments of every environment were searched)",
    ]);
    expect(nowhere.summary).toMatch(/^## rollback to fly \(production\): failed\n/);
    expect(nowhere.summary).toContain('deploy_deadbeef');
    expect(mutations()).toHaveLength(changesAfterStaging);
    expect(github.deployments()).toHaveLength(stagingBefore);
    expect(imagesOf('smooth')).toEqual(imagesAfterStaging);

    // An app that does not exist fails early, and reports as every other failure does (issue 13).
    const ghost = await deploy('ghost', { image: digestImage('a') });
    expect(ghost.code).toBe(1);
    expect(ghost.errors).toHaveLength(1);
    expect(ghost.outputs.status).toBe('failed');
    expect(ghost.summary).toMatch(/^## deploy to fly \(production\): failed\n/);
  });

  it("a process group rollback refuses a deploy of another group, and uses the whole app's history", async () => {
    fly.addMachine({ id: 'w1', app: 'smooth', processGroup: 'worker' });
    await deployOk('smooth', digestImage('a'));
    await deployOk('smooth', digestImage('b'));
    const web = await deploy('smooth', { image: digestImage('d'), 'process-group': 'app' });
    expect(web.code).toBe(0);
    const refused = await deploy('smooth', {
      operation: 'rollback',
      'rollback-to': web.outputs['deployment-id']!,
      'process-group': 'worker',
    });
    expect(refused.errors[0]).toMatch(/belongs to fly app smooth \(process group app\)/);
    const back = await deploy('smooth', { operation: 'rollback', 'process-group': 'worker' });
    expect(back.errors).toEqual([]);
    expect(fly.machine('w1')!.config.image).toBe(digestImage('a'));
    expect(fly.machine('s1')!.config.image).toBe(digestImage('d'));
  });

  it('deployments recorded without a target are never picked, and refused by id with their image offered', async () => {
    await deployOk('smooth', digestImage('a'));
    const legacy = await fetch(`${github.server.url}/repos/acme/fleet/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRETS.github}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ref: 'a'.repeat(40),
        environment: 'production',
        required_contexts: [],
        payload: { deploy_id: 'legacy', tag: 'deploy_0ld0ld00', target: 'fly', image: digestImage('e') },
      }),
    });
    expect(legacy.status).toBe(201);
    const { id } = (await legacy.json()) as { id: number };
    await fetch(`${github.server.url}/repos/acme/fleet/deployments/${id}/statuses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRETS.github}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'success' }),
    });

    const previous = await rollback('smooth');
    expect(previous.code).toBe(1);
    expect(previous.errors[0]).toMatch(
      /only one version of fly app smooth is recorded .*1 deployment\(s\) of this environment were recorded without naming their target/,
    );
    const byId = await rollback('smooth', String(id));
    expect(byId.errors[0]).toContain(
      `recorded without the target it was deployed to, so it cannot be checked to be a version of fly app smooth; to roll back to its image anyway, give rollback-to: ${digestImage('e')}`,
    );
    expect(imagesOf('smooth')).toEqual([digestImage('a'), digestImage('a')]);
  });
});

describe('rollback-to previous after a failed deploy that was rolled back (issue 20)', () => {
  it('v1.0, v1.1, v1.2 fails and is rolled back: previous changes nothing and says so, twice', async () => {
    await deployOk('smooth', digestImage('0'));
    await deployOk('smooth', digestImage('1'));
    fly.failHealthFor(digestImage('2'));
    const failed = await deploy('smooth', { image: digestImage('2'), 'health-timeout': '1' });
    expect(failed.outputs.status).toBe('rolled-back');
    expect(imagesOf('smooth')).toEqual([digestImage('1'), digestImage('1')]);
    const updatesBefore = fly.server.received('Machines_update').length;

    for (let i = 0; i < 2; i++) {
      const run = await rollback('smooth');
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.outputs.status).toBe('unchanged');
      expect(run.outputs.image).toBe(digestImage('1'));
      const notices = run.stdout.split('\n').filter((l) => l.startsWith('::notice::'));
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(
        new RegExp(
          `^::notice::rollback to deploy_\\w{8} changed nothing: fly app smooth already runs it \\(the latest deploy, GitHub deployment ${failed.outputs['deployment-id']}, failed and was rolled back; to go further back, give rollback-to \\d+ \\(deploy_\\w{8}\\)\\)$`,
        ),
      );
      expect(run.stdout).not.toMatch(/: success$/m);
      expect(run.summary).toMatch(/^## rollback to fly \(production\): unchanged$/m);
      const record = github.deployments().at(-1)!;
      expect(statesOf(github, record.id)).toEqual(['in_progress', 'success']);
      expect(github.statusesOf(record.id)[1]!.description).toMatch(/^unchanged: already running deploy_/);
    }
    expect(fly.server.received('Machines_update')).toHaveLength(updatesBefore);
    expect(imagesOf('smooth')).toEqual([digestImage('1'), digestImage('1')]);

    // The hint's deployment id goes further back, to v1.0, and that is a change.
    const hint = /give rollback-to (\d+)/.exec((await rollback('smooth')).stdout)![1]!;
    const further = await rollback('smooth', hint);
    expect(further.outputs.status).toBe('success');
    expect(imagesOf('smooth')).toEqual([digestImage('0'), digestImage('0')]);
    expectNoViolations(fly.server, github.server);
  });
});
