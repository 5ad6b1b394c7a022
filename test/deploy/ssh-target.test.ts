import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppImage, type Dockerd, pushAppImage, startDockerd } from '../../sandbox/dockerd.ts';
import { createDigitalOceanFake, type DigitalOceanFake } from '../../sandbox/fakes/digitalocean.ts';
import { type Registry, startRegistry } from '../../sandbox/registry.ts';
import { freePort, type Sshd, startSshd } from '../../sandbox/sshd.ts';
import type { SshDeploySettings } from '../../src/deploy/inputs.ts';
import { createSshTarget } from '../../src/deploy/ssh/index.ts';
import { ownerLine } from '../../src/deploy/ssh/lock.ts';
import type { DeployRequest } from '../../src/deploy/target.ts';
import { parseFileCommands, runBundle } from '../helpers/run-bundle.ts';
import { captureContext, deployRequest, sshSettings } from './ssh-helpers.ts';

/**
 * The ssh target against a real sshd and a real dockerd on loopback: images
 * really pulled by digest from a real registry with basic auth, containers
 * really started with `--network host`, health really checked with curl.
 */

const REGISTRY_PASSWORD = 'canary-registry-pw-5f1d2e';
const DO_TOKEN = 'canary-do-token-7a9b3c';
const LOCK_DIR = join(homedir(), '.ops-actions', 'locks');

let registry: Registry;
let dockerd: Dockerd;
let sshd: Sshd;
let v1: AppImage;
let v2: AppImage;
let broken: AppImage;
const services: string[] = [];

beforeAll(async () => {
  registry = await startRegistry({ auth: { username: 'deployer', password: REGISTRY_PASSWORD } });
  dockerd = await startDockerd({ insecureRegistries: [registry.host] });
  sshd = await startSshd({ env: { DOCKER_HOST: dockerd.host } });
  v1 = await pushAppImage(dockerd, registry, 'shop/web', 'v1', { version: 'v1' });
  v2 = await pushAppImage(dockerd, registry, 'shop/web', 'v2', { version: 'v2' });
  broken = await pushAppImage(dockerd, registry, 'shop/web', 'broken', { version: 'broken', healthy: false });
}, 180_000);

afterAll(async () => {
  await sshd?.stop();
  await dockerd?.stop();
  await registry?.stop();
  for (const service of services) rmSync(join(LOCK_DIR, `${service}.lock`), { force: true });
}, 120_000);

interface Row {
  name: string;
  state: string;
  deploy: string;
  service: string;
  image: string;
}

async function containers(service: string): Promise<Row[]> {
  const out = await dockerd.docker([
    'ps',
    '--all',
    '--no-trunc',
    '--filter',
    `label=ops-actions.service=${service}`,
    '--format',
    '{{.Names}}\t{{.State}}\t{{.Label "ops-actions.deploy"}}\t{{.Label "ops-actions.service"}}\t{{.Image}}',
  ]);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, state, deploy, svc, image] = line.split('\t') as [string, string, string, string, string];
      return { name, state, deploy, service: svc, image };
    });
}

async function localImages(): Promise<string> {
  return dockerd.docker(['images', '--digests', '--format', '{{.Repository}}@{{.Digest}}']);
}

async function served(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/version`);
  return (await res.text()).trim();
}

interface App {
  settings: SshDeploySettings;
  port: number;
}

async function app(overrides: Partial<SshDeploySettings> = {}): Promise<App> {
  const port = await freePort();
  const settings = sshSettings(sshd, {
    runArgs: `--network host -e PORT=${port}`,
    healthCmd: `curl -fsS http://127.0.0.1:${port}/up`,
    ...overrides,
  });
  services.push(settings.service);
  return { settings, port };
}

const inputs = { 'registry-username': 'deployer', 'registry-password': REGISTRY_PASSWORD };

