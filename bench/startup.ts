import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BenchResult, median, timeProcess } from './measure.ts';

/**
 * Start-up of each bundle against bare `node -e 0`, alternated so that both see
 * the same machine state, medians compared. Each bundle runs a dry-run that
 * sends nothing.
 */

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = 21;

const DRY_RUNS: Record<string, Record<string, string>> = {
  clone: {
    name: 'tati',
    'source-app': 'fetlife-prod',
    'heroku-api-key': 'k',
    'dns-provider': 'none',
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
};

export async function benchStartup(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const [action, inputs] of Object.entries(DRY_RUNS)) {
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
    for (let i = 0; i < ROUNDS; i++) {
      base.push(await timeProcess(['-e', '0'], env, dir));
      run.push(await timeProcess([bundle], env, dir));
    }
    const ratio = median(run) / median(base);
    results.push({
      name: `startup ${action}`,
      ratio,
      goal: '<= 2.0',
      met: ratio <= 2.0,
      details: {
        bundle_ms: median(run).toFixed(1),
        node_ms: median(base).toFixed(1),
        bundle_kb: (statSync(bundle).size / 1024).toFixed(1),
      },
    });
  }
  return results;
}
