import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type AppImage, type Dockerd, pushAppImage, startDockerd } from '../../sandbox/dockerd.ts';
import type { FakeServer } from '../../sandbox/fake-server.ts';
import { type Registry, startRegistry } from '../../sandbox/registry.ts';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { APP, SECRETS as CLONE_SECRETS, createWorld, endState, type World } from '../clone/world.ts';
import { type BundleRun, runBundle } from '../helpers/run-bundle.ts';
import { tookEffect } from './fault-worlds.ts';
import type { Cell, MatrixResult } from './matrix.ts';

/**
 * Cancellation matrix (issue 9): a run killed with SIGKILL at a known moment.
 * An ssh deploy killed while it holds the deploy lock (before and during its
 * health wait) leaves no lock once its post step ran; a clone killed at
 * several points is finished by a re-run with the end state of an
 * uninterrupted run and nothing created twice.
 */

const LOCK_DIR = join(homedir(), '.ops-actions', 'locks');
const REGISTRY_PASSWORD = 'canary-cancel-registry-pw-3e1f';

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** Runs `start` and kills the process with SIGKILL once `when` holds; false when it never did. */
async function killWhen(
  start: (onSpawn: (child: ChildProcess) => void, onLine: (line: string) => void) => Promise<BundleRun>,
  when: (lines: string[]) => boolean,
): Promise<{ run: BundleRun; killed: boolean }> {
  let child: ChildProcess | undefined;
  const lines: string[] = [];
  let killed = false;
  const running = start(
    (c) => {
      child = c;
    },
    (line) => lines.push(line),
  );
  const watching = waitFor(() => when(lines), 90_000).then((reached) => {
    if (reached && child && child.exitCode === null) {
      killed = child.kill('SIGKILL');
    }
  });
  const run = await running;
  await watching;
  return { run, killed: killed && run.code === null };
}

// ---- ssh deploy ------------------------------------------------------------

interface SshWorld {
  registry: Registry;
  dockerd: Dockerd;
  sshd: Sshd;
  image: AppImage;
}

async function sshWorld(): Promise<SshWorld> {
  const registry = await startRegistry({ auth: { username: 'deployer', password: REGISTRY_PASSWORD } });
  const dockerd = await startDockerd({ insecureRegistries: [registry.host] });
  const sshd = await startSshd({ env: { DOCKER_HOST: dockerd.host } });
  const image = await pushAppImage(dockerd, registry, 'shop/cancel', 'v1', { version: 'v1' });
  return { registry, dockerd, sshd, image };
}

async function sshCell(w: SshWorld, column: string, service: string, killAt: RegExp): Promise<Cell> {
  const row = 'deploy ssh';
  const lockFile = join(LOCK_DIR, `${service}.lock`);
  const inputs = {
    target: 'ssh',
    hosts: w.sshd.target,
    service,
    image: w.image.ref,
    'tag-image': 'false',
    'ssh-key': w.sshd.privateKey,
    'ssh-known-hosts': w.sshd.knownHosts,
    'registry-username': 'deployer',
    'registry-password': REGISTRY_PASSWORD,
    'health-cmd': 'sleep 60',
    'health-timeout': '120',
  };
  try {
    const { run, killed } = await killWhen(
      (onSpawn, onLine) => runBundle('deploy', { inputs, onSpawn, onLine, timeoutMs: 150_000 }),
      (lines) => lines.some((l) => killAt.test(l)),
    );
    if (!killed) return { row, column, ok: false, result: 'the run was not killed at that point' };
    if (!existsSync(lockFile)) return { row, column, ok: false, result: 'no lock held when killed' };
    const post = await runBundle('deploy', { entry: 'post', inputs, state: run.state, timeoutMs: 60_000 });
    const problems: string[] = [];
    if (post.code !== 0) problems.push(`post exit ${post.code}`);
    if (existsSync(lockFile)) problems.push('lock left behind');
    const secretLine = w.sshd.privateKey.split('\n')[1]!;
    if (
      [run, post].some((r) => r.everything.includes(REGISTRY_PASSWORD) || r.everything.includes(secretLine))
    )
      problems.push('secret leaked');
    if (problems.length > 0) return { row, column, ok: false, result: problems.join('; ') };
    return { row, column, ok: true, result: 'killed holding the lock; post step released it' };
  } finally {
    rmSync(lockFile, { force: true });
    await w.dockerd
      .docker(['ps', '-aq', '--filter', `label=ops-actions.service=${service}`])
      .then((ids) => {
        const list = ids.trim().split('\n').filter(Boolean);
        return list.length > 0 ? w.dockerd.docker(['rm', '-f', ...list]) : '';
      })
      .catch(() => '');
  }
}

// ---- clone -----------------------------------------------------------------

interface ClonePoint {
  column: string;
  /** The request the run is held at (a slow answer) while it is killed. */
  server: (w: World) => FakeServer;
  route: string;
  call?: number;
}

