import type { ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type AppImage, type Dockerd, pushAppImage, startDockerd } from '../../sandbox/dockerd.ts';
import type { FakeServer } from '../../sandbox/fake-server.ts';
import { createFlyFake } from '../../sandbox/fakes/fly.ts';
import { createGitHubFake } from '../../sandbox/fakes/github.ts';
import { type Registry, startRegistry } from '../../sandbox/registry.ts';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { APP, SECRETS as CLONE_SECRETS, createWorld, endState, type World } from '../clone/world.ts';
import { type BundleRun, runBundle } from '../helpers/run-bundle.ts';
import { tookEffect } from './fault-worlds.ts';
import type { Cell, MatrixResult } from './matrix.ts';

/**
 * Cancellation matrix (issue 9, issue 13 §2): runs stopped at a known moment.
 * With SIGKILL: an ssh deploy killed while it holds the deploy lock (before
 * and during its health wait) leaves no lock once its post step ran; a Fly
 * deploy's post step releases its leases and finalises its deployment; a
 * clone killed at several points is finished by a re-run with the end state
 * of an uninterrupted run and nothing created twice. With SIGINT, as the
 * runner cancels (SIGTERM follows 7.5 s later): each action stops, cleans up,
 * says so in its summary and exits non-zero within those 7.5 s.
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

/** The runner's grace between SIGINT and SIGTERM (actions/runner src/Runner.Sdk/ProcessInvoker.cs). */
const RUNNER_SIGINT_GRACE_MS = 7500;

/**
 * Runs `start` and sends `signal` to the process by PID once `when` holds. `sent` is false when
 * it never held; `exitMs` is the time from the signal to the process's exit.
 */
async function signalWhen(
  start: (onSpawn: (child: ChildProcess) => void, onLine: (line: string) => void) => Promise<BundleRun>,
  when: (lines: string[]) => boolean,
  signal: NodeJS.Signals,
): Promise<{ run: BundleRun; sent: boolean; exitMs: number | undefined }> {
  let child: ChildProcess | undefined;
  const lines: string[] = [];
  let sentAt: number | undefined;
  let exitMs: number | undefined;
  const running = start(
    (c) => {
      child = c;
      c.on('exit', () => {
        if (sentAt !== undefined) exitMs = performance.now() - sentAt;
      });
    },
    (line) => lines.push(line),
  );
  const watching = waitFor(() => when(lines), 90_000).then((reached) => {
    if (reached && child?.pid !== undefined && child.exitCode === null) {
      sentAt = performance.now();
      process.kill(child.pid, signal);
    }
  });
  const run = await running;
  await watching;
  return { run, sent: sentAt !== undefined, exitMs };
}

/** Runs `start` and kills the process with SIGKILL once `when` holds; false when it never did. */
async function killWhen(
  start: (onSpawn: (child: ChildProcess) => void, onLine: (line: string) => void) => Promise<BundleRun>,
  when: (lines: string[]) => boolean,
): Promise<{ run: BundleRun; killed: boolean }> {
  const { run, sent } = await signalWhen(start, when, 'SIGKILL');
  return { run, killed: sent && run.code === null };
}

