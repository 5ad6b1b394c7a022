import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { pushImage, type Registry, startRegistry } from '../../sandbox/registry.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { summaryRow, summaryTables } from '../helpers/summary-tables.ts';
import { digestImage, expectNoSecrets, OLD_IMAGE, SECRETS } from './fixtures.ts';

/** What a deploy tells its user, through the committed bundle: outputs, last line, summary, log. */

let fly: FlyFake;
let github: GitHubFake;
let registry: Registry;
const auth = { username: 'deployer', password: SECRETS.registry };

beforeAll(async () => {
  fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 100 });
  github = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
  [registry] = await Promise.all([startRegistry({ auth }), fly.start(), github.start()]);
});
afterAll(async () => {
  await Promise.all([fly?.stop(), github?.stop(), registry?.stop()]);
});

function deploy(app: string, inputs: Record<string, string> = {}): Promise<BundleRun> {
  return runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: {
      target: 'fly',
      image: digestImage('b'),
      'tag-image': 'false',
      'fly-app': app,
      'fly-api-token': SECRETS.fly,
      'fly-api-url': `${fly.server.url}/v1`,
      'github-token': SECRETS.github,
      'github-api-url': github.server.url,
      'health-timeout': '10',
      ...inputs,
    },
  });
}

/** The last line a user reads in the log: workflow commands aside. */
function lastLine(run: BundleRun): string {
  return (
    run.stdout
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('::'))
      .at(-1) ?? ''
  );
}

/** The summary's unit table as rows of cells, keyed by unit id. */
function unitRows(summary: string): Record<string, string[]> {
  const units = summaryTables(summary).find((table) => table[0]?.[0] === 'unit') ?? [];
  return Object.fromEntries(units.slice(1).map((r) => [r[0]!, r]));
}

