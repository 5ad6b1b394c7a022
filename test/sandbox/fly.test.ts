import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';

let fly: FlyFake;
const auth = { authorization: 'Bearer fly-test-token' };
const json = { ...auth, 'content-type': 'application/json' };

beforeEach(async () => {
  fly = createFlyFake({ startDelayMs: 40, waitSecondMs: 20 });
  await fly.start();
});
afterEach(() => fly.stop());

const machines = () => `${fly.server.url}/v1/apps/test-app/machines`;

describe('fly machines fake', () => {
  it('lists machines filtered by metadata, region and state as the contract allows', async () => {
    fly.addMachine({ id: 'aaa', processGroup: 'app', region: 'ams' });
    fly.addMachine({ id: 'bbb', processGroup: 'worker', region: 'ams' });
    fly.addMachine({ id: 'ccc', processGroup: 'app', region: 'fra', state: 'stopped' });
    const res = await fetch(`${machines()}?metadata.fly_process_group=app&region=ams&state=started`, {
      headers: auth,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; checks: { status: string }[] }[];
    expect(body.map((m) => m.id)).toEqual(['aaa']);
    expect(body[0]!.checks).toEqual([expect.objectContaining({ name: 'http', status: 'passing' })]);
    expect(fly.server.violations).toEqual([]);
  });

  it('accepts FlyV1 tokens and refuses a missing or wrong token with 401 {error}', async () => {
    expect((await fetch(machines(), { headers: { authorization: 'FlyV1 fly-test-token' } })).status).toBe(
      200,
    );
    const missing = await fetch(machines());
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: expect.any(String) });
    expect((await fetch(machines(), { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect(fly.server.violations).toHaveLength(1);
    expect(fly.server.violations[0]!.problems[0]).toMatch(/missing credentials/);
  });

  it('refuses a path that is not in the contract and records it', async () => {
    const res = await fetch(`${fly.server.url}/v1/apps/test-app/machine`, { headers: auth });
    expect(res.status).toBe(404);
    expect(await res.json()).toHaveProperty('error');
    expect(fly.server.violations[0]).toMatchObject({
      path: '/v1/apps/test-app/machine',
      operation: undefined,
    });
  });

  it('refuses a body that breaks the schema in Fly shape', async () => {
    fly.addMachine({ id: 'aaa' });
    const res = await fetch(`${machines()}/aaa`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ config: 'x' }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()) as { error: string }).toEqual({
      error: expect.stringMatching(/body\/config must be object/),
    });
    expect(fly.server.violations[0]!.operation).toBe('Machines_update');
  });

  it('update bumps the version and restarts through replacing/starting to started', async () => {
    const m = fly.addMachine({ id: 'aaa' });
    const before = m.instance_id;
    const res = await fetch(`${machines()}/aaa`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ config: { ...m.config, image: 'registry.fly.io/test-app:deployment-2' } }),
    });
    const updated = (await res.json()) as { instance_id: string; version: string; state: string };
    expect(updated.instance_id).not.toBe(before);
    expect(updated.version).toBe(updated.instance_id);
    expect(updated.state).toBe('replacing');
    const wait = await fetch(
      `${machines()}/aaa/wait?state=started&timeout=10&version=${updated.instance_id}`,
      { headers: auth },
    );
    expect(wait.status).toBe(200);
    expect(await wait.json()).toMatchObject({ ok: true, state: 'started' });
    expect(fly.machine('aaa')!.config.image).toBe('registry.fly.io/test-app:deployment-2');
  });

  it('wait answers 408 when the state is not reached within timeout', async () => {
    fly.addMachine({ id: 'aaa', state: 'stopped' });
    const started = Date.now();
    const res = await fetch(`${machines()}/aaa/wait?state=started&timeout=2`, { headers: auth });
    expect(res.status).toBe(408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(await res.json()).toHaveProperty('error');
  });

  it('wait refuses an unknown state from the contract enum', async () => {
    fly.addMachine({ id: 'aaa' });
    const res = await fetch(`${machines()}/aaa/wait?state=running`, { headers: auth });
    expect(res.status).toBe(400);
    expect(fly.server.violations).toHaveLength(1);
  });

  it('leases: 201 with a nonce, 409 while held, changes need the nonce, release needs the header', async () => {
    fly.addMachine({ id: 'aaa' });
    const lease = await fetch(`${machines()}/aaa/lease`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ ttl: 60 }),
    });
    expect(lease.status).toBe(201);
    const { nonce } = (await lease.json()) as { nonce: string };
    expect(nonce).toMatch(/^[0-9a-f]+$/);
    const second = await fetch(`${machines()}/aaa/lease`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ ttl: 60 }),
    });
    expect(second.status).toBe(409);
    // The body fly-go reads (MachineLease: status, message, code).
    expect(await second.json()).toEqual({
      status: 'error',
      message: expect.stringMatching(
        /^machine ID aaa lease currently held by .+, expires at \d{4}-\d\d-\d\dT[\d:]+Z$/,
      ),
      code: expect.any(String),
    });
    expect((await fetch(`${machines()}/aaa/stop`, { method: 'POST', headers: auth })).status).toBe(409);
    const stop = await fetch(`${machines()}/aaa/stop`, {
      method: 'POST',
      headers: { ...auth, 'fly-machine-lease-nonce': nonce },
    });
    expect(stop.status).toBe(200);

    const noHeader = await fetch(`${machines()}/aaa/lease`, { method: 'DELETE', headers: auth });
    expect(noHeader.status).toBe(400);
    expect(fly.server.violations.at(-1)!.problems).toEqual([
      'missing required header parameter fly-machine-lease-nonce',
    ]);
    const release = await fetch(`${machines()}/aaa/lease`, {
      method: 'DELETE',
      headers: { ...auth, 'fly-machine-lease-nonce': nonce },
    });
    expect(release.status).toBe(200);
    // Still stopping: a start is refused with 412 until the machine has stopped.
    const early = await fetch(`${machines()}/aaa/start`, { method: 'POST', headers: auth });
    expect(early.status).toBe(412);
    expect(await early.json()).toEqual({ error: 'unable to start machine from current state: stopping' });
    await new Promise((r) => setTimeout(r, 80));
    expect((await fetch(`${machines()}/aaa/start`, { method: 'POST', headers: auth })).status).toBe(200);
  });

  it('reports critical checks for an image marked failing', async () => {
    fly.addMachine({ id: 'aaa', image: 'registry.fly.io/test-app:bad' });
    fly.failHealthFor('registry.fly.io/test-app:bad');
    const body = (await (await fetch(`${machines()}/aaa`, { headers: auth })).json()) as {
      checks: { status: string }[];
    };
    expect(body.checks.map((c) => c.status)).toEqual(['critical']);
  });

  it('cordon marks the machine', async () => {
    fly.addMachine({ id: 'aaa' });
    expect((await fetch(`${machines()}/aaa/cordon`, { method: 'POST', headers: auth })).status).toBe(200);
    expect(fly.machine('aaa')!.cordoned).toBe(true);
  });
});

