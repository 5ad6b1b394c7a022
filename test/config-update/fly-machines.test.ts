import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import { ApiError } from '../../src/core/errors.ts';
import { createFlyClient, flyAuthorization } from '../../src/providers/fly/client.ts';
import { FlyMachines } from '../../src/providers/fly/machines.ts';

let fly: FlyFake;
beforeEach(async () => {
  fly = createFlyFake({ token: 'fm2_clienttoken0123456789abcdef', app: 'smooth', startDelayMs: 100 });
  await fly.start();
});
afterEach(async () => {
  expect(fly.server.violations).toEqual([]);
  await fly.stop();
});

const machines = (token = 'FlyV1 fm2_clienttoken0123456789abcdef') =>
  new FlyMachines(
    createFlyClient({
      baseUrl: `${fly.server.url}/v1`,
      token,
      redact: (t) => t.replaceAll('fm2_clienttoken0123456789abcdef', '[R]'),
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
    }),
    'smooth',
  );

describe('flyAuthorization', () => {
  it.each([
    // As fly-go tokens/tokens.go Parse + FlapsHeader: schemes stripped, macaroons with FlyV1.
    ['FlyV1 fm2_abc,fm2_def', 'FlyV1 fm2_abc,fm2_def'],
    ['  FlyV1 fm2_abc ', 'FlyV1 fm2_abc'],
    ['plain', 'Bearer plain'],
    ['fm2_abc', 'FlyV1 fm2_abc'],
    ['fm1r_abc', 'FlyV1 fm1r_abc'],
    ['fm1a_abc', 'FlyV1 fm1a_abc'],
    ['Bearer fm2_abc', 'FlyV1 fm2_abc'],
    ['bearer plain', 'Bearer plain'],
    ['Bearer FlyV1 fm2_abc', 'FlyV1 fm2_abc'],
    ['FLYV1 BEARER fm2_abc', 'FlyV1 fm2_abc'],
    ['FlyV1 plain', 'Bearer plain'],
    ['fm2_abc, fm1r_def ', 'FlyV1 fm2_abc,fm1r_def'],
    // Macaroons are sent alone: a user token next to them is left out (FlapsHeader).
    ['fo1_user,fm2_abc', 'FlyV1 fm2_abc'],
    ['fo1_user', 'Bearer fo1_user'],
    ['fm3_abc', 'Bearer fm3_abc'],
  ])('%s → %s', (token, header) => {
    expect(flyAuthorization(token)).toBe(header);
  });
});

describe('FlyMachines against the Machines API fake', () => {
  it('lists machines with server-side filters', async () => {
    fly.addMachine({ id: 'a', region: 'ams', processGroup: 'app' });
    fly.addMachine({ id: 'b', region: 'fra', processGroup: 'worker', state: 'stopped' });
    expect((await machines().list()).map((m) => m.id).sort()).toEqual(['a', 'b']);
    expect((await machines().list({ region: 'fra' })).map((m) => m.id)).toEqual(['b']);
    expect((await machines().list({ metadata: { fly_process_group: 'app' } })).map((m) => m.id)).toEqual([
      'a',
    ]);
    expect((await machines().list({ state: ['stopped'] })).map((m) => m.id)).toEqual(['b']);
    expect(fly.server.requests[0]?.headers.authorization).toBe('FlyV1 fm2_clienttoken0123456789abcdef');
  });

  it('retries a list on 503 and says how many attempts it took', async () => {
    fly.addMachine({ id: 'a' });
    fly.server.inject({ route: 'Machines_list', times: 2, fault: { status: 503 } });
    expect(await machines().list()).toHaveLength(1);
    expect(fly.server.received('Machines_list')).toHaveLength(3);
  });

  it('starts a stopped machine and waits until it has started', async () => {
    fly.addMachine({ id: 'z', state: 'stopped' });
    expect(await machines().start('z')).toEqual({ previousState: 'stopped' });
    expect(fly.machine('z')?.state).toBe('starting');
    expect(await machines().wait('z', { state: 'started', timeoutSeconds: 5 })).toEqual({ state: 'started' });
    expect(fly.machine('z')?.state).toBe('started');
    expect((await machines().get('z')).state).toBe('started');
  });

  it('retries a start that hit a 502, as starting twice is harmless', async () => {
    fly.addMachine({ id: 'z', state: 'stopped' });
    fly.server.inject({ route: 'Machines_start', fault: { status: 502 } });
    await machines().start('z');
    expect(fly.server.received('Machines_start')).toHaveLength(2);
  });

  it('names the cause of a refused token with a hint, and does not retry it', async () => {
    const error = await machines('FlyV1 fm2_wrongtoken0123456789abcdefgh')
      .list()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).message).toContain('Check that the Fly API token may manage app smooth');
    expect(fly.server.received('Machines_list')).toHaveLength(1);
  });

  it('points at the machine when it does not exist', async () => {
    const error = (await machines()
      .start('nope')
      .catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(404);
    expect(error.message).toContain('Check that machine nope exists');
  });
});
