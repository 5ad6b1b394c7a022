import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { createHerokuFake, type HerokuFake } from '../../sandbox/fakes/heroku.ts';
import { pushImage, type Registry, startRegistry } from '../../sandbox/registry.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { digestImage, expectNoSecrets, expectNoViolations, SECRETS, statesOf } from './fixtures.ts';

/**
 * Defects the faults matrix (test/reliability/faults.ts) found, each pinned through the committed
 * bundle: a re-run (same GITHUB_RUN_ID, next GITHUB_RUN_ATTEMPT) continues what the failed attempt
 * started — its GitHub deployment, its deploy tag, its Fly leases, its Heroku build — instead of
 * doing it a second time.
 */

const FAST = { OPS_ACTIONS_REQUEST_TIMEOUT: '2' };
const attempt = (n: number, runId = '4242', job = 'deploy') => ({
  ...FAST,
  GITHUB_RUN_ID: runId,
  GITHUB_RUN_ATTEMPT: String(n),
  GITHUB_JOB: job,
});
const OUR_LEASE = 'ops-actions deploy acme/fleet run 4242 job deploy';

describe('heroku deploy under provider faults', () => {
  let heroku: HerokuFake;
  let github: GitHubFake;

  beforeEach(async () => {
    heroku = createHerokuFake({ apiKeys: [SECRETS.heroku], knobs: { buildLineIntervalMs: 20 } });
    github = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
    await Promise.all([heroku.start(), github.start()]);
    heroku.seedApp({ name: 'web-prod' });
  });
  afterEach(async () => {
    await Promise.all([heroku.stop(), github.stop()]);
  });

  const deploy = (env: Record<string, string> = attempt(1), inputs: Record<string, string> = {}) =>
    runBundle('deploy', {
      env: { ...UNSPACED_GITHUB_WRITES, ...env },
      timeoutMs: 60_000,
      inputs: {
        target: 'heroku',
        'heroku-app': 'web-prod',
        'heroku-api-key': SECRETS.heroku,
        'heroku-api-url': heroku.url,
        'github-token': SECRETS.github,
        'github-api-url': github.server.url,
        'source-url': 'https://example.test/app.tgz',
        ...inputs,
      },
    });
  const builds = () => heroku.state.builds.filter((b) => b.appId === heroku.app('web-prod')!.id);

  it('a build output stream that never answers does not hold the deploy once the build is over', async () => {
    heroku.server.inject({ route: 'build.output-stream', fault: { hang: true } });
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('warning: build output stream ended early: no more output 5000 ms after');
    expect(run.outputs.status).toBe('success');
    expect(heroku.currentRelease('web-prod')?.version).toBe(2);
    expectNoSecrets(run);
    expectNoViolations(heroku.server, github.server);
  });

  it('a deployment status answered 503 is sent again, so the deployment does not stay in_progress', async () => {
    github.server.inject({ route: 'repos/create-deployment-status', call: 2, fault: { status: 503 } });
    const run = await deploy();
    expect(run.code).toBe(0);
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'success']);
    expect(github.server.received('repos/create-deployment-status')).toHaveLength(3);
    expectNoViolations(heroku.server, github.server);
  });

  it('a build whose create answer was lost is followed by the re-run, not built again', async () => {
    heroku.server.inject({ route: 'build.create', fault: { drop: true, after: true } });
    const first = await deploy(attempt(1));
    expect(first.code).toBe(1);
    expect(first.errors).toHaveLength(1);
    expect(builds()).toHaveLength(1);
    const [build] = builds();
    expect(build!.sourceBlob.version).toBe(first.outputs['deploy-tag']);

    const rerun = await deploy(attempt(2));
    expect(rerun.errors).toEqual([]);
    expect(rerun.code).toBe(0);
    // One build: the re-run found it by its version (the deploy tag it shares with attempt 1).
    expect(heroku.server.received('build.create')).toHaveLength(1);
    expect(builds()).toHaveLength(1);
    expect(rerun.outputs['deploy-tag']).toBe(first.outputs['deploy-tag']);
    expect(rerun.outputs['deploy-id']).toBe(first.outputs['deploy-id']);
    expect(rerun.stdout).toContain(
      `build ${build!.id} of ${first.outputs['deploy-tag']} was started by an earlier attempt`,
    );
    const listed = heroku.server.received('build.list');
    expect(listed.map((r) => r.headers.range)).toEqual([
      'started_at ..; max=20, order=desc',
      'started_at ..; max=20, order=desc',
    ]);
    expect(heroku.currentRelease('web-prod')?.version).toBe(2);
    expect(heroku.state.releases.filter((r) => r.appId === heroku.app('web-prod')!.id)).toHaveLength(2);
    const deployments = github.deployments();
    expect(deployments).toHaveLength(1);
    expect(statesOf(github, deployments[0]!.id)).toEqual([
      'in_progress',
      'failure',
      'in_progress',
      'success',
    ]);
    expectNoSecrets(first);
    expectNoSecrets(rerun);
    expectNoViolations(heroku.server, github.server);
  });

  it('a build of this deploy that failed is built again by the re-run', async () => {
    heroku.knobs.buildFailures.set('web-prod', ['-----> Building', ' !     Push rejected']);
    const first = await deploy(attempt(1));
    expect(first.code).toBe(1);
    heroku.knobs.buildFailures.delete('web-prod');
    const rerun = await deploy(attempt(2));
    expect(rerun.code).toBe(0);
    expect(builds().map((b) => [b.status, b.sourceBlob.version])).toEqual([
      ['failed', first.outputs['deploy-tag']],
      ['succeeded', first.outputs['deploy-tag']],
    ]);
    expect(github.deployments()).toHaveLength(1);
    expectNoViolations(heroku.server, github.server);
  });
});

