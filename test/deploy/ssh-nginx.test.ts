import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppImage, type Dockerd, pushAppImage, startDockerd } from '../../sandbox/dockerd.ts';
import { type LoadResult, startLoad } from '../../sandbox/load.ts';
import { type Nginx, startNginx } from '../../sandbox/nginx.ts';
import { type Registry, startRegistry } from '../../sandbox/registry.ts';
import { freePort, type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { lineText } from '../../src/core/message.ts';
import type { SshDeploySettings } from '../../src/deploy/inputs.ts';
import * as cmd from '../../src/deploy/ssh/commands.ts';
import { createSshTarget } from '../../src/deploy/ssh/index.ts';
import type { DeployRequest } from '../../src/deploy/target.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { captureContext, deployRequest, sshSettings } from './ssh-helpers.ts';

/**
 * `proxy: nginx` against a real Debian nginx (own prefix, free loopback port,
 * run as the ssh user, killed by PID), a real sshd and a real dockerd; the apps
 * run with `--network host`. A load generator sends keep-alive requests through
 * nginx during each switch; `proxy: none` under the same load is the baseline.
 */

const REGISTRY_PASSWORD = 'canary-nginx-registry-pw-9c1';
const MIN_REQUESTS = 2000;
/** The runner's grace between SIGINT and SIGTERM: a contract, not a speed goal. */
const RUNNER_SIGINT_GRACE_MS = 7500;

let registry: Registry;
let dockerd: Dockerd;
let sshd: Sshd;
let nginx: Nginx;
let v1: AppImage;
let v2: AppImage;
let broken: AppImage;
let settings: SshDeploySettings;
let upstreamFile: string;

beforeAll(async () => {
  registry = await startRegistry({ auth: { username: 'deployer', password: REGISTRY_PASSWORD } });
  dockerd = await startDockerd({ insecureRegistries: [registry.host] });
  v1 = await pushAppImage(dockerd, registry, 'shop/zd', 'v1', { version: 'v1' });
  v2 = await pushAppImage(dockerd, registry, 'shop/zd', 'v2', { version: 'v2' });
  broken = await pushAppImage(dockerd, registry, 'shop/zd', 'broken', { version: 'broken', healthy: false });
  // The session's $HOME is this user's home: the action writes the upstream file there.
  const service = `zd${process.pid}`;
  upstreamFile = join(homedir(), '.ops-actions', 'nginx', `${service}.conf`);
  mkdirSync(join(homedir(), '.ops-actions', 'nginx'), { recursive: true });
  writeFileSync(upstreamFile, `${cmd.upstreamConfig(service, await freePort())}\n`);
  nginx = await startNginx({ upstreamFile, upstream: cmd.upstreamName(service) });
  sshd = await startSshd({
    env: {
      DOCKER_HOST: dockerd.host,
      OPS_ACTIONS_NGINX: join(nginx.binDir, 'nginx'),
    },
  });
  settings = sshSettings(sshd, {
    service,
    runArgs: '--network host',
    healthPath: '/up',
    drainTimeoutMs: 1000,
  });
}, 180_000);

afterAll(async () => {
  await nginx?.stop();
  await sshd?.stop();
  await dockerd?.stop();
  await registry?.stop();
  if (upstreamFile) rmSync(upstreamFile, { force: true });
  rmSync(join(homedir(), '.ops-actions', 'locks', `${settings?.service}.lock`), { force: true });
}, 120_000);

const registryInputs = { 'registry-username': 'deployer', 'registry-password': REGISTRY_PASSWORD };

async function deployUnderLoad(
  overrides: Partial<SshDeploySettings>,
  image: string | undefined,
  request: Partial<DeployRequest> = {},
): Promise<{ status: string; error?: string | undefined; load: LoadResult; lines: string[] }> {
  const lines: string[] = [];
  const { ctx } = captureContext(registryInputs);
  const load = startLoad(`${nginx.url}/up`);
  const outcome = await createSshTarget({ ...settings, ...overrides }, ctx, { healthIntervalMs: 200 }).run(
    deployRequest(image, lines, request),
  );
  return {
    status: outcome.status,
    error: lineText(outcome.error),
    load: await load.stop(MIN_REQUESTS),
    lines,
  };
}

async function served(): Promise<string> {
  return (await (await fetch(`${nginx.url}/up`)).text()).trim();
}

describe('ssh target behind nginx', () => {
  it('proxy none drops requests; proxy nginx deploys, rolls back and auto-rolls back with none failed', async () => {
    // Baseline: today's stop-then-start on a fixed port behind the same nginx.
    const fixed = await freePort();
    writeFileSync(upstreamFile, `${cmd.upstreamConfig(settings.service, fixed)}\n`);
    const none = { proxy: 'none' as const, runArgs: `--network host -e PORT=${fixed}` };
    expect((await deployUnderLoad(none, v1.ref)).status).toBe('success');
    await reloadUntil('v1');
    const baseline = await deployUnderLoad(none, v2.ref);
    expect(baseline.status).toBe('success');
    expect(baseline.load.ok + baseline.load.failed).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(baseline.load.failed).toBeGreaterThan(0);

    // Moving to the proxy: v1 starts on its own port beside the fixed-port container.
    const forward = await deployUnderLoad({ proxy: 'nginx' }, v1.ref);
    expect(forward.error).toBeUndefined();
    expect(forward.status).toBe('success');
    expect(await served()).toBe('v1');
    const v1Tag = forward.lines.join('\n').match(/upstream switched to \S+-(deploy_[0-9a-f]{8})/)?.[1];
    expect(v1Tag).toBeDefined();

    const deploy = await deployUnderLoad({ proxy: 'nginx' }, v2.ref);
    expect(deploy.status).toBe('success');
    expect(await served()).toBe('v2');

    const rollback = await deployUnderLoad({ proxy: 'nginx' }, undefined, {
      operation: 'rollback',
      deployTag: v1Tag!,
    });
    expect(rollback.status).toBe('success');
    expect(await served()).toBe('v1');
    expect(rollback.lines.join('\n')).not.toMatch(/docker pull/);

    const auto = await deployUnderLoad({ proxy: 'nginx' }, broken.ref, { healthTimeoutMs: 4000 });
    expect(auto.status).toBe('rolled-back');
    expect(await served()).toBe('v1');

    // Only the keep-alive race is sent again (sandbox/load.ts keepAliveRace): every other drop,
    // the move from proxy none to nginx included, is a failure.
    for (const [name, run] of [
      ['forward', forward],
      ['deploy', deploy],
      ['rollback', rollback],
      ['auto-rollback', auto],
    ] as const) {
      expect(run.load.ok + run.load.failed, name).toBeGreaterThanOrEqual(MIN_REQUESTS);
      expect({ name, failed: run.load.failed, samples: run.load.samples }).toEqual({
        name,
        failed: 0,
        samples: [],
      });
    }
    expect(deploy.load.bodies).toEqual(['v1', 'v2']);
    expect(rollback.load.bodies).toEqual(['v2', 'v1']);
    expect(auto.load.bodies).toEqual(['v1']);
    console.log(
      `baseline proxy none: ${baseline.load.failed} failed of ${baseline.load.ok + baseline.load.failed}; proxy nginx (failed/ok, keep-alive races sent again): ` +
        [forward, deploy, rollback, auto]
          .map(
            (r, i) =>
              `${['forward', 'deploy', 'rollback', 'auto-rollback'][i]} ${r.load.failed}/${r.load.ok}, ${r.load.retried}`,
          )
          .join('; '),
    );
  }, 300_000);

  it('a config nginx -t refuses never replaces the good one: the deploy fails with nginx`s message', async () => {
    const before = readFileSync(upstreamFile, 'utf8');
    const bad = join(nginx.extraDir, 'bad.conf');
    writeFileSync(bad, 'this_is_not_a_directive on;\n');
    try {
      const run = await deployUnderLoad({ proxy: 'nginx' }, v2.ref);
      expect(run.status).toBe('rolled-back');
      expect(run.error).toMatch(/Could not switch the nginx upstream on /);
      expect(run.error).toMatch(/unknown directive "this_is_not_a_directive"/);
      expect(readFileSync(upstreamFile, 'utf8')).toBe(before);
      expect(
        readdirSync(join(homedir(), '.ops-actions', 'nginx')).filter((f) =>
          f.startsWith(`${settings.service}.conf.`),
        ),
      ).toEqual([]);
      expect(run.load.failed).toBe(0);
      expect(await served()).toBe('v1');
    } finally {
      rmSync(bad, { force: true });
    }
  }, 120_000);

  it('SIGINT during the drain cuts it: the upstream goes back, the new container goes, no .good/.next is left', async () => {
    const dir = join(homedir(), '.ops-actions', 'nginx');
    const load = startLoad(`${nginx.url}/up`);
    let child: ChildProcess | undefined;
    let sentAt: number | undefined;
    let exitMs: number | undefined;
    const run = await runBundle('deploy', {
      inputs: {
        target: 'ssh',
        hosts: sshd.target,
        service: settings.service,
        image: v2.ref,
        'tag-image': 'false',
        'ssh-key': sshd.privateKey,
        'ssh-known-hosts': sshd.knownHosts,
        ...registryInputs,
        proxy: 'nginx',
        'run-args': '--network host',
        'health-path': '/up',
        'drain-timeout': '60',
      },
      timeoutMs: 60_000,
      onSpawn: (c) => {
        child = c;
        c.on('exit', () => {
          if (sentAt !== undefined) exitMs = performance.now() - sentAt;
        });
      },
      onLine: (line) => {
        if (sentAt === undefined && line.includes('draining the old container') && child?.pid) {
          sentAt = performance.now();
          process.kill(child.pid, 'SIGINT');
        }
      },
    });
    const counts = await load.stop(MIN_REQUESTS);
    expect(sentAt).toBeDefined();
    expect(exitMs!).toBeLessThan(RUNNER_SIGINT_GRACE_MS);
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('rolled-back');
    expect(run.errors).toEqual([
      'cancelled (SIGINT): 1 unit(s) changed, 1 sent back to their previous version',
    ]);
    expect(await served()).toBe('v1');
    expect(readdirSync(dir).filter((f) => f.startsWith(`${settings.service}.conf.`))).toEqual([]);
    const names = (await dockerd.docker(['ps', '-a', '--format', '{{.Names}} {{.Image}}']))
      .split('\n')
      .filter((l) => l.startsWith(`${settings.service}-`));
    expect(names.some((l) => l.endsWith(v2.ref))).toBe(false);
    console.log(
      `SIGINT during the drain: exit ${Math.round(exitMs!)} ms after it; load ${counts.failed}/${counts.ok} failed (${counts.samples.join(', ')}), ${counts.retried} keep-alive races sent again`,
    );
    // v2 answered between the switch and the SIGINT; v1 answers again after (served() above).
    expect(counts.bodies).toEqual(['v1', 'v2']);
    expect(counts.failed).toBe(0);
  }, 120_000);

  it('a container published with -p gets a free loopback host port of its own; dry-run shows the upstream change', async () => {
    const network = `zd${process.pid}`;
    await dockerd.docker(['network', 'create', network]);
    try {
      const published = { proxy: 'nginx' as const, runArgs: `--network ${network} -p 8080 -e BIND=0.0.0.0` };
      const before = readFileSync(upstreamFile, 'utf8');
      const current = Number(/server 127\.0\.0\.1:(\d+);/.exec(before)![1]);
      const lines: string[] = [];
      const { ctx } = captureContext(registryInputs);
      const dry = await createSshTarget({ ...settings, ...published }, ctx).run(
        deployRequest(v2.ref, lines, { dryRun: true }),
      );
      expect(dry.plan.map(String)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/published as -p 127\.0\.0\.1:<port>:8080\)$/),
          expect.stringContaining(
            `nginx upstream ${cmd.upstreamName(settings.service)} in ${cmd.upstreamFile(settings.service)}: server 127.0.0.1:${current} -> the new port`,
          ),
        ]),
      );
      expect(readFileSync(upstreamFile, 'utf8')).toBe(before);

      const first = await deployUnderLoad(published, v2.ref);
      expect(first.status).toBe('success');
      const second = await deployUnderLoad(published, v1.ref);
      expect(second.status).toBe('success');
      expect(await served()).toBe('v1');
      console.log(
        `-p: deploy ${first.load.failed}/${first.load.ok} (${first.load.retried} races sent again), second deploy ${second.load.failed}/${second.load.ok} (${second.load.retried}); samples ${[...first.load.samples, ...second.load.samples].join(', ')}`,
      );
      for (const run of [first, second]) {
        expect(run.load.ok + run.load.failed).toBeGreaterThanOrEqual(MIN_REQUESTS);
        expect({ failed: run.load.failed, samples: run.load.samples, lines: run.lines }).toMatchObject({
          failed: 0,
          samples: [],
        });
      }
      // Each container is published on 127.0.0.1 only, on a port of its own, the one nginx uses.
      const ports: string[] = [];
      for (const run of [first, second]) {
        const name = run.lines.join('\n').match(/upstream switched to (\S+)/)![1]!;
        const bindings = JSON.parse(
          await dockerd.docker(['inspect', '--format', '{{json .HostConfig.PortBindings}}', name]),
        ) as Record<string, { HostIp: string; HostPort: string }[]>;
        expect(Object.keys(bindings)).toEqual(['8080/tcp']);
        expect(bindings['8080/tcp']).toEqual([
          { HostIp: '127.0.0.1', HostPort: expect.stringMatching(/^\d+$/) },
        ]);
        ports.push(bindings['8080/tcp']![0]!.HostPort);
      }
      expect(new Set(ports).size).toBe(2);
      expect(readFileSync(upstreamFile, 'utf8')).toContain(`server 127.0.0.1:${ports[1]};`);
    } finally {
      await dockerd
        .docker(['ps', '-aq', '--filter', `network=${network}`])
        .then((ids) => {
          const list = ids.trim().split('\n').filter(Boolean);
          return list.length > 0 ? dockerd.docker(['rm', '-f', ...list]) : '';
        })
        .catch(() => '');
      await dockerd.docker(['network', 'rm', network]).catch(() => '');
    }
  }, 180_000);
});

/** The baseline wrote its own upstream file: nginx picks it up on a graceful reload (SIGHUP to its PID). */
async function reloadUntil(version: string): Promise<void> {
  process.kill(nginx.pid, 'SIGHUP');
  for (let i = 0; i < 100; i++) {
    if ((await served().catch(() => '')) === version) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nginx never served ${version}`);
}