/** Problems of a run stopped by SIGINT: it must exit 1, in time, with one `::error::` naming the signal. */
function interruptProblems(r: { run: BundleRun; sent: boolean; exitMs: number | undefined }): string[] {
  if (!r.sent) return ['never reached the moment to interrupt'];
  const problems: string[] = [];
  if (r.run.code !== 1) problems.push(`exit ${r.run.code}`);
  if (r.exitMs === undefined || r.exitMs >= RUNNER_SIGINT_GRACE_MS)
    problems.push('still running 7.5 s after SIGINT');
  if (r.run.errors.length !== 1 || !r.run.errors[0]!.includes('cancelled (SIGINT)'))
    problems.push(`error lines: ${JSON.stringify(r.run.errors)}`);
  return problems;
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

// ---- deploy fly ------------------------------------------------------------

const FLY_TOKEN = 'fo1_CANARYcancelFlyToken0123456789abcdef';
const GITHUB_TOKEN = 'ghs_CANARYcancelGithubToken0123456789ab';
const OLD_IMAGE = 'registry.fly.io/test-app:deployment-1';
const NEW_IMAGE = `ghcr.io/acme/web@sha256:${'b'.repeat(64)}`;

/**
 * Three Fly machines, `max-unavailable: 2`: m1 gets healthy alone, then m2 and m3 are updated
 * together and never get healthy; `signal` goes to the process once both are in their health wait.
 */
async function flyCell(column: string, signal: 'SIGINT' | 'SIGKILL'): Promise<Cell> {
  const row = 'deploy fly (auto-rollback)';
  const fly = createFlyFake({ token: FLY_TOKEN, startDelayMs: 100 });
  const github = createGitHubFake({ token: GITHUB_TOKEN, repositories: ['acme/fleet'] });
  await Promise.all([fly.start(), github.start()]);
  const updates = () => fly.server.received('Machines_update');
  const machineOf = (path: string) => path.split('/')[5] ?? '';
  const watcher = setInterval(() => {
    if (updates().length >= 2) fly.failHealthFor(NEW_IMAGE);
  }, 5);
  try {
    for (let i = 1; i <= 3; i++) fly.addMachine({ id: `m${i}` });
    const inputs = {
      target: 'fly',
      image: NEW_IMAGE,
      'tag-image': 'false',
      'fly-app': 'test-app',
      'fly-api-token': FLY_TOKEN,
      'fly-api-url': `${fly.server.url}/v1`,
      'github-token': GITHUB_TOKEN,
      'github-api-url': github.server.url,
      'health-timeout': '120',
      'max-unavailable': '2',
    };
    const inHealthWait = () =>
      updates().length >= 3 &&
      fly.server.requests.filter(
        (r) => r.operation === 'Machines_show' && ['m2', 'm3'].includes(machineOf(r.path)),
      ).length >= 2;
    const stopped = await signalWhen(
      (onSpawn, onLine) => runBundle('deploy', { inputs, onSpawn, onLine, timeoutMs: 60_000 }),
      inHealthWait,
      signal,
    );
    clearInterval(watcher);
    const problems: string[] = [];
    let what: string;
    if (signal === 'SIGINT') {
      problems.push(...interruptProblems(stopped));
      what = 'stopped in time, every machine sent back, no lease held, deployment error';
    } else {
      if (!stopped.sent || stopped.run.code !== null) problems.push('not killed');
      const post = await runBundle('deploy', { entry: 'post', inputs, state: stopped.run.state });
      if (post.code !== 0) problems.push(`post exit ${post.code}`);
      if (post.everything.includes(FLY_TOKEN) || post.everything.includes(GITHUB_TOKEN))
        problems.push('secret leaked');
      what = 'killed holding 3 leases; post step released them and finalised the deployment';
    }
    const held = fly.machines.filter((m) => m.lease).length;
    if (held > 0) problems.push(`${held} lease(s) left`);
    if (signal === 'SIGINT' && fly.machines.some((m) => m.config.image !== OLD_IMAGE))
      problems.push('a machine left on the new image');
    const [deployment] = github.deployments();
    const last = deployment ? github.statusesOf(deployment.id).at(-1)?.state : undefined;
    if (last !== 'error') problems.push(`deployment status ${last}`);
    if (stopped.run.everything.includes(FLY_TOKEN) || stopped.run.everything.includes(GITHUB_TOKEN))
      problems.push('secret leaked');
    if (signal === 'SIGINT' && !/cancelled/.test(stopped.run.summary))
      problems.push('summary does not say cancelled');
    const violations = [...fly.server.violations, ...github.server.violations];
    if (violations.length > 0) problems.push(`${violations.length} contract violations`);
    return problems.length > 0
      ? { row, column, ok: false, result: problems.join('; ') }
      : { row, column, ok: true, result: what };
  } finally {
    clearInterval(watcher);
    await Promise.all([fly.stop(), github.stop()]);
  }
}

// ---- config-update, evidence -------------------------------------------------

async function configUpdateCell(): Promise<Cell> {
  const row = 'config-update fly';
  const column = 'SIGINT during the fan-out';
  const token = 'fm2_CANARYcancelConfigToken0123456789';
  const fly = createFlyFake({ token, app: 'smooth', startDelayMs: 50 });
  await fly.start();
  try {
    for (let i = 1; i <= 6; i++) fly.addMachine({ id: `e${i}00` });
    // The third call and every one after it never answers: the fan-out is in flight when stopped.
    fly.app.inject({ route: 'app', call: 3, times: Number.POSITIVE_INFINITY, fault: { hang: true } });
    const inputs = {
      target: 'fly',
      url: `${fly.app.url}/showcase/update_config`,
      'fly-app': 'smooth',
      'fly-api-token': token,
      'fly-api-url': `${fly.server.url}/v1`,
      concurrency: '2',
    };
    const stopped = await signalWhen(
      (onSpawn, onLine) => runBundle('config-update', { inputs, onSpawn, onLine, timeoutMs: 60_000 }),
      () => fly.app.requests.length >= 4,
      'SIGINT',
    );
    const problems = interruptProblems(stopped);
    const { run } = stopped;
    if (!/cancelled/i.test(run.summary)) problems.push('summary does not say cancelled');
    const results = JSON.parse(run.outputs.results ?? '[]') as { outcome: string; error: string | null }[];
    const ok = results.filter((r) => r.outcome === 'ok').length;
    const cut = results.filter(
      (r) => r.outcome === 'failed' && /cancelled \(SIGINT\)/.test(r.error ?? ''),
    ).length;
    if (results.length !== 6 || ok !== 2 || cut !== 4)
      problems.push(`results: ${ok} ok, ${cut} cut by the cancellation, of ${results.length}`);
    if (run.everything.includes(token)) problems.push('secret leaked');
    return problems.length > 0
      ? { row, column, ok: false, result: problems.join('; ') }
      : { row, column, ok: true, result: 'stopped in time: 2 updated, 4 cut, summary says cancelled' };
  } finally {
    await fly.stop();
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

async function evidenceCell(): Promise<Cell> {
  const row = 'evidence (local checks)';
  const column = 'SIGINT during a check';
  const workspace = mkdtempSync(join(tmpdir(), 'evidence-cancel-'));
  mkdirSync(join(workspace, '.github'), { recursive: true });
  const marker = join(workspace, 'slow-check-ran');
  writeFileSync(
    join(workspace, '.github', 'evidence.yml'),
    [
      'target: hetzner-staging',
      'checks:',
      '  - id: quick',
      '    run: echo ok',
      '  - id: slow',
      `    run: echo $$ > ${marker}; sleep 30; echo late`,
      '',
    ].join('\n'),
  );
  try {
    const stopped = await signalWhen(
      (onSpawn, onLine) =>
        runBundle('evidence', {
          cwd: workspace,
          inputs: { upload: 'false', milestone: 'gates-pass' },
          onSpawn,
          onLine,
          timeoutMs: 60_000,
        }),
      (lines) =>
        existsSync(marker) &&
        readFileSync(marker, 'utf8').trim() !== '' &&
        lines.some((l) => /\] quick passed/.test(l)),
      'SIGINT',
    );
    const problems = interruptProblems(stopped);
    if (!/cancelled/i.test(stopped.run.summary)) problems.push('summary does not say cancelled');
    // The check's shell leads its own process group: nothing of it may outlive the step.
    const group = Number(readFileSync(marker, 'utf8'));
    // A killed process may linger a moment as a zombie until it is reaped.
    if (!(await waitFor(() => !groupAlive(group), 2000))) problems.push('the check still runs');
    const dir = join(workspace, 'docs', 'evidence');
    const files = existsSync(dir) ? readdirSync(dir) : [];
    if (files.length > 0) problems.push(`files left: ${files.join(', ')}`);
    return problems.length > 0
      ? { row, column, ok: false, result: problems.join('; ') }
      : {
          row,
          column,
          ok: true,
          result: 'stopped in time, check killed, no evidence file, summary says cancelled',
        };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
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

/**
 * SIGINT while the clone waits for its promotion: the summary says cancelled, the servers file
 * holds no partial line, and a re-run finishes with the end state of an uninterrupted run.
 */
async function cloneInterruptCell(expected: unknown): Promise<Cell & { duplicates: number }> {
  const row = 'clone (hetzner)';
  const column = 'SIGINT during the promotion wait';
  const w = await createWorld({ acmDelayMs: 100, promotionDelayMs: 100 });
  try {
    w.heroku.server.inject({ route: 'pipeline-promotion-target.list', fault: { delayMs: 60_000 } });
    const stopped = await signalWhen(
      (onSpawn, onLine) => w.run({}, { onSpawn, onLine }),
      () => w.heroku.server.requests.some((r) => r.faulted),
      'SIGINT',
    );
    w.heroku.server.clearFaults();
    const problems = interruptProblems(stopped);
    if (!/cancelled/i.test(stopped.run.summary)) problems.push('summary does not say cancelled');
    const text = existsSync(w.serversFile) ? readFileSync(w.serversFile, 'utf8') : '';
    if (text !== '' && !text.endsWith('\n')) problems.push('partial servers-file line');
    const rerun = await w.run();
    if (rerun.code !== 0) problems.push('re-run failed');
    else if (!isDeepStrictEqual(endState(w, 'hetzner'), expected)) problems.push('end state differs');
    if (CLONE_SECRETS.some((s) => stopped.run.everything.includes(s) || rerun.everything.includes(s)))
      problems.push('secret leaked');
    const duplicates = cloneDuplicates(w);
    if (duplicates.length > 0) problems.push(`duplicate: ${duplicates.join(', ')}`);
    return problems.length > 0
      ? { row, column, ok: false, result: problems.join('; '), duplicates: duplicates.length }
      : {
          row,
          column,
          ok: true,
          result: 'stopped in time, summary says cancelled; re-run finished it',
          duplicates: 0,
        };
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
  const clones = Promise.all([
    ...CLONE_POINTS.map((p) => cloneCell(p, expected)),
    cloneInterruptCell(expected),
  ]);
  // One at a time: each measures its exit against the runner's 7.5 s.
  const others = (async () => [
    await flyCell('SIGINT during the health wait', 'SIGINT'),
    await flyCell('SIGKILL during the health wait', 'SIGKILL'),
    await configUpdateCell(),
    await evidenceCell(),
  ])();
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
  const cells = [...(await ssh), ...(await others), ...(await clones)];
  return {
    name: 'cancellation',
    title: 'Cancellation',
    description: [
      'Runs of the committed bundles killed with SIGKILL at a known moment.',
      'deploy ssh (a real sshd, dockerd and registry on loopback, `health-cmd: sleep 60`): killed right after it took the deploy lock, and during its health wait; the post step then runs with the state the killed step saved, and no lock may be left on the host.',
      'clone (Hetzner DNS path): held at a slow answer of the request named and killed there — right after the app was created (its marker config vars), after the config vars (pipeline coupling), after the custom domain (DNS rrset), during the promotion wait; a re-run must finish with the end state of an uninterrupted run and create nothing twice (app, coupling, domain, rrset, promotion).',
      'Cancellation as the runner does it (issue 13 §2): SIGINT sent by PID, SIGTERM due 7.5 s later. Every SIGINT cell requires exit 1 within 7.5 s, one `::error::` naming the signal and a summary that says cancelled.',
      'deploy fly (three machines, `max-unavailable: 2`, the second batch never healthy): SIGINT while m2 and m3 wait for health must send all three back to the previous image, hold no lease, and leave the GitHub deployment at `error`; SIGKILL there leaves three leases, which the post step must release, giving the deployment `error`.',
      'config-update fly (six machines, concurrency 2, the third call onwards never answered): 2 updated, 4 reported as cut by the cancellation.',
      'evidence (a quick check and a `sleep 30` check): no evidence file, no partial file.',
      'clone, SIGINT during the promotion wait: no partial servers-file line, and a re-run finishes it.',
    ].join(' '),
    cells: cells.map((c) => ({ row: c.row, column: c.column, result: c.result, ok: c.ok })),
    totals: {
      duplicates: cells.reduce((n, c) => n + ('duplicates' in c ? (c.duplicates as number) : 0), 0),
      'locks left': cells.filter((c) => c.result.includes('lock left')).length,
    },
  };
}
