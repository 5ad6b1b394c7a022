import { afterEach, describe, expect, it } from 'vitest';
import type { FlyFake } from '../../sandbox/fakes/fly.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { summaryRow, summaryTables } from '../helpers/summary-tables.ts';
import {
  AUTH_TOKEN,
  expectNoSecrets,
  FLY_TOKEN,
  FLY_TOKEN_VALUE,
  flyInputs,
  progressLines,
  resultsOf,
  startFly,
} from './fixtures.ts';

let fly: FlyFake | undefined;
afterEach(async () => {
  if (fly) {
    expect(fly.server.violations).toEqual([]);
    expect(fly.app.violations).toEqual([]);
    await fly.stop();
  }
  fly = undefined;
});

describe('config-update on Fly (bundle against the sandbox)', () => {
  it('sends exactly one request to every started machine and skips stopped ones', async () => {
    fly = await startFly();
    const ids = ['e100', 'e200', 'e300', 'e400'];
    for (const [i, id] of ids.entries()) fly.addMachine({ id, region: i % 2 ? 'fra' : 'ams' });
    fly.addMachine({ id: 'e500', state: 'stopped' });
    const run = await runBundle('config-update', { inputs: flyInputs(fly, { body: '{"reason":"test"}' }) });

    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    for (const id of ids) expect(fly.appCalls(id)).toHaveLength(1);
    expect(fly.appCalls('e500')).toHaveLength(0);
    const appRequests = fly.app.requests;
    expect(appRequests).toHaveLength(4);
    for (const req of appRequests) {
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/showcase/update_config');
      expect(req.headers.authorization).toBe(`Bearer ${AUTH_TOKEN}`);
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.json).toEqual({ reason: 'test' });
    }
    expect(appRequests.map((r) => r.headers['fly-force-instance-id']).sort()).toEqual(ids);
    // FlyV1 tokens go to the Machines API as they are.
    expect(fly.server.requests[0]?.headers.authorization).toBe(FLY_TOKEN);

    expect(run.stdout).toContain('Will update 4 machines');
    expect(run.stdout).toMatch(/Skipped e500 \(ams\): machine is stopped/);
    expect(progressLines(run.stdout)).toHaveLength(4);
    expect(run.stdout).toMatch(/Done in .*: 4 ok, 0 failed, 1 skipped of 5/);
    expect(run.outputs).toMatchObject({ total: '5', succeeded: '4', failed: '0', skipped: '1' });
    const results = resultsOf(run.outputs);
    expect(results.map((r) => [r.id, r.outcome, r.status, r.attempts])).toEqual([
      ['e100', 'ok', 200, 1],
      ['e200', 'ok', 200, 1],
      ['e300', 'ok', 200, 1],
      ['e400', 'ok', 200, 1],
      ['e500', 'skipped', null, 0],
    ]);
    expect(results[1]).toMatchObject({
      region: 'fra',
      url: `${fly.app.url}/showcase/update_config`,
      error: null,
    });
    expect(summaryTables(run.summary)[0]?.[0]?.slice(0, 3)).toEqual(['target', 'region', 'outcome']);
    expect(run.summary).toContain('```mermaid');
    expect(run.summary).toContain('gantt');
    expect(run.log.filter((e) => e.step === 'update' && e.outcome === 'ok')).toHaveLength(4);
    expect(run.log.find((e) => e.step === 'discover')).toMatchObject({ outcome: 'ok' });
    expectNoSecrets(run.everything);
  });

  it('filters by region and process group, and sends Bearer for plain tokens', async () => {
    fly = await startFly({ token: 'plain-canary-token-123' });
    fly.addMachine({ id: 'a1', region: 'ams', processGroup: 'app' });
    fly.addMachine({ id: 'a2', region: 'fra', processGroup: 'app' });
    fly.addMachine({ id: 'a3', region: 'iad', processGroup: 'app' });
    fly.addMachine({ id: 'w1', region: 'ams', processGroup: 'worker' });
    const run = await runBundle('config-update', {
      inputs: flyInputs(fly, {
        'fly-api-token': 'plain-canary-token-123',
        regions: 'AMS, fra',
        'process-group': 'app',
        method: 'put',
      }),
    });
    expect(run.errors).toEqual([]);
    expect(fly.server.requests[0]?.headers.authorization).toBe('Bearer plain-canary-token-123');
    expect(fly.app.requests.map((r) => [r.method, r.headers['fly-force-instance-id']]).sort()).toEqual([
      ['PUT', 'a1'],
      ['PUT', 'a2'],
    ]);
    expect(run.stdout).toContain('Will update 2 machines');
    expect(run.everything).not.toContain('plain-canary-token-123');
  });

  it('counts attempts: 503 then 200 succeeds on the second, always-500 fails after every retry', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'flaky' });
    fly.addMachine({ id: 'broken', region: 'fra' });
    fly.addMachine({ id: 'fine' });
    fly.setAppBehaviour('flaky', { statuses: [503] });
    fly.setAppBehaviour('broken', { status: 500 });
    const run = await runBundle('config-update', { inputs: flyInputs(fly, { retries: '2' }) });

    expect(fly.appCalls('flaky')).toHaveLength(2);
    expect(fly.appCalls('broken')).toHaveLength(3);
    expect(fly.appCalls('fine')).toHaveLength(1);
    const byId = Object.fromEntries(resultsOf(run.outputs).map((r) => [r.id, r]));
    expect(byId.flaky).toMatchObject({ outcome: 'ok', status: 200, attempts: 2 });
    expect(byId.broken).toMatchObject({ outcome: 'failed', status: 500, attempts: 3 });
    expect(byId.broken?.error).toBe('HTTP 500: instance broken answered 500');
    expect(run.stdout).toMatch(/broken \(fra\) failed status=500 attempts=3 \d+ms - HTTP 500/);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^Could not update 1 of 3 targets: more than max-failures \(0\) failed: broken/,
    );
    expect(run.log.filter((e) => e.outcome === 'retried')).toHaveLength(3);
  });

  it('retries: 0 holds for the machine listing too: one 503 fails the step, nothing is sent', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'm1' });
    fly.server.inject({ route: 'Machines_list', fault: { status: 503 } });
    const run = await runBundle('config-update', { inputs: flyInputs(fly, { retries: '0' }) });
    expect(run.code).toBe(1);
    expect(fly.server.received('Machines_list')).toHaveLength(1);
    expect(run.errors).toEqual([
      expect.stringMatching(/^Could not list the machines of Fly app smooth: .*503/),
    ]);
    expect(run.stdout).not.toContain('retrying Fly Machines');
    expect(fly.app.requests).toHaveLength(0);
  });

  it('passes when failures stay within max-failures', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'm1' });
    fly.addMachine({ id: 'm2' });
    fly.setAppBehaviour('m2', { status: 404 });
    const run = await runBundle('config-update', { inputs: flyInputs(fly, { 'max-failures': '1' }) });
    expect(run.code).toBe(0);
    expect(run.errors).toEqual([]);
    // 404 is not retryable
    expect(fly.appCalls('m2')).toHaveLength(1);
    expect(run.outputs).toMatchObject({ succeeded: '1', failed: '1' });
    // The step passes, but the failure is an annotation on the run, naming the target.
    const warnings = run.stdout.split('\n').filter((l) => l.startsWith('::warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^::warning::1 of 2 targets failed, within max-failures \(1\): m2 \(HTTP 404/,
    );
  });

  it('waits out a 429 with Retry-After: 2', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'm1' });
    fly.app.inject({ route: 'app', call: 1, fault: { status: 429, retryAfter: 2 } });
    const run = await runBundle('config-update', { inputs: flyInputs(fly) });
    expect(run.code).toBe(0);
    const [first, second] = fly.app.requests;
    expect(first?.status).toBe(429);
    expect(second?.status).toBe(200);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
    expect(resultsOf(run.outputs)[0]).toMatchObject({ outcome: 'ok', attempts: 2, status: 200 });
  });

  it('cuts an attempt that never answers at timeout', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'mute' });
    fly.addMachine({ id: 'fine' });
    fly.setAppBehaviour('mute', { hang: true });
    const run = await runBundle('config-update', {
      inputs: flyInputs(fly, { timeout: '1', retries: '1', 'max-failures': '1' }),
    });
    expect(run.code).toBe(0);
    expect(fly.appCalls('mute')).toHaveLength(2);
    const mute = resultsOf(run.outputs).find((r) => r.id === 'mute');
    expect(mute).toMatchObject({
      outcome: 'failed',
      status: null,
      attempts: 2,
      error: 'no answer within 1000 ms',
    });
    expect(mute!.ms).toBeGreaterThanOrEqual(1900);
    expect(mute!.ms).toBeLessThan(10_000);
  });

  it('wakes a stopped machine: start, wait until started, then the update call', async () => {
    fly = await startFly({ startDelayMs: 300 });
    fly.addMachine({ id: 'sleepy', state: 'stopped' });
    fly.addMachine({ id: 'awake' });
    const run = await runBundle('config-update', { inputs: flyInputs(fly, { 'stopped-machines': 'wake' }) });
    expect(run.errors).toEqual([]);
    const start = fly.server.received('Machines_start');
    const wait = fly.server.received('Machines_wait');
    expect(start.map((r) => r.path)).toEqual(['/v1/apps/smooth/machines/sleepy/start']);
    expect(wait).toHaveLength(1);
    expect(wait[0]?.query).toContain('state=started');
    const call = fly.appCalls('sleepy');
    expect(call).toHaveLength(1);
    // the wait answers only once the machine has started, so the call lands on a started machine
    expect(start[0]!.at).toBeLessThanOrEqual(wait[0]!.at);
    expect(fly.app.requests.find((r) => r.headers['fly-force-instance-id'] === 'sleepy')?.status).toBe(200);
    expect(call[0]!.at - start[0]!.at).toBeGreaterThanOrEqual(250);
    expect(fly.machine('sleepy')?.state).toBe('started');
    expect(run.stdout).toContain('Will update 2 machines (1 to wake first)');
    expect(run.stdout).toMatch(/sleepy \(ams\) ok \(woken\) status=200/);
  });

  it('wakes a machine listed while it was suspending: the 412 from /start is waited out, then it resumes', async () => {
    fly = await startFly({ startDelayMs: 200 });
    fly.addMachine({ id: 'napping' });
    fly.beginStop('napping', 1500, 'suspended');
    const run = await runBundle('config-update', { inputs: flyInputs(fly, { 'stopped-machines': 'wake' }) });
    expect(run.errors).toEqual([]);
    const starts = fly.server.received('Machines_start');
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts.slice(0, -1).every((r) => r.status === 412)).toBe(true);
    expect(starts.at(-1)!.status).toBe(200);
    // The last start came once the machine had settled suspended, and the call reached it started.
    expect(fly.appCalls('napping')).toHaveLength(1);
    expect(fly.app.requests[0]!.status).toBe(200);
    expect(fly.machine('napping')?.state).toBe('started');
    expect(run.stdout).toMatch(/napping \(ams\) ok \(woken\) status=200/);
  });

  it('a machine stuck stopping past the timeout fails, named with the 412 reason, and nothing is sent to it', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'stuck' });
    fly.beginStop('stuck', 60_000);
    const run = await runBundle('config-update', {
      inputs: flyInputs(fly, { 'stopped-machines': 'wake', timeout: '2' }),
    });
    expect(run.code).toBe(1);
    expect(fly.appCalls('stuck')).toHaveLength(0);
    const [result] = resultsOf(run.outputs);
    expect(result).toMatchObject({ id: 'stuck', outcome: 'failed', status: null, attempts: 0 });
    expect(result!.error).toBe(
      'waking the machine: POST /start still answered 412 after 2.0 s: unable to start machine from current state: stopping',
    );
  });

  it('counts stopped machines as failed with stopped-machines: fail', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'up' });
    fly.addMachine({ id: 'down', state: 'stopped' });
    const run = await runBundle('config-update', { inputs: flyInputs(fly, { 'stopped-machines': 'fail' }) });
    expect(run.code).toBe(1);
    expect(fly.appCalls('down')).toHaveLength(0);
    expect(fly.server.received('Machines_start')).toHaveLength(0);
    expect(run.outputs).toMatchObject({ total: '2', succeeded: '1', failed: '1' });
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('down (machine is stopped (stopped-machines: fail))');
  });

  it('shards 1/3, 2/3 and 3/3 together reach every machine exactly once', async () => {
    fly = await startFly();
    const ids = ['m01', 'm02', 'm03', 'm04', 'm05', 'm06', 'm07'];
    for (const id of [...ids].reverse()) fly.addMachine({ id });
    const runs = [];
    for (const shard of ['1/3', '2/3', '3/3']) {
      runs.push(await runBundle('config-update', { inputs: flyInputs(fly, { shard }) }));
    }
    for (const run of runs) expect(run.code).toBe(0);
    const calls = fly.app.requests.map((r) => r.headers['fly-force-instance-id']);
    expect([...calls].sort()).toEqual(ids);
    expect(runs.map((r) => resultsOf(r.outputs).map((x) => x.id))).toEqual([
      ['m01', 'm04', 'm07'],
      ['m02', 'm05'],
      ['m03', 'm06'],
    ]);
    expect(runs[1]!.stdout).toContain('Shard 2/3: 2 of 7 targets');
  });

  it('warns when no machine matches, and succeeds having sent nothing', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'm1', region: 'ams' });
    const run = await runBundle('config-update', { inputs: flyInputs(fly, { regions: 'syd' }) });
    expect(run.code).toBe(0);
    expect(fly.app.requests).toHaveLength(0);
    expect(run.stdout).toContain(
      '::warning::No machines to update: Fly app smooth: 1 machines listed, 0 match regions syd',
    );
    expect(run.stdout).toContain('Will update 0 machines');
    expect(run.outputs).toMatchObject({
      total: '0',
      succeeded: '0',
      failed: '0',
      skipped: '0',
      results: '[]',
    });
  });

  it('dry-run lists the machines and the request and sends nothing to them', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'm1', region: 'ams' });
    fly.addMachine({ id: 'm2', region: 'fra', state: 'stopped' });
    const run = await runBundle('config-update', {
      inputs: flyInputs(fly, {
        'dry-run': 'true',
        'stopped-machines': 'wake',
        headers: 'X-Api-Key: canary-header-secret\nX-Trace: on',
      }),
    });
    expect(run.code).toBe(0);
    expect(fly.app.requests).toHaveLength(0);
    expect(fly.server.requests.map((r) => r.operation)).toEqual(['Machines_list']);
    expect(run.stdout).toContain('Dry run: would update 2 machines; nothing is sent to them.');
    expect(run.stdout).toContain(`POST ${fly.app.url}/showcase/update_config`);
    expect(run.stdout).toMatch(/authorization: Bearer \[REDACTED/);
    expect(run.stdout).toContain('X-Api-Key: [REDACTED]');
    expect(run.stdout).toContain('X-Trace: on');
    expect(run.stdout).toContain('fly-force-instance-id: <machine id>');
    expect(run.stdout).toContain('m2 (fra): start machine, wait until started, then POST');
    expect(run.stdout).not.toContain('Will update');
    // Both would be sent the update (m2 woken first): planned, not skipped, and no error.
    expect(run.outputs).toMatchObject({ total: '2', succeeded: '0', failed: '0', skipped: '0' });
    expect(resultsOf(run.outputs).map((r) => [r.id, r.outcome, r.error])).toEqual([
      ['m1', 'planned', null],
      ['m2', 'planned', null],
    ]);
    expect(run.summary).toContain('Dry run');
    expect(run.summary).toContain('**2 planned**');
    expect(summaryRow(run.summary, 'm1')?.slice(0, 3)).toEqual(['m1', 'ams', '📝 planned']);
    expect(run.everything).not.toContain('canary-header-secret');
    expectNoSecrets(run.everything);
  });

  it.each([
    [{ 'fly-app': '' }, "Input 'fly-app' is required"],
    [{ target: 'nomad' }, "Input 'target' must be one of fly, kamal"],
    [{ 'stopped-machines': 'reboot' }, "Input 'stopped-machines' must be one of skip, wake, fail"],
    [{ headers: 'Authorization: Bearer x' }, "Input 'headers' sets Authorization"],
  ])('fails before any request on bad input %o', async (extra, message) => {
    fly = await startFly();
    fly.addMachine({ id: 'm1' });
    const run = await runBundle('config-update', { inputs: flyInputs(fly, extra) });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(message);
    expect(fly.server.requests).toHaveLength(0);
    expect(fly.app.requests).toHaveLength(0);
    expectNoSecrets(run.everything);
  });

  it('never prints a token an endpoint echoes back', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'echo' });
    const echoed = {
      error: `denied for Authorization: Bearer ${AUTH_TOKEN}, fly token ${FLY_TOKEN}`,
      token: AUTH_TOKEN,
      raw: FLY_TOKEN_VALUE,
    };
    fly.app.inject({ route: 'app', call: 1, times: Infinity, fault: { status: 500, json: echoed } });
    const run = await runBundle('config-update', { inputs: flyInputs(fly, { retries: '1' }) });
    expect(run.code).toBe(1);
    expect(fly.app.requests).toHaveLength(2);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('HTTP 500: denied for');
    expectNoSecrets(run.everything);
  });

  it('names the app and never the token when the Machines API refuses it', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'm1' });
    fly.server.inject({
      route: 'Machines_list',
      fault: { status: 401, json: { error: `token ${FLY_TOKEN} is not valid` } },
    });
    const run = await runBundle('config-update', { inputs: flyInputs(fly) });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^Could not list the machines of Fly app smooth: fly-api-token was refused by Fly Machines \(401: /,
    );
    expect(run.errors[0]).toContain('Check that the Fly API token may manage app smooth');
    expect(fly.app.requests).toHaveLength(0);
    expectNoSecrets(run.everything);
  });

  it('refuses a machine list that answers one machine twice: one error, nothing sent (issue 17 review)', async () => {
    fly = await startFly();
    fly.addMachine({ id: 'e100', region: 'ams' });
    fly.addMachine({ id: 'e200', region: 'fra' });
    // As the fake lists it, once more after the first entry: it was updated twice.
    const again = { id: 'e200', state: 'started', region: 'fra', instance_id: 'v1', config: null };
    fly.server.inject({
      route: 'Machines_list',
      times: Number.POSITIVE_INFINITY,
      fault: { listEntries: { entries: [again] } },
    });
    const run = await runBundle('config-update', { inputs: flyInputs(fly) });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        /^Could not list the machines of Fly app smooth: Fly Machines GET \/v1\/apps\/smooth\/machines failed: answered a list whose entries \d and \d of 3 have the same "id"; each must appear once/,
      ),
    ]);
    expect(fly.app.requests).toHaveLength(0);
  });
});
