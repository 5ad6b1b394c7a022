import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKamalFake, type KamalFake } from '../../sandbox/fakes/kamal.ts';

let kamal: KamalFake;

beforeEach(async () => {
  kamal = createKamalFake({ hosts: ['app-1', 'app-2', 'app-3'] });
  await kamal.start();
});
afterEach(() => kamal.stop());

const update = (host: string, body: unknown = { key: 'FEATURE', value: 'on' }) =>
  fetch(`${kamal.host(host).url}/config/update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('kamal hosts fake', () => {
  it('gives each host its own port and records the update calls', async () => {
    const ports = new Set(kamal.hosts.map((h) => new URL(h.url).port));
    expect(ports.size).toBe(3);
    const res = await update('app-2');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, host: 'app-2', path: '/config/update' });
    expect(kamal.calls()).toEqual([
      expect.objectContaining({ target: 'app-2', method: 'POST', json: { key: 'FEATURE', value: 'on' } }),
    ]);
    expect(kamal.calls('app-1')).toEqual([]);
  });

  it('answers a status sequence, then the steady status', async () => {
    kamal.setBehaviour('app-1', { statuses: [503, 500], status: 204 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await update('app-1')).status);
    expect(statuses).toEqual([503, 500, 204]);
  });

  it('adds latency and can hang', async () => {
    kamal.setBehaviour('app-1', { latencyMs: 60 });
    const started = Date.now();
    await update('app-1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    kamal.setBehaviour('app-3', { hang: true });
    await expect(
      fetch(`${kamal.host('app-3').url}/config/update`, { method: 'POST', signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(kamal.calls('app-3')).toHaveLength(1);
  });

  it('takes injected faults on the update call', async () => {
    kamal.host('app-1').server.inject({ route: 'update', call: 1, fault: { status: 429, retryAfter: 2 } });
    const first = await update('app-1');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect((await update('app-1')).status).toBe(200);
  });
});