async function deploy(
  a: App,
  image: string | undefined,
  overrides: Partial<DeployRequest> = {},
  contextInputs: Record<string, string> = inputs,
) {
  const captured = captureContext({ ...contextInputs, 'ssh-key': a.settings.sshKey });
  const lines: string[] = [];
  const request = deployRequest(image, lines, overrides);
  const outcome = await createSshTarget(a.settings, captured.ctx, {
    lockPollMs: 200,
    healthIntervalMs: 300,
  }).run(request);
  const everything = [...captured.printed, ...lines, captured.logText(), JSON.stringify(outcome)].join('\n');
  for (const secret of [REGISTRY_PASSWORD, DO_TOKEN, a.settings.sshKey.trim().split('\n')[1]!]) {
    expect(everything).not.toContain(secret);
  }
  return { outcome, lines, captured, request, everything };
}

function logSteps(logText: string): { step: string; outcome: string }[] {
  return logText
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { step: string; outcome: string });
}

describe('ssh target: deploy, health, rollback, keep', () => {
  let web: App;
  const tags: Record<string, string> = {};

  beforeAll(async () => {
    web = await app({ keep: 2 });
  });

  it('deploys the first version: pulled by digest, labelled, healthy, lock released', async () => {
    const { outcome, lines, captured, request } = await deploy(web, v1.ref);
    tags.v1 = request.deployTag;
    expect(outcome.status).toBe('success');
    expect(outcome.units).toEqual([
      expect.objectContaining({
        id: '127.0.0.1',
        outcome: 'updated',
        health: 'passing',
        newImage: v1.ref,
        batch: 1,
      }),
    ]);
    expect(outcome.units[0]!.previousImage).toBeUndefined();
    const rows = await containers(web.settings.service);
    expect(rows).toEqual([
      {
        name: `${web.settings.service}-${request.deployTag}`,
        state: 'running',
        deploy: request.deployTag,
        service: web.settings.service,
        image: v1.ref,
      },
    ]);
    expect(await served(web.port)).toBe('v1');
    // The pull really happened over ssh and was streamed line by line.
    expect(lines.some((l) => l.startsWith('[127.0.0.1] ') && l.includes(v1.digest))).toBe(true);
    expect(lines.some((l) => /^\[1\/1 100%\] 127\.0\.0\.1 .* updated/.test(l))).toBe(true);
    expect(existsSync(join(LOCK_DIR, `${web.settings.service}.lock`))).toBe(false);
    expect(JSON.parse(captured.state('locks')!)).toEqual([]);
    const steps = logSteps(captured.logText()).map((e) => e.step);
    expect(steps).toEqual(
      expect.arrayContaining([
        'ssh.lock',
        'ssh.observe',
        'ssh.pull',
        'ssh.create',
        'ssh.start',
        'ssh.health',
        'ssh.unlock',
      ]),
    );
  });

  it('deploys the next version: the previous container stopped and kept', async () => {
    const { outcome, request } = await deploy(web, v2.ref);
    tags.v2 = request.deployTag;
    expect(outcome.status).toBe('success');
    expect(outcome.previousImage).toBe(v1.ref);
    expect(outcome.units[0]).toMatchObject({ outcome: 'updated', previousImage: v1.ref, newImage: v2.ref });
    const rows = await containers(web.settings.service);
    expect(rows.map((r) => [r.deploy, r.state])).toEqual([
      [tags.v2, 'running'],
      [tags.v1, 'exited'],
    ]);
    expect(await served(web.port)).toBe('v2');
  });

  it('a failed health check brings the previous container back and removes the failed one', async () => {
    const { outcome, lines } = await deploy(web, broken.ref, { healthTimeoutMs: 3000 });
    expect(outcome.status).toBe('rolled-back');
    expect(outcome.units[0]).toMatchObject({
      outcome: 'rolled-back',
      health: 'failing',
      previousImage: v2.ref,
    });
    expect(String(outcome.error)).toMatch(/not healthy within/);
    expect(lines.some((l) => l.includes('health attempt 1: exit 22'))).toBe(true);
    const rows = await containers(web.settings.service);
    expect(rows.map((r) => [r.deploy, r.state])).toEqual([
      [tags.v2, 'running'],
      [tags.v1, 'exited'],
    ]);
    expect(await served(web.port)).toBe('v2');
    expect(existsSync(join(LOCK_DIR, `${web.settings.service}.lock`))).toBe(false);
  });

  it('without auto-rollback a failed health check leaves the new container and fails', async () => {
    const other = await app();
    await deploy(other, v1.ref);
    const { outcome } = await deploy(other, broken.ref, { healthTimeoutMs: 1500, autoRollback: false });
    expect(outcome.status).toBe('failed');
    expect(outcome.units[0]).toMatchObject({ outcome: 'failed', health: 'failing' });
    const rows = await containers(other.settings.service);
    expect(rows.map((r) => r.state)).toEqual(['running', 'exited']);
    expect(rows[0]!.image).toBe(broken.ref);
  });

  it('rolls back to a kept version by starting its container, without any pull', async () => {
    // An image in an unreachable registry: any pull attempt would fail the rollback.
    const unreachable = `127.0.0.1:9/shop/web@${v1.digest}`;
    const { outcome, captured, lines } = await deploy(web, unreachable, {
      operation: 'rollback',
      deployTag: tags.v1!,
    });
    expect(outcome.status).toBe('success');
    expect(outcome.units[0]).toMatchObject({ outcome: 'updated', previousImage: v2.ref, health: 'passing' });
    const steps = logSteps(captured.logText()).map((e) => e.step);
    expect(steps).not.toContain('ssh.pull');
    expect(steps).not.toContain('ssh.create');
    expect(lines.join('\n')).not.toMatch(/Pulling|Digest:/);
    const rows = await containers(web.settings.service);
    expect(rows.find((r) => r.deploy === tags.v1)?.state).toBe('running');
    expect(rows.find((r) => r.deploy === tags.v2)?.state).toBe('exited');
    expect(await served(web.port)).toBe('v1');
  });

  it('rolling back to the version that already runs changes nothing', async () => {
    const { outcome, captured } = await deploy(web, v1.ref, { operation: 'rollback', deployTag: tags.v1! });
    expect(outcome.status).toBe('success');
    expect(outcome.units[0]!.outcome).toBe('unchanged');
    expect(logSteps(captured.logText()).map((e) => e.step)).not.toContain('ssh.start');
  });

  it('keeps only the last `keep` containers and removes older ones with their unused images', async () => {
    const { outcome, request } = await deploy(web, v2.ref);
    expect(outcome.status).toBe('success');
    const rows = await containers(web.settings.service);
    // keep 2: the one running now and the newest other one; the v1 container is the oldest.
    expect(rows.map((r) => [r.deploy, r.state])).toEqual([
      [request.deployTag, 'running'],
      [tags.v2, 'exited'],
    ]);
    expect(await served(web.port)).toBe('v2');
  });

  it('a rollback whose container was pruned pulls the image again', async () => {
    const { outcome, captured } = await deploy(web, v1.ref, { operation: 'rollback', deployTag: tags.v1! });
    expect(outcome.status).toBe('success');
    expect(logSteps(captured.logText()).map((e) => e.step)).toContain('ssh.pull');
    expect(await served(web.port)).toBe('v1');
    expect(await localImages()).toContain(v1.digest);
  });
});

