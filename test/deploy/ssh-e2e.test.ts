import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppImage, type Dockerd, pushAppImage, startDockerd } from '../../sandbox/dockerd.ts';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { type Registry, startRegistry } from '../../sandbox/registry.ts';
import { freePort, type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';

/**
 * action-deploy with `target: ssh` as a workflow runs it: the committed bundle
 * resolves and tags the image in a real registry, deploys it over a real sshd
 * to a real dockerd, records a GitHub deployment, and rolls back to it.
 */

const REGISTRY_PASSWORD = 'canary-e2e-registry-pw-42a';
const GITHUB_TOKEN = 'ghs_canarye2etoken000000000000000000000';
const SERVICE = 'e2eshop';

let registry: Registry;
let dockerd: Dockerd;
let sshd: Sshd;
let github: GitHubFake;
let v1: AppImage;
let v2: AppImage;
let port: number;

beforeAll(async () => {
  registry = await startRegistry({ auth: { username: 'deployer', password: REGISTRY_PASSWORD } });
  dockerd = await startDockerd({ insecureRegistries: [registry.host] });
  sshd = await startSshd({ env: { DOCKER_HOST: dockerd.host } });
  github = createGitHubFake({ token: GITHUB_TOKEN, repositories: ['acme/fleet'] });
  await github.start();
  v1 = await pushAppImage(dockerd, registry, 'shop/e2e', 'v1', { version: 'v1' });
  v2 = await pushAppImage(dockerd, registry, 'shop/e2e', 'v2', { version: 'v2' });
  port = await freePort();
}, 180_000);

afterAll(async () => {
  await github?.stop();
  await sshd?.stop();
  await dockerd?.stop();
  await registry?.stop();
  rmSync(join(homedir(), '.ops-actions', 'locks', `${SERVICE}.lock`), { force: true });
}, 120_000);

const inputs = () => ({
  target: 'ssh',
  hosts: sshd.target,
  'ssh-key': sshd.privateKey,
  'ssh-known-hosts': sshd.knownHosts,
  service: SERVICE,
  'run-args': `--network host -e PORT=${port}`,
  'health-cmd': `curl -fsS http://127.0.0.1:${port}/up`,
  'health-timeout': '60',
  'registry-username': 'deployer',
  'registry-password': REGISTRY_PASSWORD,
  'github-token': GITHUB_TOKEN,
  'github-api-url': github.server.url,
  environment: 'staging',
});

async function served(): Promise<string> {
  return (await (await fetch(`http://127.0.0.1:${port}/up`)).text()).trim();
}

describe('deploy bundle, ssh target, end to end', () => {
  it('deploys v1 then v2 by digest with deploy tags, then rolls back to v1 from the history', async () => {
    const first = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: { ...inputs(), image: v1.tagged },
    });
    expect(first.errors).toEqual([]);
    expect(first.code).toBe(0);
    expect(first.outputs.status).toBe('success');
    expect(first.outputs.image).toBe(v1.ref);
    expect(first.outputs['deploy-tag']).toMatch(/^deploy_[0-9a-f]{8}$/);
    expect(await served()).toBe('v1');

    const second = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: { ...inputs(), image: v2.tagged },
    });
    expect(second.code).toBe(0);
    expect(second.outputs['previous-image']).toBe(v1.ref);
    expect(await served()).toBe('v2');

    // The registry got the deploy tag on the same digest.
    const tagged = await fetch(`${registry.url}/v2/shop/e2e/manifests/${second.outputs['deploy-tag']}`, {
      method: 'HEAD',
      headers: {
        authorization: registry.authorization!,
        accept:
          'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    expect(tagged.headers.get('docker-content-digest')).toBe(v2.digest);

    const back = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: { ...inputs(), operation: 'rollback', 'rollback-to': 'previous' },
    });
    expect(back.errors).toEqual([]);
    expect(back.code).toBe(0);
    expect(back.outputs.image).toBe(v1.ref);
    expect(await served()).toBe('v1');

    const records = github.deployments('staging');
    expect(records).toHaveLength(3);
    expect(
      records.map((d) =>
        github
          .statusesOf(d.id)
          .map((s) => s.state)
          .at(-1),
      ),
    ).toEqual(expect.arrayContaining(['success']));
    expect(existsSync(join(homedir(), '.ops-actions', 'locks', `${SERVICE}.lock`))).toBe(false);
    expect(github.server.violations).toEqual([]);
    for (const run of [first, second, back]) {
      expect(run.everything).not.toContain(REGISTRY_PASSWORD);
      expect(run.everything).not.toContain(GITHUB_TOKEN);
      expect(run.everything).not.toContain(sshd.privateKey.trim().split('\n')[1]!);
    }
  });

  it('SIGINT during the health wait: the previous container serves again, no lock, no new container, deployment error', async () => {
    // After the test above, v1 serves. v2 is started and never gets healthy.
    expect(await served()).toBe('v1');
    const existing = await dockerd.docker(['ps', '-a', '--format', '{{.Names}}']);
    const lockFile = join(homedir(), '.ops-actions', 'locks', `${SERVICE}.lock`);
    let child: ChildProcess | undefined;
    let sentAt: number | undefined;
    let exitMs: number | undefined;
    let newContainer: string | undefined;
    let heldLock = false;
    const run = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: { ...inputs(), image: v2.tagged, 'health-cmd': 'sleep 60' },
      onSpawn: (c) => {
        child = c;
        c.on('exit', () => {
          if (sentAt !== undefined) exitMs = performance.now() - sentAt;
        });
      },
      // `docker start` prints the new container's name; the health wait follows it.
      onLine: (line) => {
        const started = new RegExp(`\\] (${SERVICE}-deploy_[0-9a-f]{8})$`).exec(line);
        if (!started || existing.includes(started[1]!) || newContainer || !child?.pid) return;
        newContainer = started[1];
        setTimeout(() => {
          heldLock = existsSync(lockFile);
          sentAt = performance.now();
          process.kill(child!.pid!, 'SIGINT');
        }, 1500);
      },
    });
    expect(newContainer).toBe(`${SERVICE}-${run.outputs['deploy-tag']}`);
    expect(heldLock).toBe(true);
    expect(exitMs).toBeDefined();
    expect(exitMs!).toBeLessThan(RUNNER_SIGINT_GRACE_MS);
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      'cancelled (SIGINT): 1 unit(s) changed, 1 sent back to their previous version',
    ]);
    expect(run.summary).toMatch(/cancelled: 1 unit\(s\) changed, 1 sent back/);
    expect(existsSync(lockFile)).toBe(false);
    // No half state: the container of the cancelled deploy is gone, the previous one runs.
    const left = await dockerd.docker(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
    expect(left).not.toContain(newContainer!);
    expect(left.split('\n').filter((l) => l.endsWith(' running'))).toHaveLength(1);
    expect(await servedWithin(10_000)).toBe('v1');
    const d = github.deployments('staging').at(-1)!;
    expect(github.statusesOf(d.id).map((s) => s.state)).toEqual(['in_progress', 'error']);
    expect(github.statusesOf(d.id).at(-1)!.description).toBe(
      'cancelled: 1 unit(s) changed, 1 sent back to their previous version',
    );
    // The post step finds nothing left to release or record.
    const sent = github.server.requests.length;
    const post = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      entry: 'post',
      inputs: inputs(),
      state: run.state,
    });
    expect(post.code).toBe(0);
    expect(post.errors).toEqual([]);
    expect(github.server.requests.length).toBe(sent);
    expect(run.everything).not.toContain(REGISTRY_PASSWORD);
    expect(run.everything).not.toContain(sshd.privateKey.trim().split('\n')[1]!);
  }, 120_000);
});

/** The runner's grace between SIGINT and SIGTERM (actions/runner ProcessInvoker.cs): a contract. */
const RUNNER_SIGINT_GRACE_MS = 7500;

/** What the app answers once it listens again (a restarted container takes a moment). */
async function servedWithin(ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await served();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