describe('GitHub deployment of a re-run', () => {
  let fly: FlyFake;
  let github: GitHubFake;

  beforeEach(async () => {
    fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 100 });
    github = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
    await Promise.all([fly.start(), github.start()]);
    for (const id of ['m1', 'm2']) fly.addMachine({ id });
  });
  afterEach(async () => {
    await Promise.all([fly.stop(), github.stop()]);
  });

  const deploy = (env: Record<string, string>, inputs: Record<string, string> = {}) =>
    runBundle('deploy', {
      env: { ...UNSPACED_GITHUB_WRITES, ...env },
      timeoutMs: 60_000,
      inputs: {
        target: 'fly',
        image: digestImage('b'),
        'tag-image': 'false',
        'fly-app': 'test-app',
        'fly-api-token': SECRETS.fly,
        'fly-api-url': `${fly.server.url}/v1`,
        'github-token': SECRETS.github,
        'github-api-url': github.server.url,
        'health-timeout': '20',
        ...inputs,
      },
    });

  for (const fault of [
    { name: 'dropped', fault: { drop: true, after: true } },
    { name: 'hung past the timeout', fault: { hang: true, after: true } },
  ]) {
    it(`a deployment whose create answer was ${fault.name} is continued by the re-run, not created again`, async () => {
      github.server.inject({ route: 'repos/create-deployment', fault: fault.fault });
      const first = await deploy(attempt(1));
      expect(first.code).toBe(1);
      expect(first.errors[0]).toMatch(/^Could not record a GitHub deployment in environment production: /);
      // The POST is not sent twice: its answer was lost, not its effect.
      expect(github.server.received('repos/create-deployment')).toHaveLength(1);
      const [d] = github.deployments();
      expect(d!.payload).toMatchObject({
        run_id: '4242',
        run_attempt: '1',
        job: 'deploy',
        target_name: 'test-app',
      });

      const rerun = await deploy(attempt(2));
      expect(rerun.errors).toEqual([]);
      expect(github.deployments()).toHaveLength(1);
      expect(github.server.received('repos/create-deployment')).toHaveLength(1);
      expect(rerun.outputs['deployment-id']).toBe(String(d!.id));
      expect(rerun.outputs['deploy-id']).toBe((d!.payload as { deploy_id: string }).deploy_id);
      expect(rerun.outputs['deploy-tag']).toBe((d!.payload as { tag: string }).tag);
      expect(rerun.stdout).toContain(`Attempt 2 of run 4242: continuing GitHub deployment ${d!.id}`);
      expect(statesOf(github, d!.id)).toEqual(['in_progress', 'success']);
      for (const m of fly.machines) expect(m.config.image).toBe(digestImage('b'));
      expectNoSecrets(first);
      expectNoSecrets(rerun);
      expectNoViolations(fly.server, github.server);
    });
  }

  it('a rollout that failed cleanly is continued under the same deployment by the re-run', async () => {
    fly.server.inject({ route: 'Machines_update', call: 2, fault: { status: 503 } });
    const first = await deploy(attempt(1));
    expect(first.code).toBe(1);
    const rerun = await deploy(attempt(2));
    expect(rerun.code).toBe(0);
    const [d, ...more] = github.deployments();
    expect(more).toEqual([]);
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'failure', 'in_progress', 'success']);
    expect(rerun.outputs['deploy-id']).toBe(first.outputs['deploy-id']);
    expectNoViolations(fly.server, github.server);
  });

  it('another target app or job of the same run, another run, or a finished deployment get a deployment of their own', async () => {
    fly.addMachine({ id: 'o1', app: 'other-app' });
    github.server.inject({ route: 'repos/create-deployment', fault: { drop: true, after: true } });
    const left = await deploy(attempt(1));
    expect(left.code).toBe(1);
    // Same run, same image, same environment, another app: not the deploy attempt 1 left unfinished.
    const other = await deploy(attempt(1), { 'fly-app': 'other-app' });
    expect(other.code).toBe(0);
    expect(other.outputs['deploy-id']).not.toBe(left.outputs['deploy-id']);
    // Nor does another job of the run (say a matrix over process groups of one app).
    const otherJob = await deploy(attempt(1, '4242', 'deploy-worker'));
    expect(otherJob.code).toBe(0);
    expect(otherJob.outputs['deploy-id']).not.toBe(left.outputs['deploy-id']);
    // Another workflow run does not continue it either.
    const nextRun = await deploy(attempt(1, '5001'));
    expect(nextRun.code).toBe(0);
    expect(nextRun.outputs['deploy-id']).not.toBe(left.outputs['deploy-id']);
    // Run 4242 deploying again after its success (a re-run of a job that succeeded) is a new deploy.
    const rerun = await deploy(attempt(2));
    expect(rerun.code).toBe(0);
    expect(rerun.outputs['deploy-id']).toBe(left.outputs['deploy-id']);
    const again = await deploy(attempt(3));
    expect(again.code).toBe(0);
    expect(again.outputs['deploy-id']).not.toBe(left.outputs['deploy-id']);
    expect(
      github.deployments().map((d) => {
        const p = d.payload as { run_id: string; target_name: string };
        return [p.run_id, p.target_name, statesOf(github, d.id).at(-1)];
      }),
    ).toEqual([
      ['4242', 'test-app', 'inactive'],
      ['4242', 'other-app', 'inactive'],
      ['4242', 'test-app', 'inactive'],
      ['5001', 'test-app', 'inactive'],
      ['4242', 'test-app', 'success'],
    ]);
    expectNoViolations(fly.server, github.server);
  });
});