describe('ssh target: locks', () => {
  it('two concurrent deploys to one host serialise on the lock', async () => {
    const shared = await app({ healthCmd: undefined });
    const events: string[] = [];
    const run = async (who: string, image: string) => {
      const captured = captureContext(inputs, (text) => events.push(`${who} ${text.trim()}`));
      const request = deployRequest(image, [], {
        log: (line) => events.push(`${who} ${line}`),
      });
      const settings = {
        ...shared.settings,
        // The first one holds the lock a while: its health check sleeps.
        healthCmd: `sleep 2; curl -fsS http://127.0.0.1:${shared.port}/up`,
      };
      return createSshTarget(settings, captured.ctx, { lockPollMs: 200, healthIntervalMs: 300 }).run(request);
    };
    const first = run('A', v1.ref);
    await waitFor(() => events.some((e) => e.startsWith('A ') && e.includes('took the')));
    const second = run('B', v2.ref);
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe('success');
    expect(b.status).toBe('success');
    const index = (who: string, text: string) =>
      events.findIndex((e) => e.startsWith(`${who} `) && e.includes(text));
    expect(index('B', 'waiting for the')).toBeGreaterThan(-1);
    expect(events[index('B', 'waiting for the')]).toContain('acme/fleet run 4242.1 job deploy by octocat');
    expect(index('A', 'Released the')).toBeGreaterThan(-1);
    expect(index('B', 'took the')).toBeGreaterThan(index('A', 'Released the'));
    expect(index('B', 'took the')).toBeGreaterThan(index('A', 'healthy after'));
    expect(await served(shared.port)).toBe('v2');
    expect(b.previousImage).toBe(v1.ref);
  });

  it('gives up after lock-timeout naming the holder, touches nothing, leaves the other lock alone', async () => {
    const held = await app({ lockTimeoutMs: 1200 });
    const lockFile = join(LOCK_DIR, `${held.settings.service}.lock`);
    const foreign = ownerLine({
      token: 'someone-else',
      repository: 'acme/other',
      run: '99',
      time: new Date(Date.now() - 60_000).toISOString(),
    });
    writeFileSync(lockFile, `${foreign} \n`);
    try {
      const { outcome, captured } = await deploy(held, v1.ref);
      expect(outcome.status).toBe('failed');
      expect(String(outcome.error)).toMatch(
        /Could not take the deploy lock on .*: the .* deploy lock is still held by acme\/other run 99/,
      );
      expect(outcome.units[0]).toMatchObject({ outcome: 'failed' });
      expect(await containers(held.settings.service)).toEqual([]);
      expect(readFileSync(lockFile, 'utf8')).toBe(`${foreign} \n`);
      expect(JSON.parse(captured.state('locks')!)).toEqual([]);
    } finally {
      rmSync(lockFile, { force: true });
    }
  });
});

