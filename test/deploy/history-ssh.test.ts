import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppImage, type Dockerd, pushAppImage, startDockerd } from '../../sandbox/dockerd.ts';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { type Registry, startRegistry } from '../../sandbox/registry.ts';
import { freePort, type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { ownerLine } from '../../src/deploy/ssh/lock.ts';
import { type BundleRun, type RunOptions, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';

/**
 * The committed bundle, ssh target, real sshd and dockerd: two services on the
 * same host under one environment never see each other's history (issue 13
 * §1), and a re-run adopts the lock its killed earlier attempt left, with no
 * github-token (issue 13 §3).
 */

const REGISTRY_PASSWORD = 'canary-history-registry-pw-9c1';
const GITHUB_TOKEN = 'ghs_canaryhistorytoken00000000000000000';
const LOCK_DIR = join(homedir(), '.ops-actions', 'locks');
const WEB = 'histweb';
const API = 'histapi';
const LOCKED = 'histlock';

let registry: Registry;
let dockerd: Dockerd;
let sshd: Sshd;
let github: GitHubFake;
const images: Record<string, AppImage> = {};
const ports: Record<string, number> = {};

beforeAll(async () => {
  registry = await startRegistry({ auth: { username: 'deployer', password: REGISTRY_PASSWORD } });
  dockerd = await startDockerd({ insecureRegistries: [registry.host] });
  sshd = await startSshd({ env: { DOCKER_HOST: dockerd.host } });
  github = createGitHubFake({ token: GITHUB_TOKEN, repositories: ['acme/fleet'] });
  await github.start();
  for (const v of ['a', 'b', 'c']) images[v] = await pushAppImage(dockerd, registry, 'shop/hist', v);
  for (const s of [WEB, API, LOCKED]) ports[s] = await freePort();
}, 240_000);

afterAll(async () => {
  await github?.stop();
  await sshd?.stop();
  await dockerd?.stop();
  await registry?.stop();
  for (const s of [WEB, API, LOCKED]) rmSync(join(LOCK_DIR, `${s}.lock`), { force: true });
}, 120_000);

function deploy(
  service: string,
  inputs: Record<string, string>,
  options: RunOptions = {},
): Promise<BundleRun> {
  return runBundle('deploy', {
    ...options,
    env: { ...UNSPACED_GITHUB_WRITES, ...options.env },
    inputs: {
      target: 'ssh',
      hosts: sshd.target,
      'ssh-key': sshd.privateKey,
      'ssh-known-hosts': sshd.knownHosts,
      service,
      'run-args': `--network host -e PORT=${ports[service]}`,
      'health-cmd': `curl -fsS http://127.0.0.1:${ports[service]}/up`,
      'health-timeout': '60',
      'lock-timeout': '3',
      'registry-username': 'deployer',
      'registry-password': REGISTRY_PASSWORD,
      'github-token': GITHUB_TOKEN,
      'github-api-url': github.server.url,
      environment: 'production',
      ...inputs,
    },
  });
}

async function served(service: string): Promise<string> {
  return (await (await fetch(`http://127.0.0.1:${ports[service]}/up`)).text()).trim();
}

function expectNoSecrets(run: BundleRun): void {
  for (const secret of [REGISTRY_PASSWORD, GITHUB_TOKEN, sshd.privateKey.trim().split('\n')[1]!])
    expect(run.everything).not.toContain(secret);
}

describe('two ssh services on the same host, one environment', () => {
  it('web@a, api@c, web@b: rollback web previous restores a; api refuses web deployment ids and tags', async () => {
    const first = await deploy(WEB, { image: images.a!.tagged });
    const api = await deploy(API, { image: images.c!.tagged });
    const second = await deploy(WEB, { image: images.b!.tagged });
    for (const run of [first, api, second]) expect(run.errors).toEqual([]);
    expect(
      github.deployments('production').map((d) => (d.payload as { target_name: string }).target_name),
    ).toEqual([
      `${WEB}@${sshd.target.replace(/^.*@/, '')}`,
      `${API}@${sshd.target.replace(/^.*@/, '')}`,
      `${WEB}@${sshd.target.replace(/^.*@/, '')}`,
    ]);

    const back = await deploy(WEB, { operation: 'rollback' });
    expect(back.errors).toEqual([]);
    expect(back.outputs.status).toBe('success');
    expect(back.outputs.image).toBe(images.a!.ref);
    expect(await served(WEB)).toBe('a');
    expect(await served(API)).toBe('c');

    // api has one version only: previous refuses, and nothing of web's is borrowed.
    const apiBack = await deploy(API, { operation: 'rollback' });
    expect(apiBack.errors[0]).toMatch(
      new RegExp(`only one version of ssh service ${API} on 127\\.0\\.0\\.1:\\d+ is recorded`),
    );
    const byId = await deploy(API, {
      operation: 'rollback',
      'rollback-to': second.outputs['deployment-id']!,
    });
    expect(byId.errors[0]).toMatch(
      new RegExp(
        `which belongs to ssh service ${WEB} on 127\\.0\\.0\\.1:\\d+ .*not to ssh service ${API} on`,
      ),
    );
    const byTag = await deploy(API, { operation: 'rollback', 'rollback-to': first.outputs['deploy-tag']! });
    expect(byTag.errors[0]).toMatch(new RegExp(`which belongs to ssh service ${WEB} on `));
    expect(await served(API)).toBe('c');
    expect(github.deployments('production')).toHaveLength(4);
    for (const run of [first, api, second, back, apiBack, byId, byTag]) expectNoSecrets(run);
    expect(github.server.violations).toEqual([]);
  });
});

describe('a re-run adopts the lock its earlier attempt left', () => {
  const lockFile = join(LOCK_DIR, `${LOCKED}.lock`);
  const attempt = (n: number) => ({
    GITHUB_RUN_ID: '7001',
    GITHUB_RUN_ATTEMPT: String(n),
    GITHUB_JOB: 'release',
  });

  it('attempt 1 is killed holding the lock; attempt 2, with no github-token, adopts it and deploys', async () => {
    let killed = false;
    const first = await deploy(
      LOCKED,
      {
        image: images.a!.tagged,
        'github-token': '',
        // Holds the lock long enough to be killed in the health wait.
        'health-cmd': `sleep 60; curl -fsS http://127.0.0.1:${ports[LOCKED]}/up`,
      },
      {
        env: attempt(1),
        onSpawn: (child) =>
          child.stdout?.on('data', (chunk: Buffer) => {
            if (!killed && chunk.toString().includes(`took the ${LOCKED} deploy lock`)) {
              killed = true;
              child.kill('SIGKILL');
            }
          }),
      },
    );
    expect(killed).toBe(true);
    expect(first.code).toBeNull();
    expect(readFileSync(lockFile, 'utf8')).toMatch(/ repository=acme\/fleet run=7001 attempt=1 job=release /);

    // A matrix leg of the same attempt does not adopt it: it waits and names the holder.
    const sibling = await deploy(
      LOCKED,
      { image: images.b!.tagged, 'github-token': '' },
      { env: attempt(1) },
    );
    expect(sibling.code).toBe(1);
    expect(sibling.errors[0]).toMatch(/deploy lock is still held by acme\/fleet run 7001\.1 job release/);

    const second = await deploy(LOCKED, { image: images.b!.tagged, 'github-token': '' }, { env: attempt(2) });
    expect(second.errors).toEqual([]);
    expect(second.outputs.status).toBe('success');
    expect(second.stdout).toMatch(
      new RegExp(
        `adopted the ${LOCKED} deploy lock that an earlier attempt of this run left \\(acme/fleet run 7001\\.1 job release`,
      ),
    );
    expect(await served(LOCKED)).toBe('b');
    expect(existsSync(lockFile)).toBe(false);
    expectNoSecrets(second);
  });

  it("another run's lock is not adopted", async () => {
    const foreign = ownerLine({
      token: 'other-run',
      repository: 'acme/fleet',
      run: '6000',
      attempt: '1',
      job: 'release',
      time: new Date().toISOString(),
    });
    writeFileSync(lockFile, `${foreign} \n`);
    try {
      const run = await deploy(LOCKED, { image: images.c!.tagged, 'github-token': '' }, { env: attempt(2) });
      expect(run.code).toBe(1);
      expect(run.errors[0]).toMatch(/still held by acme\/fleet run 6000\.1 job release/);
      expect(readFileSync(lockFile, 'utf8')).toBe(`${foreign} \n`);
    } finally {
      rmSync(lockFile, { force: true });
    }
  });
});

describe('a deploy that failed before it took a lock', () => {
  it('says nothing about removing a lock, in the main step or the post step', async () => {
    const closed = await freePort();
    const run = await deploy(LOCKED, {
      image: images.a!.tagged,
      hosts: `127.0.0.1:${closed}`,
      'github-token': '',
    });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(
      /Could not take the deploy lock on 127\.0\.0\.1:\d+: could not take the lock/,
    );
    expect(run.stdout).not.toMatch(/remove/i);
    const post = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      entry: 'post',
      inputs: { 'ssh-key': sshd.privateKey, 'ssh-known-hosts': sshd.knownHosts },
      state: { locks: run.state.locks! },
    });
    expect(post.code).toBe(0);
    expect(post.stdout).toMatch(/never got an answer that it took it/);
    expect(post.stdout).not.toMatch(/remove|::warning::/i);
  });
});
