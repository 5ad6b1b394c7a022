/**
 * `npm run bench`: every benchmark, each a ratio against a baseline measured in
 * the same run. Prints one line per figure and writes .tmp/bench.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { benchConfigUpdate } from './config-update.ts';
import { benchDeploy } from './deploy.ts';
import { benchEvidence, benchRedactionOnly } from './evidence.ts';
import { type BenchResult, report } from './measure.ts';
import { benchSshSwitch } from './ssh-switch.ts';
import { benchStartup } from './startup.ts';

const benches: Record<string, () => Promise<BenchResult[]>> = {
  startup: benchStartup,
  evidence: benchEvidence,
  redaction: benchRedactionOnly,
  deploy: benchDeploy,
  'ssh-switch': benchSshSwitch,
  'config-update': benchConfigUpdate,
};

const only = process.argv.slice(2);
const all: BenchResult[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  for (const result of await bench()) {
    report(result);
    all.push(result);
  }
}
const out = resolve(import.meta.dirname, '..', '.tmp');
mkdirSync(out, { recursive: true });
writeFileSync(resolve(out, 'bench.json'), `${JSON.stringify(all, null, 2)}\n`);
