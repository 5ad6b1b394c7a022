import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHetznerFake, type HetznerFake } from '../../sandbox/fakes/hetzner.ts';

let hz: HetznerFake;
const headers = { authorization: 'Bearer hetzner-test-token', 'content-type': 'application/json' };
const post = (path: string, body: unknown) =>
  fetch(`${hz.server.url}/v1${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
const get = (path: string, h: Record<string, string> = headers) =>
  fetch(`${hz.server.url}/v1${path}`, { headers: h });

beforeEach(async () => {
  hz = createHetznerFake({ actionDelayMs: 40 });
  hz.addZone({
    id: 42,
    name: 'example.com',
    rrsets: [{ name: 'www', type: 'A', records: [{ value: '192.0.2.1' }] }],
  });
  await hz.start();
});
afterEach(() => hz.stop());

describe('hetzner cloud dns fake', () => {
  it('finds zones by id or name and sends rate-limit headers', async () => {
    const byName = await get('/zones/example.com');
    expect(byName.status).toBe(200);
    expect(((await byName.json()) as { zone: { id: number } }).zone.id).toBe(42);
    expect(((await (await get('/zones/42')).json()) as { zone: { name: string } }).zone.name).toBe(
      'example.com',
    );
    expect(byName.headers.get('ratelimit-limit')).toBe('3600');
    expect(Number(byName.headers.get('ratelimit-remaining'))).toBeLessThan(3600);
    expect(Number(byName.headers.get('ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    const list = (await (await get('/zones?name=example.com')).json()) as { zones: unknown[]; meta: unknown };
    expect(list.zones).toHaveLength(1);
    expect(hz.server.violations).toEqual([]);
  });

  it('creates an rrset with a running action that later succeeds', async () => {
    const res = await post('/zones/example.com/rrsets', {
      name: 'api',
      type: 'A',
      ttl: 300,
      records: [{ value: '192.0.2.7' }],
    });
    expect(res.status).toBe(201);
    const { rrset, action } = (await res.json()) as {
      rrset: { id: string };
      action: { id: number; status: string };
    };
    expect(rrset.id).toBe('api/A');
    expect(action.status).toBe('running');
    await new Promise((r) => setTimeout(r, 50));
    const done = (await (await get(`/zones/actions/${action.id}`)).json()) as {
      action: { status: string; progress: number };
    };
    expect(done.action).toMatchObject({ status: 'success', progress: 100 });
    const viaZone = await get(`/zones/42/actions/${action.id}`);
    expect(viaZone.status).toBe(200);
  });

  it('set_records, add_records and change_ttl change the rrset', async () => {
    expect(
      (await post('/zones/42/rrsets/www/A/actions/set_records', { records: [{ value: '192.0.2.9' }] }))
        .status,
    ).toBe(201);
    expect(
      (await post('/zones/42/rrsets/www/A/actions/add_records', { records: [{ value: '192.0.2.10' }] }))
        .status,
    ).toBe(201);
    expect((await post('/zones/42/rrsets/www/A/actions/change_ttl', { ttl: 60 })).status).toBe(201);
    const { rrset } = (await (await get('/zones/42/rrsets/www/A')).json()) as {
      rrset: { ttl: number; records: { value: string }[] };
    };
    expect(rrset.ttl).toBe(60);
    expect(rrset.records.map((r) => r.value)).toEqual(['192.0.2.9', '192.0.2.10']);
    expect(hz.state.actions.map((a) => a.command)).toEqual([
      'set_rrset_records',
      'add_rrset_records',
      'change_rrset_ttl',
    ]);
  });

  it('answers 409 uniqueness_error for an existing rrset and 404 not_found for a missing one', async () => {
    const dup = await post('/zones/42/rrsets', { name: 'www', type: 'A', records: [{ value: '192.0.2.1' }] });
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as { error: { code: string } }).error.code).toBe('uniqueness_error');
    const missing = await get('/zones/42/rrsets/nope/A');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: 'not_found', message: expect.any(String), details: {} },
    });
  });

  it('refuses names that are not lowercase and relative', async () => {
    const res = await post('/zones/42/rrsets', {
      name: 'API.example.com',
      type: 'A',
      records: [{ value: '192.0.2.1' }],
    });
    expect(res.status).toBe(422);
    const { error } = (await res.json()) as {
      error: { code: string; details: { fields: { name: string }[] } };
    };
    expect(error.code).toBe('invalid_input');
    expect(error.details.fields[0]!.name).toBe('name');
  });

  it('refuses a body that breaks the schema with invalid_input and records the violation', async () => {
    const res = await post('/zones/42/rrsets', { name: 'api', type: 'BOGUS', records: 'x' });
    expect(res.status).toBe(422);
    const { error } = (await res.json()) as {
      error: { code: string; details: { fields: { name: string }[] } };
    };
    expect(error.code).toBe('invalid_input');
    expect(error.details.fields.map((f) => f.name).sort()).toEqual(['records', 'type']);
    expect(hz.server.violations[0]!.operation).toBe('create_rrset');
    expect(hz.zone(42)!.rrsets).toHaveLength(1);
  });

  it('refuses a wrong path and a missing token', async () => {
    const wrong = await get('/zone/42');
    expect(wrong.status).toBe(404);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const anonymous = await get('/zones/42', {});
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect(hz.server.violations.map((v) => v.path)).toEqual(['/v1/zone/42', '/v1/zones/42']);
  });

  it('reports a failed action as error once it finishes', async () => {
    hz.failNextAction('incorrect_zone_mode', 'zone is secondary');
    const res = await post('/zones/42/rrsets/www/A/actions/change_ttl', { ttl: 60 });
    const { action } = (await res.json()) as { action: { id: number } };
    await new Promise((r) => setTimeout(r, 50));
    const done = (await (await get(`/zones/actions/${action.id}`)).json()) as {
      action: { status: string; error: { code: string } };
    };
    expect(done.action.status).toBe('error');
    expect(done.action.error.code).toBe('incorrect_zone_mode');
  });
});
