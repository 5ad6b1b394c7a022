import { isDeepStrictEqual } from 'node:util';
import type { FakeServer, Fault, RecordedRequest } from '../../sandbox/fake-server.ts';
import { flyRateLimited } from '../../sandbox/fakes/fly.ts';
import { secondaryRateLimit } from '../../sandbox/fakes/github.ts';
import { herokuFault } from '../../sandbox/fakes/heroku.ts';
import { hetznerRateLimited } from '../../sandbox/fakes/hetzner.ts';
import type { BundleRun } from '../helpers/run-bundle.ts';
import {
  DEPLOY_HEROKU,
  REQUEST_TIMEOUT_SECONDS,
  SCENARIOS,
  type Scenario,
  WAIT_SCALE,
} from './fault-worlds.ts';
import type { Cell, MatrixResult } from './matrix.ts';

/**
 * Faults matrix (issue 9): for each action's main path, each provider request
 * position of an uninterrupted run gets each fault. A cell passes when the run
 * succeeds through retries, or fails cleanly (exit 1, one `::error::` naming
 * the step and the resource, no stack trace) and a re-run without the fault
 * completes with the end state of an uninterrupted run; in both cases with no
 * mutation done twice, no contract violation and no secret in the output.
 */

interface FaultKind {
  column: string;
  /** The fault, or per fake (by server name) the fault that provider answers with. */
  fault: Fault | ((server: string) => Fault);
}

/**
 * Each provider's own 429, as its fake documents it: Heroku with `RateLimit-Remaining: 0`,
 * Hetzner with `RateLimit-*` and no `Retry-After`, Fly Machines with neither, GitHub's secondary
 * limit with `retry-after: 1`. The app endpoint behind Fly's proxy is the user's own app and the
 * results service documents no rate limit: they keep a plain 429 with `Retry-After: 1`.
 */
export function providerRateLimit(server: string): Fault {
  if (server === 'heroku') return herokuFault(429);
  if (server === 'hetzner') return hetznerRateLimited();
  if (server === 'fly') return flyRateLimited();
  if (server === 'github') return secondaryRateLimit({ retryAfter: 1, status: 429 });
  return { status: 429, retryAfter: 1 };
}

const RATE_LIMIT: FaultKind = { column: '429 as the provider sends it', fault: providerRateLimit };

export const FAULTS: FaultKind[] = [
  RATE_LIMIT,
  { column: '503', fault: { status: 503 } },
  // The request is handled and only the answer is lost: a client cannot tell whether it was done.
  { column: 'dropped connection', fault: { drop: true, after: true } },
  { column: `hang past the ${REQUEST_TIMEOUT_SECONDS} s timeout`, fault: { hang: true, after: true } },
];

export interface Position {
  server: string;
  /** The operation (or route) the fault targets. */
  key: string;
  /** Its 1-based call number among requests of that key. */
  call: number;
  label: string;
}

// Four bundles at a time: at eight on the 2-core machine, a cell that rides out its fault
// (429 on deploy fly's list-deployments) once failed on timing in CI, changing the table.
const CONCURRENCY = 4;

function keyOf(r: RecordedRequest): string {
  return r.operation ?? r.route ?? `${r.method} ${r.path}`;
}

/**
 * Positions of a run: every mutating request (each call of it), and the first
 * call of each read. Later calls of a read are polls whose count depends on
 * timing; the first one stands for them. Sorted by label, because requests a
 * run sends in parallel arrive in any order and the table must not change.
 */
export function positionsOf(servers: FakeServer[]): Position[] {
  const all = servers.flatMap((server, order) => server.requests.map((r, i) => ({ server, order, r, i })));
  all.sort((a, b) => a.r.at - b.r.at || a.order - b.order || a.i - b.i);
  const seen = new Map<string, number>();
  const out: Position[] = [];
  for (const { server, r } of all) {
    const key = keyOf(r);
    const id = `${server.name} ${key}`;
    const call = (seen.get(id) ?? 0) + 1;
    seen.set(id, call);
    if (r.method === 'GET' && call > 1) continue;
    out.push({
      server: server.name,
      key,
      call,
      label: `${server.name} ${key}${r.method === 'GET' ? '' : ` #${call}`}`,
    });
  }
  return out.sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
}

const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

interface Baseline {
  positions: Position[];
  endState: unknown;
}

