import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDigitalOceanFake, type DigitalOceanFake } from '../../sandbox/fakes/digitalocean.ts';

let docean: DigitalOceanFake;
const headers = { authorization: 'Bearer do-test-token', 'content-type': 'application/json' };
const call = (method: string, path: string, body?: unknown, h: Record<string, string> = headers) =>
  fetch(`${docean.server.url}/v2${path}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });

interface DropletList {
  droplets: { name: string; tags: string[]; networks: { v4: { ip_address: string; type: string }[] } }[];
  links: { pages: Record<string, string> };
  meta: { total: number };
}

beforeEach(async () => {
  docean = createDigitalOceanFake();
  docean.addDroplet({ name: 'web-1', tags: ['web'], publicIp: '127.0.0.1' });
  docean.addDroplet({ name: 'web-2', tags: ['web'], publicIp: '127.0.0.2' });
  docean.addDroplet({ name: 'web-3', tags: ['web'], publicIp: '127.0.0.3' });
  docean.addDroplet({ name: 'db-1', tags: ['db'] });
  await docean.start();
});
afterEach(() => docean.stop());

describe('digitalocean fake', () => {
  it('lists only droplets with the tag, with loopback public addresses and rate-limit headers', async () => {
    const res = await call('GET', '/droplets?tag_name=web');
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBe('5000');
    expect(res.headers.get('ratelimit-remaining')).toBe('4999');
    expect(Number(res.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    const body = (await res.json()) as DropletList;
    expect(body.droplets.map((d) => d.name)).toEqual(['web-1', 'web-2', 'web-3']);
    expect(body.droplets[1]!.networks.v4.find((n) => n.type === 'public')!.ip_address).toBe('127.0.0.2');
    expect(body.meta.total).toBe(3);
    expect(docean.server.violations).toEqual([]);
  });

  it('paginates with links.pages', async () => {
    const first = (await (await call('GET', '/droplets?tag_name=web&per_page=2')).json()) as DropletList;
    expect(first.droplets).toHaveLength(2);
    const next = new URL(first.links.pages.next!);
    expect(next.searchParams.get('page')).toBe('2');
    const second = (await (await call('GET', `/droplets${next.search}`)).json()) as DropletList;
    expect(second.droplets.map((d) => d.name)).toEqual(['web-3']);
    expect(second.links.pages.next).toBeUndefined();
    expect(second.links.pages.prev).toContain('page=1');
  });

  it('creates tags and tags droplets', async () => {
    expect((await call('POST', '/tags', { name: 'deploy' })).status).toBe(201);
    const id = String(docean.droplet('db-1')!.id);
    const tagged = await call('POST', '/tags/deploy/resources', {
      resources: [{ resource_id: id, resource_type: 'droplet' }],
    });
    expect(tagged.status).toBe(204);
    expect(docean.droplet('db-1')!.tags).toContain('deploy');
    const tag = (await (await call('GET', '/tags/deploy')).json()) as {
      tag: { resources: { count: number } };
    };
    expect(tag.tag.resources.count).toBe(1);
    expect(docean.server.violations).toEqual([]);
  });

  it('refuses a tag name that breaks the schema pattern in DigitalOcean shape', async () => {
    const res = await call('POST', '/tags', { name: 'bad tag!' });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      id: 'unprocessable_entity',
      message: expect.stringContaining('pattern'),
      request_id: expect.any(String),
    });
    expect(docean.server.violations[0]!.operation).toBe('tags_create');
    expect(docean.state.tags.has('bad tag!')).toBe(false);
  });

  it('refuses a missing token, a wrong path and a non-numeric droplet id', async () => {
    const anonymous = await call('GET', '/droplets', undefined, {});
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ id: 'Unauthorized' });
    const wrong = await call('GET', '/droplet');
    expect(wrong.status).toBe(404);
    expect(await wrong.json()).toMatchObject({ id: 'not_found' });
    expect((await call('GET', '/droplets/abc')).status).toBe(422);
    expect(docean.server.violations.map((v) => v.path)).toEqual([
      '/v2/droplets',
      '/v2/droplet',
      '/v2/droplets/abc',
    ]);
  });
});