describe('ssh target: dry-run and hosts', () => {
  it('dry-run reads the host and plans, but changes nothing and takes no lock', async () => {
    const dry = await app();
    await deploy(dry, v1.ref);
    const before = await containers(dry.settings.service);
    const { outcome, captured } = await deploy(dry, v2.ref, { dryRun: true });
    expect(outcome.status).toBe('success');
    expect(outcome.units[0]).toMatchObject({ outcome: 'planned', previousImage: v1.ref, newImage: v2.ref });
    expect(outcome.plan.join('\n')).toMatch(/docker pull .*shop\/web@sha256/);
    expect(outcome.plan.join('\n')).toMatch(/docker stop .*deploy_/);
    expect(await containers(dry.settings.service)).toEqual(before);
    const steps = logSteps(captured.logText()).map((e) => e.step);
    expect(steps).not.toContain('ssh.lock');
    expect(captured.state('locks')).toBeUndefined();
  });

  it('an unknown host key stops the deploy before anything changes', async () => {
    const strict = await app({
      knownHosts: `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBogusBogusBogusBogusBogusBogusBogusBogusBogus`,
    });
    const { outcome } = await deploy(strict, v1.ref);
    expect(outcome.status).toBe('failed');
    expect(String(outcome.error)).toMatch(/Could not take the deploy lock on /);
    expect(await containers(strict.settings.service)).toEqual([]);
  });

  describe('DigitalOcean discovery', () => {
    let fake: DigitalOceanFake;
    beforeAll(async () => {
      fake = createDigitalOceanFake({ token: DO_TOKEN });
      await fake.start();
      fake.addDroplet({ name: 'web-1', tags: ['deployed-via-api', 'web'], publicIp: '127.0.0.1' });
      // Never touched: without the tag (its address has no sshd, a connection would fail the deploy).
      fake.addDroplet({ name: 'personal', tags: ['web'], publicIp: '127.0.0.2' });
      fake.addDroplet({ name: 'web-off', tags: ['deployed-via-api'], publicIp: '127.0.0.3', status: 'off' });
    });
    afterAll(() => fake?.stop());

    const doSettings = async (hosts: string[]) => {
      const a = await app();
      a.settings.digitalocean = { tag: 'deployed-via-api', token: DO_TOKEN, apiUrl: `${fake.server.url}/v2` };
      a.settings.hosts = hosts.map((h) => ({ ...parseHost(h) }));
      return a;
    };

    it('deploys to the tagged droplets only, with the login a hosts line gives', async () => {
      const a = await doSettings([`${sshd.user}@127.0.0.1:${sshd.port}`]);
      const { outcome, captured } = await deploy(
        a,
        v1.ref,
        {},
        { ...inputs, 'digitalocean-token': DO_TOKEN },
      );
      expect(outcome.status).toBe('success');
      expect(outcome.units.map((u) => [u.id, u.where, u.outcome])).toEqual([
        ['web-1', `${sshd.user}@127.0.0.1:${sshd.port}`, 'updated'],
      ]);
      expect(captured.printed.join('')).toContain('Droplet web-off carries deployed-via-api but is skipped');
      expect(
        fake.server
          .received('GET /v2/droplets')
          .every((r) => new URLSearchParams(r.query).get('tag_name') === 'deployed-via-api'),
      ).toBe(true);
      expect(fake.server.violations).toEqual([]);
    });

    it('refuses a hosts line that names a droplet without the tag', async () => {
      const a = await doSettings([`root@127.0.0.2:${sshd.port}`]);
      await expect(deploy(a, v1.ref, {}, { ...inputs, 'digitalocean-token': DO_TOKEN })).rejects.toThrow(
        /127\.0\.0\.2.*is not a droplet tagged "deployed-via-api"/,
      );
      expect(fake.server.violations).toEqual([]);
    });

    it('fails clearly when no droplet carries the tag', async () => {
      const a = await doSettings([]);
      a.settings.digitalocean.tag = 'nothing-has-this';
      await expect(deploy(a, v1.ref, {}, { ...inputs, 'digitalocean-token': DO_TOKEN })).rejects.toThrow(
        /no active droplet with a public IPv4 address carries this tag/,
      );
      expect(fake.server.violations).toEqual([]);
    });
  });
});