async function baseline(scenario: Scenario): Promise<Baseline> {
  const world = await scenario.create();
  try {
    const run = await world.run();
    if (run.code !== 0)
      throw new Error(
        `${scenario.name}: the uninterrupted run failed: ${run.errors.join('; ') || run.stderr}`,
      );
    return { positions: positionsOf(world.servers), endState: world.endState() };
  } finally {
    await world.stop();
  }
}

interface CellOutcome extends Cell {
  duplicates: number;
  /** The `::error::` lines of the runs, for a failing cell's diagnosis (not in the table: they carry ids). */
  detail: string;
}

export interface FaultsResult extends MatrixResult {
  /** `row | column` of every cell that failed or whose first run failed → what its runs said. */
  details: Record<string, string>;
}

async function runCell(
  scenario: Scenario,
  base: Baseline,
  position: Position,
  kind: FaultKind,
  /** The provider stays limited (every later call too) past the action's bound for waiting. */
  past = false,
): Promise<CellOutcome> {
  const world = await scenario.create();
  const row = `${scenario.name}: ${position.label}${past ? ', limited past the deadline' : ''}`;
  const said: string[] = [];
  const cell = (ok: boolean, result: string, duplicates = 0): CellOutcome => ({
    row,
    column: kind.column,
    ok,
    result,
    duplicates,
    detail: said.join(' / '),
  });
  try {
    const server = world.servers.find((s) => s.name === position.server)!;
    const fault = typeof kind.fault === 'function' ? kind.fault(server.name) : kind.fault;
    server.inject({
      route: position.key,
      call: position.call,
      fault,
      ...(past ? { times: Number.POSITIVE_INFINITY } : {}),
    });
    // Limited past the deadline: the waits are the real ones, not scaled down, and the bound
    // (health-timeout 20 s) is shorter than Heroku's first wait (30 s).
    const first = await (past
      ? world.run({ OPS_ACTIONS_TEST_WAIT_SCALE: '' }, { 'health-timeout': '20' })
      : world.run());
    said.push(`run: exit ${first.code} ${first.errors.join(' ')}`);
    const hit = server.requests.some((r) => r.faulted);
    server.clearFaults();
    if (!hit) return cell(false, 'fault not reached');
    const problems: string[] = [];
    const leaks = (run: BundleRun) => world.secrets.filter((s) => run.everything.includes(s)).length;
    let result: string;
    if (first.code === 0) {
      const retried = server.requests.filter((r) => keyOf(r) === position.key).length > position.call;
      result = retried ? 'ok after retry' : 'ok, fault absorbed';
      if (past) problems.push('waited past the deadline');
      if (!isDeepStrictEqual(world.endState(), base.endState)) problems.push('end state differs');
      if (leaks(first) > 0) problems.push('secret leaked');
    } else {
      if (first.code !== 1) problems.push(`exit ${first.code}`);
      if (first.errors.length !== 1) problems.push(`${first.errors.length} errors`);
      else if (!/^Could not \S/.test(first.errors[0]!))
        problems.push('error says not what could not be done');
      else if (past && !/rate limited by \w+ past .*\(HTTP 429/.test(first.errors[0]!))
        problems.push('error names no rate limit');
      if (STACK_LINE.test(first.stdout) || STACK_LINE.test(first.stderr)) problems.push('stack trace');
      if (leaks(first) > 0) problems.push('secret leaked');
      const rerun = await world.run();
      said.push(`re-run: exit ${rerun.code} ${rerun.errors.join(' ')}`);
      const held = rerun.code === 1 && rerun.errors.length === 1 ? world.heldByProvider?.(rerun) : undefined;
      result = held
        ? `clean failure, re-run says ${held}`
        : past
          ? 'clean failure naming the limit, re-run ok'
          : 'clean failure, re-run ok';
      if (held) {
        if (STACK_LINE.test(rerun.stdout) || STACK_LINE.test(rerun.stderr))
          problems.push('stack trace in re-run');
      } else if (rerun.code !== 0) problems.push(`re-run failed (${failedStep(rerun)})`);
      else if (!isDeepStrictEqual(world.endState(), base.endState)) problems.push('re-run end state differs');
      if (leaks(rerun) > 0) problems.push('secret leaked in re-run');
    }
    const duplicates = world.duplicates();
    if (duplicates.length > 0) problems.push(`duplicate: ${duplicates.join(', ')}`);
    const violations = world.servers.flatMap((s) => s.violations);
    if (violations.length > 0) problems.push(`${violations.length} contract violations`);
    if (problems.length > 0) return cell(false, problems.join('; '), duplicates.length);
    return cell(true, result);
  } catch (error) {
    return cell(false, `harness error: ${error instanceof Error ? error.name : 'unknown'}`);
  } finally {
    await world.stop();
  }
}

/** The step a failed run's operations log names, without ids or times, so the cell reads the same run to run. */
function failedStep(run: BundleRun): string {
  const step = run.log.findLast((e) => e.outcome === 'failed')?.step;
  return typeof step === 'string' ? step : `exit ${run.code}`;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const { default: pMap } = await import('p-map');
  return pMap(items, fn, { concurrency: limit });
}

export async function run(scenarios: Scenario[] = SCENARIOS): Promise<FaultsResult> {
  const bases = await mapLimited(scenarios, CONCURRENCY, baseline);
  const jobs = scenarios.flatMap((scenario, i) =>
    bases[i]!.positions.flatMap((position) =>
      FAULTS.map((kind) => ({ scenario, base: bases[i]!, position, kind })),
    ),
  );
  // One provider that stays limited past the deadline: Heroku on the deploy's first read, whose
  // first wait (30 s) is longer than the health-timeout (20 s) this row runs with.
  const heroku = scenarios.indexOf(DEPLOY_HEROKU);
  const firstRead = bases[heroku]?.positions.find((p) => p.server === 'heroku' && p.key === 'app.info');
  const pastDeadline = firstRead
    ? [{ scenario: DEPLOY_HEROKU, base: bases[heroku]!, position: firstRead, kind: RATE_LIMIT, past: true }]
    : [];
  const cells = await mapLimited([...jobs, ...pastDeadline], CONCURRENCY, (j) =>
    runCell(j.scenario, j.base, j.position, j.kind, 'past' in j),
  );
  return {
    name: 'faults',
    title: 'Provider faults',
    description: [
      'Each row is a provider request position of an uninterrupted run of the main path (every mutating request, each call of it; the first call of every read, which stands for the later polls of that read), named `provider operation #call` and sorted by that name.',
      `Each column injects one fault at that position: the provider's own 429 (Heroku: \`RateLimit-Remaining: 0\`, no \`Retry-After\`, waited 30 s ±25 % as heroku-go does; Hetzner: \`RateLimit-Limit/Remaining/Reset\`, no \`Retry-After\`, hcloud-go's 1 s doubling; Fly Machines: no header, the second of the action's own limit; GitHub: a secondary limit with \`retry-after: 1\`; the app endpoint and the results service: \`Retry-After: 1\`), with every wait slept at ${WAIT_SCALE} of its length (the test-only \`OPS_ACTIONS_TEST_WAIT_SCALE\`); 503 (retried as each provider's client does: Hetzner's hcloud-go retries no 503, so there a 503 fails cleanly); a connection dropped after the request was handled (its answer lost); and a hang after it was handled, past the per-attempt timeout (\`OPS_ACTIONS_REQUEST_TIMEOUT=2\`).`,
      "The row marked 'limited past the deadline' keeps answering Heroku's 429 at full length: its first wait, 30 s, would pass the deploy's health-timeout (20 s), so the run must fail at once with one error naming Heroku and the limit.",
      'A cell passes when the run succeeds through retries (✅ ok after retry), or fails cleanly — exit 1, one `::error::` naming the step and the resource, no stack trace — and a re-run without the fault completes with the end state of an uninterrupted run (✅ clean failure, re-run ok), or, where the provider itself keeps what the cut run left and no call can clear it, fails cleanly saying so (✅ clean failure, re-run says …); always with no duplicate mutation, no contract violation and no secret in the output.',
      `Covered: ${scenarios.map((s) => s.covers).join('; ')}.`,
      'Duplicates counted: two creations of one app, coupling, domain, DNS rrset, promotion, build, GitHub deployment or evidence artifact, or a Fly machine updated twice to the same image. Goal: 0.',
    ].join(' '),
    cells: cells.map(({ duplicates: _d, detail: _detail, ...c }) => c),
    totals: { duplicates: cells.reduce((n, c) => n + c.duplicates, 0) },
    details: Object.fromEntries(
      cells
        .filter((c) => !c.ok || !c.detail.startsWith('run: exit 0'))
        .map((c) => [`${c.row} | ${c.column}`, c.detail]),
    ),
  };
}
