import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import pMap from 'p-map';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Sshd, startSshd } from '../sandbox/sshd.ts';
import { workspaceWith } from './evidence/helpers.ts';
import type { BundleRun } from './helpers/run-bundle.ts';
import { runBundle, UNSPACED_GITHUB_WRITES } from './helpers/run-bundle.ts';
import { SCENARIOS, type Scenario } from './reliability/fault-worlds.ts';
import { positionsOf } from './reliability/faults.ts';

/**
 * No user-facing message has an internal name as its subject: step ids (`gate.previous`,
 * `ssh.lock`), operation ids (`app.info`, `list_rrsets`, `Machines_list`) stay in the JSONL
 * operations log. Every action's bundle runs through its failure paths — each provider call of
 * the main path refused in turn, with the sandbox's fault injection, and the ssh target against a
 * real sshd — and every annotation, log line and summary line it printed is checked.
 */

/**
 * An internal identifier: dotted lower-case (`gate.previous`, `deployments.statuses.create`),
 * snake case (`list_rrsets`) or an OpenAPI id (`Machines_list`).
 */
const IDENTIFIER = String.raw`(?:[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+|[A-Za-z][a-z0-9]*(?:_[a-z0-9]+)+)`;
/**
 * …as a clause's subject: first, or right after a provider's name ("Heroku app.info failed"), and
 * followed by what happened to it (`failed`, `refused`, `timed out`, …) or by a colon. An API field
 * that a plan line shows changing (`config.image old -> new`) is no subject.
 */
const INTERNAL_SUBJECT = new RegExp(
  String.raw`^(?:[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)? )?(${IDENTIFIER})(?::|\s+(?:failed|refused|errored|timed out|did not|could not|was|is|answered|returned|succeeded|ok)\b)`,
);

/**
 * Clauses of a message that name an internal identifier as their subject. A message is split where
 * a new subject can start (`: `, `; `, `. `); `resources` are names the run was given (a domain,
 * a host), which may start a clause.
 */