const CLONE_POINTS: ClonePoint[] = [
  {
    column: 'right after app create',
    server: (w) => w.heroku.server,
    route: 'config-var.update',
    call: 1,
  },
  { column: 'after config vars', server: (w) => w.heroku.server, route: 'pipeline-coupling.create' },
  { column: 'after domain add', server: (w) => w.hetzner.server, route: 'create_rrset' },
  {
    column: 'during the promotion wait',
    server: (w) => w.heroku.server,
    route: 'pipeline-promotion-target.list',
  },
];

function cloneDuplicates(w: World): string[] {
  const count = (server: FakeServer, op: string) =>
    server.requests.filter((r) => (r.operation === op || r.route === op) && tookEffect(r)).length;
  const out: string[] = [];
  for (const [server, op] of [
    [w.heroku.server, 'app.create'],
    [w.heroku.server, 'pipeline-coupling.create'],
    [w.heroku.server, 'domain.create'],
    [w.heroku.server, 'pipeline-promotion.create'],
    [w.hetzner.server, 'create_rrset'],
  ] as const) {
    const n = count(server, op);
    if (n > 1) out.push(`${op} ×${n}`);
  }
  if (w.heroku.state.apps.filter((a) => a.name === APP).length > 1) out.push('two apps');
  return out;
}

async function cloneCell(point: ClonePoint, expected: unknown): Promise<Cell & { duplicates: number }> {
  const row = 'clone (hetzner)';
  const w = await createWorld({ acmDelayMs: 100, promotionDelayMs: 100 });
  try {
    const server = point.server(w);
    server.inject({
      route: point.route,
      ...(point.call ? { call: point.call } : {}),
      fault: { delayMs: 60_000 },
    });
    const { killed } = await killWhen(
      (onSpawn, onLine) => w.run({}, { onSpawn, onLine }),
      () => server.requests.some((r) => r.faulted),
    );
    server.clearFaults();
    if (!killed) return { row, column: point.column, ok: false, result: 'not killed', duplicates: 0 };
    const rerun = await w.run();
    const problems: string[] = [];
    if (rerun.code !== 0) problems.push('re-run failed');
    else if (!isDeepStrictEqual(endState(w, 'hetzner'), expected)) problems.push('end state differs');
    if (CLONE_SECRETS.some((s) => rerun.everything.includes(s))) problems.push('secret leaked');
    const duplicates = cloneDuplicates(w);
    if (duplicates.length > 0) problems.push(`duplicate: ${duplicates.join(', ')}`);
    const violations = [...w.heroku.server.violations, ...w.hetzner.server.violations];
    if (violations.length > 0) problems.push(`${violations.length} contract violations`);
    if (problems.length > 0)
      return {
        row,
        column: point.column,
        ok: false,
        result: problems.join('; '),
        duplicates: duplicates.length,
      };
    return { row, column: point.column, ok: true, result: 'killed; re-run finished it', duplicates: 0 };
  } finally {
    await w.stop();
  }
}

async function cloneBaseline(): Promise<unknown> {
  const w = await createWorld({ acmDelayMs: 100, promotionDelayMs: 100 });
  try {
    const run = await w.run();
    if (run.code !== 0) throw new Error(`the uninterrupted clone failed: ${run.errors.join('; ')}`);
    return endState(w, 'hetzner');
  } finally {
    await w.stop();
  }
}

export async function run(): Promise<MatrixResult> {
  const expected = await cloneBaseline();
  const clones = Promise.all(CLONE_POINTS.map((p) => cloneCell(p, expected)));
  const ssh = (async () => {
    const w = await sshWorld();
    try {
      const suffix = process.pid.toString(36);
      return [
        await sshCell(
          w,
          'while holding the lock, before the container starts',
          `cxlock${suffix}`,
          /took the \S+ deploy lock/,
        ),
        await sshCell(w, 'during the health wait', `cxhealth${suffix}`, /\] cxhealth\S*-deploy_/),
      ];
    } finally {
      await w.sshd.stop();
      await w.dockerd.stop();
      await w.registry.stop();
    }
  })();
  const cells = [...(await ssh), ...(await clones)];
  return {
    name: 'cancellation',
    title: 'Cancellation',
    description: [
      'Runs of the committed bundles killed with SIGKILL at a known moment.',
      'deploy ssh (a real sshd, dockerd and registry on loopback, `health-cmd: sleep 60`): killed right after it took the deploy lock, and during its health wait; the post step then runs with the state the killed step saved, and no lock may be left on the host.',
      'clone (Hetzner DNS path): held at a slow answer of the request named and killed there — right after the app was created (its marker config vars), after the config vars (pipeline coupling), after the custom domain (DNS rrset), during the promotion wait; a re-run must finish with the end state of an uninterrupted run and create nothing twice (app, coupling, domain, rrset, promotion).',
    ].join(' '),
    cells: cells.map((c) => ({ row: c.row, column: c.column, result: c.result, ok: c.ok })),
    totals: {
      duplicates: cells.reduce((n, c) => n + ('duplicates' in c ? (c.duplicates as number) : 0), 0),
      'locks left': cells.filter((c) => c.result.includes('lock left')).length,
    },
  };
}