describe('ssh target: a killed run', () => {
  it('recorded its lock in state before taking it, and the post step releases it', async () => {
    const killed = await app({ healthCmd: 'sleep 60' });
    const dir = mkdtempSync(join(tmpdir(), 'killed-run-'));
    const stateFile = join(dir, 'state');
    writeFileSync(stateFile, '');
    const deployId = randomUUID();
    const child = spawn(process.execPath, [join(import.meta.dirname, 'ssh-run-target.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: homedir(),
        RUNNER_TEMP: dir,
        GITHUB_STATE: stateFile,
        GITHUB_REPOSITORY: 'acme/fleet',
        GITHUB_RUN_ID: '4242',
        SSH_TARGET_CASE: JSON.stringify({ settings: killed.settings, deployId, image: v1.ref }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // `docker start` prints the name: the new container runs and its health wait has begun.
      await waitFor(
        () => stdout.includes(`] ${killed.settings.service}-deploy_`) || stdout.includes('status '),
        90_000,
      );
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(stdout).toContain('took the');
    expect(stdout).not.toContain('status ');
    const lockFile = join(LOCK_DIR, `${killed.settings.service}.lock`);
    expect(readFileSync(lockFile, 'utf8')).toContain(`token=${deployId} `);
    const state = parseFileCommands(readFileSync(stateFile, 'utf8'));
    expect(JSON.parse(state.locks!)).toEqual([
      {
        host: `${sshd.user}@127.0.0.1:${sshd.port}`,
        service: killed.settings.service,
        token: deployId,
        taken: true,
      },
    ]);
    const post = await runBundle('deploy', {
      entry: 'post',
      inputs: {
        target: 'ssh',
        hosts: sshd.target,
        service: killed.settings.service,
        image: v1.ref,
        'ssh-key': sshd.privateKey,
        'ssh-known-hosts': sshd.knownHosts,
        'registry-username': 'deployer',
        'registry-password': REGISTRY_PASSWORD,
      },
      state: { locks: state.locks! },
    });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain(`Released the ${killed.settings.service} deploy lock`);
    expect(existsSync(lockFile)).toBe(false);
    expect(post.everything).not.toContain(REGISTRY_PASSWORD);
    expect(post.everything).not.toContain(sshd.privateKey.split('\n')[1]!);
  }, 150_000);
});

function parseHost(value: string) {
  const m = /^(?:(.+)@)?([^:]+)(?::(\d+))?$/.exec(value)!;
  return { user: m[1], host: m[2]!, port: Number(m[3] ?? 22) };
}

async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
