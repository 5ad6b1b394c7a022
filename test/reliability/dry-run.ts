import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FakeServer } from '../../sandbox/fake-server.ts';
import { DEMO_SHA, seedDemoFleet } from '../../sandbox/fleet.ts';
import { type Sandbox, startSandbox } from '../../sandbox/index.ts';
import { pushImage, type Registry, startRegistry } from '../../sandbox/registry.ts';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { mapConcurrent } from '../../src/core/fanout.ts';
import { type ActionName, runBundle } from '../helpers/run-bundle.ts';
import { EVIDENCE_CHECKS, evidenceWorkspace, isMutating, validInputs } from './bad-input.ts';
import type { Cell, MatrixResult } from './matrix.ts';

/**
 * Dry-run (issue 9): each action with `dry-run: true` over its full flow, against
 * a fresh seeded sandbox. Counted as mutating: anything but GET/HEAD to a
 * provider fake (Heroku, Hetzner, Cloudflare, Fly Machines, DigitalOcean,
 * GitHub, the artifact service, the image registry behind a recording proxy,
 * the Docker engine the ssh host runs) and any request at all to the user's
 * own endpoints (Fly app, Kamal hosts). Files: the workspace tree is compared
 * before and after (the JSONL log and the runner's files live in RUNNER_TEMP
 * and the run directory), and the ssh host's lock directory is checked.
 */

interface World {
  s: Sandbox;
  registry: FakeServer;
  docker: FakeServer;
  sshd: Sshd;
  registryHost: string;
}

interface DryRunCase {
  action: ActionName;
  label: string;
  inputs: (w: World) => Record<string, string>;
  /** Seeds what the flow needs beyond the demo fleet (history, releases). */
  seed?: (w: World) => Promise<void>;
  /** What a plan of this flow must mention: proof the full flow was observed and planned. */
  plans: RegExp;
  /** False when the plan needs no read at all (kamal URLs, a Heroku build, local checks). */
  observes?: false;
}

const SERVICE = 'drysvc';

const CASES: DryRunCase[] = [
  {
    action: 'clone',
    label: 'clone, dns-provider hetzner',
    inputs: ({ s }) => ({ ...validInputs('clone', s), 'wait-for-certificate': 'true' }),
    plans: /create app fetlife-prod-tati[\s\S]*tati/,
  },
  {
    action: 'clone',
    label: 'clone, dns-provider cloudflare',
    inputs: ({ s }) => ({
      ...validInputs('clone', s),
      'dns-provider': 'cloudflare',
      'dns-token': s.tokens.cloudflare,
    }),
    seed: async ({ s }) => {
      s.cloudflare.addZone({ name: 'shibari.photo' });
    },
    plans: /create app fetlife-prod-tati/,
  },
  {
    action: 'clone',
    label: 'clone, dns-provider none',
    inputs: ({ s }) => ({ ...validInputs('clone', s), 'dns-provider': 'none', 'dns-token': '' }),
    plans: /create app fetlife-prod-tati/,
  },
  {
    action: 'config-update',
    label: 'config-update, target fly',
    inputs: ({ s }) => ({ ...validInputs('config-update', s), 'stopped-machines': 'wake' }),
    plans: /Dry run: would update 6 machines/,
  },
  {
    action: 'config-update',
    label: 'config-update, target kamal',
    inputs: ({ s }) => ({ ...validInputs('config-update', s), target: 'kamal' }),
    plans: /Dry run: would update 2 hosts/,
    observes: false,
  },
  {
    action: 'deploy',
    label: 'deploy, fly rolling (image resolved and tagged in the registry)',
    inputs: (w) => ({ ...deployBase(w), target: 'fly', image: `${w.registryHost}/acme/web:1.0` }),
    plans: /plan: /,
  },
  {
    action: 'deploy',
    label: 'deploy, fly rollback to previous (GitHub history)',
    inputs: (w) => ({ ...deployBase(w), target: 'fly', operation: 'rollback', 'rollback-to': 'previous' }),
    seed: async ({ s }) => {
      await recordDeployment(s, 'fly', 'deploy_0000aaaa', `registry.fly.io/smooth@sha256:${'a'.repeat(64)}`);
      await recordDeployment(s, 'fly', 'deploy_0000bbbb', `registry.fly.io/smooth@sha256:${'b'.repeat(64)}`);
    },
    plans: /plan: /,
  },
  {
    action: 'deploy',
    label: 'deploy, heroku build',
    inputs: (w) => ({ ...deployBase(w), target: 'heroku', 'source-url': 'https://example.test/app.tgz' }),
    plans: /plan: /,
    observes: false,
  },
  {
    action: 'deploy',
    label: 'deploy, heroku promote',
    inputs: (w) => ({
      ...deployBase(w),
      target: 'heroku',
      'heroku-app': 'fetlife-prod',
      'promote-from': 'fetlife-staging',
    }),
    observes: false,
    seed: async ({ s }) => {
      const staging = s.heroku.seedApp({ name: 'fetlife-staging', region: 'eu', stack: 'heroku-24' });
      const pipeline = s.heroku.state.pipelines[0]!;
      s.heroku.couple(staging.name, pipeline.id, 'staging');
      s.heroku.seedReleases(staging.name, 2);
    },
    plans: /plan: /,
  },
  {
    action: 'deploy',
    label: 'deploy, heroku rollback to previous',
    inputs: (w) => ({ ...deployBase(w), target: 'heroku', operation: 'rollback', 'rollback-to': 'previous' }),
    plans: /plan: /,
  },
  {
    action: 'deploy',
    label: 'deploy, ssh hosts (local sshd, recording Docker engine)',
    inputs: (w) => ({
      ...deployBase(w),
      target: 'ssh',
      image: `${w.registryHost}/acme/web:1.0`,
      hosts: w.sshd.target,
      'ssh-key': w.sshd.privateKey,
      'ssh-known-hosts': w.sshd.knownHosts,
      service: SERVICE,
      'health-cmd': 'true',
    }),
    plans: /plan: /,
  },
  {
    action: 'evidence',
    label: 'evidence, upload and require-previous',
    inputs: ({ s }) => ({ ...validInputs('evidence', s), 'require-previous': 'true' }),
    plans: /would run disk/,
    observes: false,
  },
];

