import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFlyFake } from '../sandbox/fakes/fly.ts';
import { batchSizes } from '../src/deploy/plan.ts';
import { runBundle } from '../test/helpers/run-bundle.ts';
import type { BenchResult } from './measure.ts';

/**
 * Fly rolling deploys through the committed bundle against the loopback Fly
 * fake, of machines that take 2 s to start: 30 machines with max-unavailable
 * 0.33, and 100 machines with max-unavailable 0.2 (issue 13 §4).
 *
 * Ideal bound: batches x (start + health). Batches are those of the strategy
 * (30 at 0.33: 1, 10, 10, 9 = 4; 100 at 0.2: 1, 20, 20, 20, 20, 19 = 6); start
 * is the fake's start delay (2000 ms, from the update to `started`); health is
 * the fake's time from `started` to every defined check reporting `passing` (0:
 * `checkDelayMs: 0` reports them at `started`). Nothing can be faster: each
 * batch waits for the previous one to be healthy. The wall time is the whole
 * bundle process, start-up, leases and releases included.
 */

const START_MS = 2000;
const HEALTH_MS = 0;

const CASES = [
  { machines: 30, maxUnavailable: 0.33, goal: 1.15 },
  { machines: 100, maxUnavailable: 0.2, goal: 1.1 },
];

export async function benchDeploy(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const c of CASES) results.push(await rollingDeploy(c.machines, c.maxUnavailable, c.goal));
  return results;
}

async function rollingDeploy(machines: number, maxUnavailable: number, goal: number): Promise<BenchResult> {
  const token = 'fo1_benchTOKEN0123456789abcdefghijklmnop';
  const fly = createFlyFake({ token, startDelayMs: START_MS, checkDelayMs: HEALTH_MS });
  await fly.start();
  try {
    const width = String(machines).length;
    for (let i = 0; i < machines; i++) fly.addMachine({ id: `m${String(i + 1).padStart(width, '0')}` });
    const batches = batchSizes(machines, 'rolling', { fraction: maxUnavailable }).length;
    const ideal = batches * (START_MS + HEALTH_MS);
    const started = performance.now();
    const run = await runBundle('deploy', {
      dir: mkdtempSync(join(tmpdir(), 'bench-deploy-')),
      inputs: {
        target: 'fly',
        image: `ghcr.io/acme/web@sha256:${'b'.repeat(64)}`,
        'tag-image': 'false',
        'fly-app': 'test-app',
        'fly-api-token': token,
        'fly-api-url': `${fly.server.url}/v1`,
        'max-unavailable': String(maxUnavailable),
        'health-timeout': '60',
      },
    });
    const wall = performance.now() - started;
    if (run.code !== 0) throw new Error(`bench deploy failed: ${run.errors.join('; ')}`);
    const updated = fly.machines.filter((m) => m.config.image.endsWith('b'.repeat(64))).length;
    if (updated !== machines) throw new Error(`only ${updated} of ${machines} machines were updated`);
    const ratio = wall / ideal;
    return {
      name: `deploy fly rolling ${machines} machines, max-unavailable ${maxUnavailable} (wall / ideal)`,
      ratio,
      goal: `<= ${goal}`,
      met: ratio <= goal,
      details: {
        wall_ms: Math.round(wall),
        ideal_ms: ideal,
        bound: `${batches} batches x (${START_MS} ms start + ${HEALTH_MS} ms health)`.replace(/ /g, '_'),
        requests: fly.server.requests.length,
      },
    };
  } finally {
    await fly.stop();
  }
}
