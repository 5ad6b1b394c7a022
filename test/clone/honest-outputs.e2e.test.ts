import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorld, type World } from './world.ts';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

/** The outputs that say a clone exists: a later `if:` on any of them must not fire for these runs. */
const CLAIMS = ['app-name', 'app-id', 'heroku-url', 'subdomain-url', 'dns-target', 'record'];

function steps(outputs: Record<string, string>): string[] {
  return (JSON.parse(outputs.plan ?? '[]') as { step: string; status: string }[]).map(
    (s) => `${s.step}:${s.status}`,
  );
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 25));
}

describe('clone outputs claim only what happened (committed bundle)', () => {
  it('a dry run, a failure mid-way and a cancel set only plan and log-file', async () => {
    w = await createWorld({ acmDelayMs: 100, promotionDelayMs: 100 });

    const dry = await w.run({ 'dry-run': 'true' });
    expect(dry.code).toBe(0);
    expect(Object.keys(dry.outputs).sort()).toEqual(['log-file', 'plan']);
    expect(steps(dry.outputs).every((s) => s.endsWith(':would-create'))).toBe(true);

    // The app and its domain exist, the DNS record does not: still no clone to name.
    w.hetzner.server.inject({
      route: 'create_rrset',
      fault: { status: 403, json: { error: { code: 'forbidden', message: 'injected' } } },
    });
    const failed = await w.run();
    expect(failed.code).toBe(1);
    expect(Object.keys(failed.outputs).sort()).toEqual(['log-file', 'plan']);
    expect(steps(failed.outputs)).toContain('dns.upsert:failed');
    w.hetzner.server.clearFaults();

    // SIGINT to the bundle while it waits for the promotion, as the runner cancels a job.
    const world = w;
    world.heroku.server.inject({ route: 'pipeline-promotion-target.list', fault: { delayMs: 60_000 } });
    let child: ChildProcess | undefined;
    const running = world.run({}, { onSpawn: (c) => (child = c) });
    await until(() => world.heroku.server.requests.some((r) => r.faulted) && child?.pid !== undefined);
    process.kill(child!.pid!, 'SIGINT');
    const cancelled = await running;
    world.heroku.server.clearFaults();
    expect(cancelled.code).toBe(1);
    expect(cancelled.summary).toMatch(/cancelled/i);
    for (const run of [dry, failed, cancelled])
      for (const name of CLAIMS) expect(run.outputs[name], name).toBeUndefined();
    expect(steps(cancelled.outputs)).toContain('dns.upsert:done');
  }, 60_000);
});