function deployBase({ s }: World): Record<string, string> {
  return {
    'fly-app': 'smooth',
    'fly-api-token': s.tokens.fly,
    'fly-api-url': s.urls.fly,
    'github-token': s.tokens.github,
    'github-api-url': s.urls.github,
    'heroku-app': 'fetlife-prod',
    'heroku-api-key': s.tokens.heroku,
    'heroku-api-url': s.urls.heroku,
    'registry-username': 'deployer',
    'registry-password': REGISTRY_AUTH.password,
    'health-timeout': '30',
  };
}

const REGISTRY_AUTH = { username: 'deployer', password: 'dry-run-registry-pw-0001' };

/** A successful deployment as the action records one, through the API (then forgotten by the fake's log). */
async function recordDeployment(s: Sandbox, target: string, tag: string, image: string): Promise<void> {
  const headers = {
    authorization: `Bearer ${s.tokens.github}`,
    accept: 'application/vnd.github+json',
    'content-type': 'application/json',
  };
  const base = `${s.urls.github}/repos/acme/fleet/deployments`;
  const created = await fetch(base, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      ref: DEMO_SHA,
      environment: 'production',
      auto_merge: false,
      required_contexts: [],
      // target_name: the fly-app of deployBase; history lookups consider only that app's deployments.
      payload: { deploy_id: `id-${tag}`, target, target_name: 'smooth', tag, image, operation: 'deploy' },
    }),
  });
  const { id } = (await created.json()) as { id: number };
  await fetch(`${base}/${id}/statuses`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ state: 'success' }),
  });
}

/** A Docker engine API that answers the read-only calls a plan needs and records everything. */
function recordingDockerEngine(): FakeServer {
  return new FakeServer({
    name: 'docker-engine',
    notFound: (req) => {
      const headers = { 'api-version': '1.45', ostype: 'linux', 'docker-experimental': 'false' };
      if (req.path === '/_ping') return { status: 200, body: 'OK', headers };
      if (req.method === 'GET' && /\/containers\/json$/.test(req.path))
        return { status: 200, json: [], headers };
      if (req.method === 'GET' && /\/version$/.test(req.path))
        return {
          status: 200,
          json: { Version: '27.0.0', ApiVersion: '1.45', Os: 'linux', Arch: 'amd64' },
          headers,
        };
      return {
        status: 500,
        json: { message: `recording engine refuses ${req.method} ${req.path}` },
        headers,
      };
    },
  });
}

/** A recording proxy in front of the real registry: every request is counted, then forwarded. */
function registryProxy(registry: Registry): FakeServer {
  return new FakeServer({
    name: 'registry',
    notFound: async (req) => {
      const query = req.query.toString();
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
      );
      const answer = await fetch(`${registry.url}${req.path}${query ? `?${query}` : ''}`, {
        method: req.method,
        headers,
        ...(req.body.length > 0 ? { body: new Uint8Array(req.body) } : {}),
        redirect: 'manual',
      });
      const out: Record<string, string> = {};
      answer.headers.forEach((value, key) => {
        if (!['content-length', 'transfer-encoding', 'connection'].includes(key)) out[key] = value;
      });
      return { status: answer.status, body: Buffer.from(await answer.arrayBuffer()), headers: out };
    },
  });
}