describe('fly app endpoint', () => {
  it('routes by fly-force-instance-id and applies per-machine behaviour', async () => {
    fly.addMachine({ id: 'aaa' });
    fly.addMachine({ id: 'bbb' });
    fly.setAppBehaviour('bbb', { failFirst: 2, failStatus: 502 });
    const call = (id: string) =>
      fetch(`${fly.app.url}/config/update`, { method: 'POST', headers: { 'fly-force-instance-id': id } });
    expect((await call('aaa')).status).toBe(200);
    expect([(await call('bbb')).status, (await call('bbb')).status, (await call('bbb')).status]).toEqual([
      502, 502, 200,
    ]);
    expect(fly.appCalls('bbb')).toHaveLength(3);
    expect(fly.app.requests.map((r) => r.headers['fly-force-instance-id'])).toEqual([
      'aaa',
      'bbb',
      'bbb',
      'bbb',
    ]);
  });

  it('answers 404 for an unknown instance and 503 for a stopped one', async () => {
    fly.addMachine({ id: 'aaa', state: 'stopped' });
    const call = (id: string) => fetch(`${fly.app.url}/x`, { headers: { 'fly-force-instance-id': id } });
    expect((await call('zzz')).status).toBe(404);
    expect((await call('aaa')).status).toBe(503);
    expect(fly.appCalls()).toHaveLength(0);
  });

  it('adds latency and can hang', async () => {
    fly.addMachine({ id: 'aaa' });
    fly.setAppBehaviour('aaa', { latencyMs: 60 });
    const started = Date.now();
    await fetch(`${fly.app.url}/x`, { headers: { 'fly-force-instance-id': 'aaa' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    fly.setAppBehaviour('aaa', { hang: true });
    const hung = fetch(`${fly.app.url}/x`, {
      headers: { 'fly-force-instance-id': 'aaa' },
      signal: AbortSignal.timeout(100),
    });
    await expect(hung).rejects.toThrow();
  });
});

describe('fault injection', () => {
  it('answers the injected status with Retry-After on the Nth call only', async () => {
    fly.server.inject({
      route: 'Machines_list',
      call: 2,
      fault: { status: 429, retryAfter: 3, json: { error: 'rate limited' } },
    });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(machines(), { headers: auth });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 429, 200]);
    expect(retryAfter).toBe('3');
    expect(fly.server.requests.map((r) => r.faulted)).toEqual([false, true, false]);
  });

  it('delays, drops and hangs', async () => {
    fly.server.inject({ route: 'Machines_list', fault: { delayMs: 80 } });
    const started = Date.now();
    expect((await fetch(machines(), { headers: auth })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);

    fly.server.inject({ route: 'Machines_list', fault: { drop: true } });
    await expect(fetch(machines(), { headers: auth })).rejects.toThrow();

    fly.server.inject({ route: 'Machines_list', fault: { hang: true } });
    await expect(fetch(machines(), { headers: auth, signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect(fly.server.requests.map((r) => r.status)).toEqual([200, 'dropped', 'hung']);
  });
});
