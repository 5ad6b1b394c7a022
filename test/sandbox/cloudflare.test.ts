import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CloudflareFake, createCloudflareFake } from '../../sandbox/fakes/cloudflare.ts';

let cf: CloudflareFake;
let zoneId: string;
const headers = { authorization: 'Bearer cloudflare-test-token', 'content-type': 'application/json' };
const call = (method: string, path: string, body?: unknown, h: Record<string, string> = headers) =>
  fetch(`${cf.server.url}/client/v4${path}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeEach(async () => {
  cf = createCloudflareFake();
  zoneId = cf.addZone({ name: 'example.com' }).id;
  cf.addRecord('example.com', { name: 'www', type: 'A', content: '192.0.2.1' });
  await cf.start();
});
afterEach(() => cf.stop());

describe('cloudflare fake', () => {
  it('finds a zone by name in the envelope with result_info', async () => {
    const body = (await (await call('GET', '/zones?name=example.com')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ success: true, errors: [], result: [{ id: zoneId, name: 'example.com' }] });
    expect(body.result_info).toMatchObject({ count: 1, total_count: 1 });
    expect(cf.server.violations).toEqual([]);
  });

  it('creates, filters, patches, replaces and deletes records', async () => {
    const created = await call('POST', `/zones/${zoneId}/dns_records`, {
      type: 'A',
      name: 'api',
      content: '192.0.2.5',
      ttl: 300,
    });
    expect(created.status).toBe(200);
    const { result } = (await created.json()) as { result: { id: string; name: string } };
    expect(result.name).toBe('api.example.com');
    const listed = (await (
      await call('GET', `/zones/${zoneId}/dns_records?type=A&name=api.example.com`)
    ).json()) as { result: { id: string }[] };
    expect(listed.result.map((r) => r.id)).toEqual([result.id]);
    // The 2024 contract requires type, name and content on PATCH too; ttl is left out and kept.
    const patched = await call('PATCH', `/zones/${zoneId}/dns_records/${result.id}`, {
      type: 'A',
      name: 'api',
      content: '192.0.2.6',
    });
    expect(patched.status).toBe(200);
    expect(cf.records().find((r) => r.id === result.id)).toMatchObject({ content: '192.0.2.6', ttl: 300 });
    await call('PUT', `/zones/${zoneId}/dns_records/${result.id}`, {
      type: 'A',
      name: 'api',
      content: '192.0.2.7',
    });
    expect(cf.records().find((r) => r.id === result.id)).toMatchObject({ content: '192.0.2.7', ttl: 1 });
    const deleted = await call('DELETE', `/zones/${zoneId}/dns_records/${result.id}`);
    expect(await deleted.json()).toMatchObject({ success: true, result: { id: result.id } });
    const gone = await call('GET', `/zones/${zoneId}/dns_records/${result.id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ success: false, errors: [{ code: 81044 }] });
    expect(cf.server.violations).toEqual([]);
  });

  it('refuses an identical record', async () => {
    const res = await call('POST', `/zones/${zoneId}/dns_records`, {
      type: 'A',
      name: 'www',
      content: '192.0.2.1',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ success: false, errors: [{ code: 81058 }] });
  });

  it('refuses a body that breaks the schema in the error envelope', async () => {
    const res = await call('POST', `/zones/${zoneId}/dns_records`, { type: 'A', name: 'api', content: 5 });
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      success: boolean;
      errors: { code: number; error_chain: unknown[] }[];
      result: null;
    };
    expect(body.success).toBe(false);
    expect(body.result).toBeNull();
    expect(body.errors[0]!.code).toBe(9207);
    expect(body.errors[0]!.error_chain.length).toBeGreaterThan(0);
    expect(cf.server.violations[0]!.operation).toBe('dns-records-for-a-zone-create-dns-record');
    expect(cf.records()).toHaveLength(1);
  });

  it('refuses missing credentials (9106), a wrong token (403) and a wrong path', async () => {
    const missing = await call('GET', '/zones?name=example.com', undefined, {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ errors: [{ code: 9106 }] });
    const wrong = await call('GET', '/zones', undefined, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(403);
    const path = await call('GET', `/zones/${zoneId}/records`);
    expect(path.status).toBe(400);
    expect(await path.json()).toMatchObject({ success: false, errors: [{ code: 7003 }] });
    expect(cf.server.violations.map((v) => v.path)).toEqual([
      '/client/v4/zones',
      `/client/v4/zones/${zoneId}/records`,
    ]);
  });

  it('answers an injected 503 then recovers', async () => {
    cf.server.inject({ route: 'GET /client/v4/zones', fault: { status: 503, retryAfter: 1 } });
    expect((await call('GET', '/zones')).status).toBe(503);
    expect((await call('GET', '/zones')).status).toBe(200);
  });
});