describe('Fly leases whose answer was lost', () => {
  let fly: FlyFake;
  let github: GitHubFake;

  beforeEach(async () => {
    fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 100, leaseEnvelope: true });
    github = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
    await Promise.all([fly.start(), github.start()]);
    for (const id of ['m1', 'm2', 'm3']) fly.addMachine({ id });
  });
  afterEach(async () => {
    await Promise.all([fly.stop(), github.stop()]);
  });

  const deploy = (env: Record<string, string> = attempt(1)) =>
    runBundle('deploy', {
      env: { ...UNSPACED_GITHUB_WRITES, ...env },
      timeoutMs: 60_000,
      inputs: {
        target: 'fly',
        image: digestImage('b'),
        'tag-image': 'false',
        'fly-app': 'test-app',
        'fly-api-token': SECRETS.fly,
        'fly-api-url': `${fly.server.url}/v1`,
        'github-token': SECRETS.github,
        'github-api-url': github.server.url,
        'health-timeout': '20',
      },
    });
  const machineOf = (path: string) => path.split('/')[5];
  async function holdLease(machine: string, description: string | undefined): Promise<void> {
    const res = await fetch(`${fly.server.url}/v1/apps/test-app/machines/${machine}/lease`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRETS.fly}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttl: 120, ...(description === undefined ? {} : { description }) }),
    });
    expect(res.status).toBe(201);
  }
  function expectAllFree(): void {
    for (const m of fly.machines) expect(m.lease).toBeUndefined();
  }

  for (const fault of [
    { name: 'dropped', fault: { drop: true, after: true } },
    { name: 'hung past the timeout', fault: { hang: true, after: true } },
    { name: 'answered 503', fault: { status: 503 } },
  ]) {
    it(`a lease POST ${fault.name} is sent again, and a lease it made is adopted, not waited out`, async () => {
      fly.server.inject({ route: 'Machines_create_lease', call: 2, fault: fault.fault });
      const run = await deploy();
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      const posts = fly.server.received('Machines_create_lease');
      const faulted = posts.find((r) => r.faulted)!;
      const again = posts.filter((r) => machineOf(r.path) === machineOf(faulted.path));
      expect(again[0]!.faulted).toBe(true);
      if ('after' in fault.fault) {
        // The lease was made: the repeat met it (409), read it, knew it by its description and
        // extended it with its nonce.
        expect(again[0]!.handledStatus).toBe(201);
        expect(again.slice(1).map((r) => r.status)).toEqual([409, 201]);
        expect(fly.server.received('Machines_show_lease')).toHaveLength(1);
        expect(again[2]!.headers['fly-machine-lease-nonce']).toMatch(/^[0-9a-f]+$/);
      } else {
        expect(again.slice(1).map((r) => r.status)).toEqual([201]);
        expect(fly.server.received('Machines_show_lease')).toHaveLength(0);
      }
      expect((again[0]!.json as { description: string }).description).toBe(OUR_LEASE);
      for (const m of fly.machines) expect(m.config.image).toBe(digestImage('b'));
      expectAllFree();
      expect(github.deployments()).toHaveLength(1);
      expectNoSecrets(run);
      expectNoViolations(fly.server, github.server);
    });
  }

  it('a lease an earlier attempt of this run left behind is adopted by the re-run and released', async () => {
    await holdLease('m2', OUR_LEASE);
    const run = await deploy(attempt(2));
    expect(run.errors).toEqual([]);
    for (const m of fly.machines) expect(m.config.image).toBe(digestImage('b'));
    expectAllFree();
    expectNoViolations(fly.server, github.server);
  });

  it("another run's or anyone's lease stops the deploy, naming its holder, and nothing changes", async () => {
    await holdLease('m3', 'ops-actions deploy acme/fleet run 999');
    const run = await deploy();
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^Could not take the leases on the machines of Fly app test-app: m3: .*HTTP 409: machine m3 lease currently held by ops@example\.test \("ops-actions deploy acme\/fleet run 999"\) until \d{4}-/,
    );
    expect(fly.server.received('Machines_update')).toHaveLength(0);
    expect(fly.machine('m1')!.lease).toBeUndefined();
    expect(fly.machine('m3')!.lease?.description).toBe('ops-actions deploy acme/fleet run 999');
    expectNoSecrets(run);
    expectNoViolations(fly.server, github.server);
  });
});