function internalSubjects(message: string, resources: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const clause of message.split(/(?<=: |; |\. )/)) {
    const m = INTERNAL_SUBJECT.exec(clause.replace(/^[\s*>|#-]+|^\[[^\]]*\]\s*/g, ''));
    if (m && !resources.some((r) => r === m[1] || m[1]!.endsWith(`.${r}`))) found.push(m[1]!);
  }
  return found;
}

/** What a user reads from a run: annotations, log lines and summary lines, command prefixes removed. */
function messagesOf(run: BundleRun): string[] {
  const lines = run.stdout.split('\n').filter((l) => !/^::(add-mask|debug|set-output|save-state)/.test(l));
  return [
    ...lines.map((l) => l.replace(/^::(error|warning|notice)[^:]*::/, '')),
    ...run.summary.split('\n'),
  ].filter((l) => l.trim() !== '');
}

function violations(run: BundleRun, resources: readonly string[] = []): string[] {
  return messagesOf(run).flatMap((m) =>
    internalSubjects(m, resources).map((id) => `${id} ← ${m.slice(0, 200)}`),
  );
}

describe('the check itself', () => {
  it.each([
    ['gate.previous failed for evidence-x: no passing evidence', ['gate.previous']],
    ['Heroku account.info failed with HTTP 401: nope', ['account.info']],
    ['Could not deploy to fly (production): m1: fly.read failed for machine m1', ['fly.read']],
    ['Hetzner list_rrsets failed with HTTP 400', ['list_rrsets']],
    ['Fly Machines Machines_list failed with HTTP 500', ['Machines_list']],
    ['rollout failed; ssh.lock failed for deploy@h:22: held', ['ssh.lock']],
    [
      'Could not list the machines of Fly app smooth: Fly Machines answered GET /v1/apps/smooth/machines with HTTP 400',
      [],
    ],
    ['Could not wait for the certificate of tati.shibari.photo: timed out', []],
    ['tati.shibari.photo: CNAME -> x.herokudns.com', []],
    ['[m1] updated in 3 s', []],
    ['  POST /apps/web/machines/m1 (ams): config.image old -> new, skip_launch: suspended', []],
    ['Uploading artifact: evidence-t1-gates-pass.zip', []],
    ['gate.previous: no passing evidence', ['gate.previous']],
  ] as const)('%s', (message, expected) => {
    expect(internalSubjects(message, ['shibari.photo'])).toEqual(expected);
  });
});

/** The distinct provider calls of a scenario's uninterrupted run. */
async function callsOf(scenario: Scenario): Promise<string[]> {
  const base = await scenario.create();
  try {
    await base.run(UNSPACED_GITHUB_WRITES);
    return [...new Set(positionsOf(base.servers).map((p) => p.key))];
  } finally {
    await base.stop();
  }
}

/** One run of `scenario` in fresh fakes, with `key` answered 400 from its first call on. */
async function refused(scenario: Scenario, key: string): Promise<{ label: string; run: BundleRun }> {
  const world = await scenario.create();
  try {
    for (const server of world.servers)
      server.inject({ route: key, call: 1, times: Number.POSITIVE_INFINITY, fault: { status: 400 } });
    return { label: `${scenario.name}: ${key} refused`, run: await world.run(UNSPACED_GITHUB_WRITES) };
  } finally {
    await world.stop();
  }
}

/**
 * Every scenario's runs, each distinct provider call refused in turn, from one pool: a run spends
 * most of its time waiting (GitHub's writes are spaced a second apart by Octokit's throttling,
 * machines start after a delay), so six at a time keep the two cores busy without crowding them.
 */
const RUNS = 6;
const refusals = new Map<string, { label: string; run: BundleRun }[]>();

describe('every provider call refused in turn, through the bundles', () => {
  beforeAll(async () => {
    const calls = await pMap(SCENARIOS, callsOf, { concurrency: RUNS });
    const jobs = SCENARIOS.flatMap((scenario, i) => calls[i]!.map((key) => ({ scenario, key })));
    const runs = await pMap(jobs, ({ scenario, key }) => refused(scenario, key), { concurrency: RUNS });
    for (const [i, { scenario }] of jobs.entries())
      refusals.set(scenario.name, [...(refusals.get(scenario.name) ?? []), runs[i]!]);
  }, 300_000);

  it.each(SCENARIOS.map((s) => s.name))('%s: no message has an internal name as subject', (name) => {
    const runs = refusals.get(name) ?? [];
    expect(runs.length).toBeGreaterThan(0);
    // The failure paths ran: most of these runs failed, each with one error.
    expect(runs.filter(({ run }) => run.code !== 0).length).toBeGreaterThan(runs.length / 2);
    const found = runs.flatMap(({ label, run }) =>
      violations(run, ['shibari.photo']).map((v) => `${label}: ${v}`),
    );
    expect(found).toEqual([]);
  });
});

describe('ssh target failure paths, against a real sshd', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    // No docker on this host: every container command fails, as on a host set up wrongly.
    sshd = await startSshd({ env: { DOCKER_HOST: `tcp://127.0.0.1:${await freePort()}` } });
  }, 60_000);
  afterAll(async () => {
    await sshd?.stop();
  });

  const base = () => ({
    target: 'ssh',
    hosts: sshd.target,
    'ssh-key': sshd.privateKey,
    'ssh-known-hosts': sshd.knownHosts,
    service: `msg${process.pid}`,
    image: `registry.example/shop@sha256:${'c'.repeat(64)}`,
    'tag-image': 'false',
    'lock-timeout': '1',
    environment: 'staging',
  });

  /** The sshd's known_hosts line with another (valid) ed25519 key: the host is not who it should be. */
  const otherKey = () => sshd.knownHosts.replace(/AAAA\S+/, `AAAAC3NzaC1lZDI1NTE5AAAAI${'B'.repeat(43)}`);

  it('a host without docker, a host key that does not match, a lock held by another run', async () => {
    // The three runs that take no lock another of them holds go side by side.
    const [noDocker, wrongKey, evidence] = await Promise.all([
      runBundle('deploy', { inputs: base() }),
      runBundle('deploy', { inputs: { ...base(), 'ssh-known-hosts': otherKey() } }),
      runBundle('evidence', {
        cwd: workspaceWith('target: t1\nchecks:\n  - id: docker\n    run: docker ps\n    required: true\n'),
        inputs: {
          milestone: 'health-passes',
          'ssh-host': sshd.target,
          'ssh-key': sshd.privateKey,
          'ssh-known-hosts': otherKey(),
          upload: 'false',
        },
      }),
    ]);
    const lockFile = join(homedir(), '.ops-actions', 'locks', `${base().service}.lock`);
    mkdirSync(dirname(lockFile), { recursive: true });
    writeFileSync(
      lockFile,
      `token=other repository=acme/other run=7 attempt=1 job=deploy time=${new Date().toISOString()}\n`,
    );
    const held = await runBundle('deploy', { inputs: base() }).finally(() =>
      rmSync(lockFile, { force: true }),
    );
    for (const run of [noDocker, wrongKey, evidence, held]) {
      expect(run.code).toBe(1);
      expect(run.errors).toHaveLength(1);
    }
    expect(noDocker.errors[0]).toMatch(
      /^Could not deploy to ssh \(staging\): Could not list the containers of /,
    );
    expect(held.errors[0]).toMatch(
      /^Could not deploy to ssh \(staging\): Could not take the deploy lock on /,
    );
    const found = [noDocker, wrongKey, evidence, held].flatMap((run) => violations(run));
    expect(found).toEqual([]);
  }, 120_000);
});