describe('deploy outputs say what happened', () => {
  it('a dry run reports status planned, no deploy tag, and says "dry run" last', async () => {
    fly.addMachine({ id: 'd1', app: 'dry-app' });
    const run = await deploy('dry-app', { 'dry-run': 'true' });
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('planned');
    expect(run.outputs['deploy-tag']).toBe('');
    expect(lastLine(run)).toMatch(/dry run, nothing changed$/);
    // No line names the tag as if it existed.
    expect(run.stdout).toMatch(/^deploy [0-9a-f-]{36} \(dry run, would tag deploy_[0-9a-f]{8}\): image /m);
    expect(run.stdout).not.toMatch(/: success$/m);
    expect(summaryRow(run.summary, 'deploy tag')).toEqual(['deploy tag', '- (dry run)']);
    expect(fly.machine('d1')!.config.image).toBe(OLD_IMAGE);
    expectNoSecrets(run);
  });

  it('after an auto-rollback the summary shows the image that failed, and none for skipped machines', async () => {
    for (const id of ['r1', 'r2', 'r3']) fly.addMachine({ id, app: 'rb-app' });
    const updates = () => fly.server.received('Machines_update').filter((r) => r.path.includes('/rb-app/'));
    const watcher = setInterval(() => {
      if (updates().length >= 2) fly.failHealthFor(digestImage('b'));
    }, 5);
    const run = await deploy('rb-app', { 'max-unavailable': '1', 'health-timeout': '2' }).finally(() =>
      clearInterval(watcher),
    );
    expect(run.outputs.status).toBe('rolled-back');
    const rows = unitRows(run.summary);
    // columns: unit, where, batch, outcome, old image, new image, health, time
    expect(rows.r1?.[3]).toBe('rolled-back');
    expect(rows.r1?.[4]).toBe(OLD_IMAGE);
    expect(rows.r1?.[5]).toBe(digestImage('b'));
    expect(rows.r2?.[5]).toBe(digestImage('b'));
    expect(rows.r3?.[3]).toBe('skipped');
    expect(rows.r3?.[5]).toBe('-');
    expect(fly.machine('r3')!.config.image).toBe(OLD_IMAGE);
    expectNoSecrets(run);
  });

  it('a pinned image is logged as repository@digest, never repository:sha256:…', async () => {
    const digest = await pushImage(registry, 'acme/smooth', '1.0.0', { content: 'pinned' });
    fly.addMachine({ id: 'p1', app: 'pin-app' });
    const image = `${registry.host}/acme/smooth@${digest}`;
    const run = await deploy('pin-app', {
      image,
      'tag-image': 'true',
      'registry-username': auth.username,
      'registry-password': auth.password,
    });
    expect(run.errors).toEqual([]);
    expect(run.stdout).toContain(`${image} is ${digest}`);
    expect(run.everything).not.toMatch(/acme\/smooth:sha256:/);
    expectNoSecrets(run);

    // A rollback to the pinned image names it once, with its @.
    const back = await deploy('pin-app', {
      operation: 'rollback',
      'rollback-to': image,
      'registry-username': auth.username,
      'registry-password': auth.password,
    });
    expect(back.errors).toEqual([]);
    expect(back.stdout).toMatch(
      new RegExp(
        `^rollback [0-9a-f-]{36} \\(deploy_[0-9a-f]{8}\\): image ${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
        'm',
      ),
    );
    expect(back.everything).not.toMatch(/acme\/smooth:sha256:/);
    expectNoSecrets(back);
  });

  it('a deploy-tag output names a tag that exists: tagged with tag-image, else empty with a line why', async () => {
    const digest = await pushImage(registry, 'acme/back', '1.0.0', { content: 'back' });
    const image = `${registry.host}/acme/back@${digest}`;
    fly.addMachine({ id: 't1', app: 'tag-app' });
    const creds = { 'registry-username': auth.username, 'registry-password': auth.password };
    const tagged = await deploy('tag-app', {
      operation: 'rollback',
      'rollback-to': image,
      'tag-image': 'true',
      ...creds,
    });
    expect(tagged.errors).toEqual([]);
    const tag = tagged.outputs['deploy-tag']!;
    expect(tag).toMatch(/^deploy_[0-9a-f]{8}$/);
    const manifest = await fetch(`${registry.url}/v2/acme/back/manifests/${tag}`, {
      method: 'HEAD',
      headers: {
        ...(await registry.authorize('acme/back')),
        Accept: 'application/vnd.oci.image.manifest.v1+json',
      },
    });
    expect(manifest.headers.get('docker-content-digest')).toBe(digest);

    // Neither tagged nor recorded (tag-image false, no github-token): no tag names this rollback.
    for (const operation of ['rollback', 'deploy']) {
      const untagged = await deploy('tag-app', {
        operation,
        ...(operation === 'rollback' ? { 'rollback-to': image } : { image }),
        'github-token': '',
        ...creds,
      });
      expect(untagged.errors).toEqual([]);
      expect(untagged.outputs.status).toBe(operation === 'rollback' ? 'unchanged' : 'success');
      expect(untagged.outputs['deploy-tag']).toBe('');
      expect(untagged.stdout).toMatch(
        /^deploy-tag is empty: deploy_[0-9a-f]{8} was not added to the image \(tag-image is false\), and without github-token no GitHub deployment records it$/m,
      );
      expect(summaryRow(untagged.summary, 'deploy tag')).toEqual(['deploy tag', '- (none made)']);
      // No line names the unmade tag as what was deployed.
      expect(untagged.stdout).not.toMatch(/(rollback to|deploy) deploy_[0-9a-f]{8} (changed nothing|to fly)/);
      expectNoSecrets(untagged);
    }

    // Recorded in a GitHub deployment: rollback-to finds it, so it is reported.
    const recorded = await deploy('tag-app', { operation: 'rollback', 'rollback-to': image });
    expect(recorded.outputs['deploy-tag']).toMatch(/^deploy_[0-9a-f]{8}$/);
    const record = github.deployments().at(-1)!;
    expect((record.payload as { tag: string }).tag).toBe(recorded.outputs['deploy-tag']);
  });

  it('a request for a pinned image names the digest as written (sha256:…, never sha256%3A…)', async () => {
    const front = await startRegistry({ auth, front: true });
    try {
      const digest = await pushImage(front, 'acme/smooth', '1.0.0', { content: 'fronted' });
      fly.addMachine({ id: 'm1', app: 'front-app' });
      const run = await deploy('front-app', {
        operation: 'rollback',
        'rollback-to': `${front.host}/acme/smooth@${digest}`,
        'registry-username': auth.username,
        'registry-password': auth.password,
        'github-token': '',
      });
      expect(run.errors).toEqual([]);
      // The request path is the one request lines in retries and errors show (core/http.ts requestLine).
      const manifests = front.received!.filter((r) => r.path.includes('/manifests/'));
      expect(manifests.map((r) => r.path)).toContain(`/v2/acme/smooth/manifests/${digest}`);
      expect(manifests.filter((r) => /%3A/i.test(r.path))).toEqual([]);
      expect(run.everything).not.toMatch(/sha256%3A/i);
    } finally {
      await front.stop();
    }
  });
});
