import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFlyFake } from '../sandbox/fakes/fly.ts';
import { batchSizes } from '../src/deploy/plan.ts';
import { runBundle } from '../test/helpers/run-bundle.ts';
import type { BenchResult } from './measure.ts';

/**
 * A fly rolling deploy of 30 machines that take 2 s to start, max-unavailable
 * 0.33, run through the committed bundle against the loopback Fly fake.
 *
 * Ideal bound: batches x (start + health). Batches are those of the strategy
 * (1, 10, 10, 9 = 4); start is the fake's start delay (2000 ms, from the update
 * to `started`); health is the fake's time from `started` to passing checks (0:
 * its checks pass as soon as the machine is started). Nothing can be faster:
 * each batch waits for the previous one to be healthy. The wall time is the
 * whole bundle process, start-up, leases and releases included.
 */

const MACHINES = 30;
const START_MS = 2000;
const HEALTH_MS = 0;
const GOAL = 1.15;

export async function benchDeploy(): Promise<BenchResult[]> {
  const token = 'fo1_benchTOKEN0123456789abcdefghijklmnop';
  const fly = createFlyFake({ token, startDelayMs: START_MS });
  await fly.start();
  try {
    for (let i = 0; i < MACHINES; i++) fly.addMachine({ id: `m${String(i + 1).padStart(2, '0')}` });
    const batches = batchSizes(MACHINES, 'rolling', { fraction: 0.33 }).length;
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
        'max-unavailable': '0.33',
        'health-timeout': '60',
      },
    });
    const wall = performance.now() - started;
    if (run.code !== 0) throw new Error(`bench deploy failed: ${run.errors.join('; ')}`);
    const updated = fly.machines.filter((m) => m.config.image.endsWith('b'.repeat(64))).length;
    if (updated !== MACHINES) throw new Error(`only ${updated} of ${MACHINES} machines were updated`);
    const ratio = wall / ideal;
    return [
      {
        name: 'deploy fly rolling 30 machines (wall / ideal)',
        ratio,
        goal: `<= ${GOAL}`,
        met: ratio <= GOAL,
        details: {
          wall_ms: Math.round(wall),
          ideal_ms: ideal,
          bound: `${batches} batches x (${START_MS} ms start + ${HEALTH_MS} ms health)`.replace(/ /g, '_'),
          requests: fly.server.requests.length,
        },
      },
    ];
  } finally {
    await fly.stop();
  }
}
