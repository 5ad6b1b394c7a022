import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedDemoFleet } from '../sandbox/fleet.ts';
import { type Sandbox, startSandbox } from '../sandbox/index.ts';
import { type BenchResult, median, timeProcess } from './measure.ts';

/**
 * Start-up of each bundle against bare `node -e 0`, alternated so that both see
 * the same machine state, medians compared. Each bundle runs a dry-run that
 * changes nothing. Clone's dry-run must read Heroku and the DNS zone before it
 * can plan (ten GETs to the loopback sandbox), so its start-up is measured up to
 * its first request, and the whole dry-run is printed beside it.
 */

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = 21;
/**
 * A bundle loads @actions/core (and through it @actions/http-client and undici 6)
 * before it reads an input; Octokit, the artifact client and our own undici
 * agent load only when a run uses them. A workflow step costs seconds, so the
 * goal is a bound, not a race: under 4x a bare node.
 */
const GOAL = 4.0;

const dryRuns = (s: Sandbox): Record<string, Record<string, string>> => ({
  clone: {
    name: 'tati',
    'source-app': 'fetlife-prod',
    'heroku-api-key': s.tokens.heroku,
    'heroku-api-url': s.urls.heroku,
    domain: 'shibari.photo',
    'dns-token': s.tokens.hetzner,
    'hetzner-api-url': s.urls.hetzner,
    'dry-run': 'true',
  },
  'config-update': { target: 'kamal', urls: 'http://127.0.0.1:9/update', 'dry-run': 'true' },
  deploy: {
    target: 'heroku',
    'heroku-app': 'a',
    'heroku-api-key': 'k',
    'promote-from': 'b',
    'dry-run': 'true',
  },
  evidence: { milestone: 'gates-pass', 'dry-run': 'true' },
});

export async function benchStartup(): Promise<BenchResult[]> {
  const sandbox = await startSandbox();
  seedDemoFleet(sandbox);
  const firstRequestSince = (since: number) =>
    Math.min(
      ...[sandbox.heroku.server, sandbox.hetzner.server].flatMap((server) =>
        server.requests.filter((r) => r.at >= since).map((r) => r.at - since),
      ),
    );
  try {
    return await measureAll(dryRuns(sandbox), firstRequestSince);
  } finally {
    await sandbox.stop();
  }
}

async function measureAll(
  runs: Record<string, Record<string, string>>,
  firstRequestSince: (since: number) => number,
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const [action, inputs] of Object.entries(runs)) {
    const dir = mkdtempSync(join(tmpdir(), `bench-${action}-`));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      RUNNER_TEMP: dir,
      GITHUB_OUTPUT: join(dir, 'out'),
    };
    writeFileSync(join(dir, 'out'), '');
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    const bundle = join(ROOT, 'dist', action, 'index.js');
    const base: number[] = [];
    const run: number[] = [];
    const toFirstRequest: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      base.push(await timeProcess(['-e', '0'], env, dir));
      const spawned = Date.now();
      run.push(await timeProcess([bundle], env, dir));
      if (action === 'clone') toFirstRequest.push(firstRequestSince(spawned));
    }
    const reads = toFirstRequest.length > 0;
    const measured = reads ? median(toFirstRequest) : median(run);
    const ratio = measured / median(base);
    results.push({
      name: reads ? `startup ${action} (to its first read)` : `startup ${action}`,
      ratio,
      goal: `<= ${GOAL.toFixed(1)}`,
      met: ratio <= GOAL,
      details: {
        bundle_ms: measured.toFixed(1),
        node_ms: median(base).toFixed(1),
        ...(reads ? { whole_dry_run_ms: median(run).toFixed(1) } : {}),
        loaded_kb: ((await loadedBytes(bundle, env, dir)) / 1024).toFixed(1),
      },
    });
  }
  return results;
}

const TRACER = join(ROOT, 'test', 'helpers', 'module-trace.ts');

/**
 * Bytes of the bundle's own files one run loads: the entry and the chunks it imports
 * (the action's code is a chunk loaded after the entry records signals), traced with
 * test/helpers/module-trace.ts.
 */
async function loadedBytes(bundle: string, env: NodeJS.ProcessEnv, dir: string): Promise<number> {
  const trace = join(dir, 'module-trace');
  writeFileSync(trace, '');
  await timeProcess(['--import', TRACER, bundle], { ...env, MODULE_TRACE_FILE: trace }, dir);
  const bundleDir = resolve(bundle, '..');
  const files = new Set(
    readFileSync(trace, 'utf8')
      .split('\n')
      .filter((url) => url.startsWith('file:'))
      .map((url) => fileURLToPath(url))
      .filter((path) => path.startsWith(`${bundleDir}/`)),
  );
  return [...files].reduce((sum, path) => sum + statSync(path).size, 0);
}