describe('registry tag of a re-run', () => {
  let registry: Registry;
  let fly: FlyFake;
  let github: GitHubFake;
  const auth = { username: 'deployer', password: SECRETS.registry };

  beforeAll(async () => {
    registry = await startRegistry({ auth });
  });
  afterAll(() => registry?.stop());
  beforeEach(async () => {
    fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 100 });
    github = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
    await Promise.all([fly.start(), github.start()]);
    fly.addMachine({ id: 'r1' });
  });
  afterEach(async () => {
    await Promise.all([fly.stop(), github.stop()]);
  });

  async function tags(repo: string): Promise<string[]> {
    const res = await fetch(`http://${registry.host}/v2/${repo}/tags/list`, {
      headers: await registry.authorize(repo),
    });
    return ((await res.json()) as { tags: string[] }).tags.sort();
  }

  it('the re-run tags the image with the deploy tag of the attempt it continues', async () => {
    await pushImage(registry, 'acme/rerun', '3.0.0', { content: 'rerun' });
    const deploy = (env: Record<string, string>): Promise<BundleRun> =>
      runBundle('deploy', {
        env: { ...UNSPACED_GITHUB_WRITES, ...env },
        timeoutMs: 60_000,
        inputs: {
          target: 'fly',
          image: `${registry.host}/acme/rerun:3.0.0`,
          'registry-username': auth.username,
          'registry-password': auth.password,
          'fly-app': 'test-app',
          'fly-api-token': SECRETS.fly,
          'fly-api-url': `${fly.server.url}/v1`,
          'github-token': SECRETS.github,
          'github-api-url': github.server.url,
          'health-timeout': '20',
        },
      });
    github.server.inject({ route: 'repos/create-deployment', fault: { drop: true, after: true } });
    const first = await deploy(attempt(1));
    expect(first.code).toBe(1);
    const rerun = await deploy(attempt(2));
    expect(rerun.errors).toEqual([]);
    expect(rerun.outputs['deploy-tag']).toBe(first.outputs['deploy-tag']);
    expect(await tags('acme/rerun')).toEqual(['3.0.0', first.outputs['deploy-tag']!].sort());
    expect(github.deployments()).toHaveLength(1);
    expectNoSecrets(first);
    expectNoSecrets(rerun);
    expectNoViolations(fly.server, github.server);
  });
});