/** Path and content hash of every file under `dir`. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(dir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
  }
  return out;
}

function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const [path, hash] of after) if (before.get(path) !== hash) changed.push(path);
  for (const path of before.keys()) if (!after.has(path)) changed.push(`${path} (deleted)`);
  return changed.sort();
}

async function runCase(k: DryRunCase, shared: Omit<World, 's'>): Promise<Cell[]> {
  const s = await startSandbox();
  const w: World = { ...shared, s };
  try {
    seedDemoFleet(s);
    await k.seed?.(w);
    for (const server of s.servers) server.reset();
    const workspace =
      k.action === 'evidence'
        ? evidenceWorkspace(s, EVIDENCE_CHECKS)
        : mkdtempSync(join(tmpdir(), 'reliability-dry-ws-'));
    // A servers file from earlier clones: a dry run must leave it as it is.
    mkdirSync(join(workspace, 'scripts'), { recursive: true });
    writeFileSync(
      join(workspace, 'scripts', 'servers.txt'),
      'old,/Photos/old,https://old.example,https://old.shibari.photo,2025-01-01T00:00:00Z\n',
    );
    const before = tree(workspace);
    const lockFile = join(homedir(), '.ops-actions', 'locks', `${SERVICE}.lock`);
    const run = await runBundle(k.action, {
      inputs: { ...k.inputs(w), 'dry-run': 'true' },
      env: { ...s.results.env(), GITHUB_SHA: DEMO_SHA },
      cwd: workspace,
      timeoutMs: 90_000,
    });
    const after = tree(workspace);
    const row = k.label;
    const ownEndpoints = new Set([s.fly.app, ...s.kamal.hosts.map((h) => h.server)]);
    const providers = [...s.servers.filter((x) => !ownEndpoints.has(x)), shared.registry, shared.docker];
    const reads = [...providers, ...ownEndpoints].reduce((n, x) => n + x.requests.length, 0);
    // A flow that observes must have reached the sandbox, or the zero below proves nothing.
    const reached = k.observes === false || reads > 0;
    const mutating = [
      ...providers.flatMap((x) =>
        x.requests.filter(isMutating).map((r) => `${x.name} ${r.method} ${r.path}`),
      ),
      ...[...ownEndpoints].flatMap((x) => x.requests.map((r) => `${x.name} ${r.method} ${r.path}`)),
    ];
    const files = changedFiles(before, after);
    if (k.action === 'deploy' && existsSync(lockFile)) files.push(`host lock ${SERVICE}.lock`);
    const violations = [...providers.flatMap((x) => x.violations), ...s.violations()];
    const planned = k.plans.test(run.stdout);
    return [
      {
        row,
        column: 'outcome',
        result:
          run.code === 0 && planned
            ? 'exit 0, plan printed'
            : `exit ${run.code}: ${JSON.stringify((run.errors[0] ?? (planned ? '' : 'no plan')).slice(0, 160))}`,
        ok: run.code === 0 && planned,
      },
      {
        row,
        column: 'mutating requests',
        result: !reached
          ? 'no request reached the sandbox'
          : mutating.length === 0
            ? '0 mutating'
            : `${mutating.length} mutating: ${[...new Set(mutating)].join(', ')}`,
        ok: mutating.length === 0 && violations.length === 0 && reached,
      },
      {
        row,
        column: 'files written',
        result: files.length === 0 ? 'none but its logs' : files.join(', '),
        ok: files.length === 0,
      },
    ];
  } finally {
    shared.registry.reset();
    shared.docker.reset();
    await s.stop();
  }
}

export async function run(): Promise<MatrixResult> {
  const real = await startRegistry({ auth: REGISTRY_AUTH });
  const registry = registryProxy(real);
  const docker = recordingDockerEngine();
  await Promise.all([registry.start(), docker.start()]);
  const sshd = await startSshd({ env: { DOCKER_HOST: docker.url.replace('http://', 'tcp://') } });
  try {
    await pushImage(real, 'acme/web', '1.0');
    const shared = { registry, docker, sshd, registryHost: new URL(registry.url).host };
    // Cells share the registry proxy, the Docker engine and the sshd: one at a time keeps their counts apart.
    const cells = (await mapConcurrent(CASES, (k) => runCase(k, shared), { concurrency: 1 })).flat();
    const mutating = cells
      .filter((c) => c.column === 'mutating requests')
      .reduce((n, c) => n + (Number.parseInt(c.result, 10) || 0), 0);
    return {
      name: 'dry-run',
      title: 'Dry-run: nothing changes',
      description:
        "Every action with `dry-run: true` over its full flow against a freshly seeded sandbox: it observes (reads), plans and prints the plan. Mutating means anything but GET/HEAD to a provider (Heroku, Hetzner Cloud, Cloudflare, Fly Machines, DigitalOcean, GitHub, the artifact service, the image registry behind a recording proxy, the Docker engine of the ssh host, reached over a real local sshd) and any request at all to the user's own endpoints (Fly app, Kamal hosts). Files: the workspace tree (with a servers file from earlier runs) is hashed before and after, and the ssh host's lock directory is checked; the JSONL log and the runner's files are allowed. Goal: 0 mutating requests, no file but the logs.",
      cells,
      totals: { cases: CASES.length, 'mutating requests': mutating },
    };
  } finally {
    await sshd.stop();
    await Promise.all([registry.stop(), docker.stop(), real.stop()]);
  }
}
