import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCloudflareFake } from '../../sandbox/fakes/cloudflare.ts';
import { createHerokuFake, type HerokuFake, herokuFault } from '../../sandbox/fakes/heroku.ts';
import { createHetznerFake } from '../../sandbox/fakes/hetzner.ts';
import { ApiError } from '../../src/core/errors.ts';
import { CloudflareHttp } from '../../src/providers/cloudflare/client.ts';
import { CloudflareDnsRecords } from '../../src/providers/cloudflare/dns-records.ts';
import { CloudflareZones } from '../../src/providers/cloudflare/zones.ts';
import { createHerokuHttp } from '../../src/providers/heroku/client.ts';
import { herokuClients } from '../../src/providers/heroku/index.ts';
import { HetznerActionFailed, HetznerActions } from '../../src/providers/hetzner/actions.ts';
import { createHetznerHttp } from '../../src/providers/hetzner/client.ts';
import { HetznerRRSets } from '../../src/providers/hetzner/rrsets.ts';

const KEY = 'HRKU-provider0test0key0AAAAAAAAAAAAAA';
const noSleep = async () => {};

describe('Heroku clients', () => {
  let fake: HerokuFake;
  beforeEach(async () => {
    fake = createHerokuFake({ apiKeys: [KEY] });
    await fake.start();
  });
  afterEach(() => fake.stop());
  const clients = () =>
    herokuClients(createHerokuHttp({ baseUrl: fake.url, apiKey: KEY, redact: (t) => t, sleep: noSleep }));

  it('never retries an app create (it may have happened) and names the operation', async () => {
    fake.server.inject({ route: 'app.create', fault: herokuFault(503) });
    const error = await clients()
      .apps.create({ name: 'new-app', region: 'eu', stack: 'heroku-24' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).operation).toBe('app.create');
    expect(fake.server.received('app.create')).toHaveLength(1);
  });

  it('retries a config PATCH (same PATCH, same config) and a 404 while observing is an answer', async () => {
    fake.seedApp({ name: 'some-app' });
    fake.server.inject({ route: 'config-var.update', fault: herokuFault(503) });
    await clients().configVars.update('some-app', { A: 'b' });
    expect(fake.server.received('config-var.update')).toHaveLength(2);
    expect(fake.config('some-app')).toEqual({ A: 'b' });
    expect(await clients().apps.find('no-such-app')).toBeUndefined();
    expect(await clients().couplings.findByApp('some-app')).toBeUndefined();
    expect(fake.server.violations).toEqual([]);
  });

  it('creates team apps through /teams/apps', async () => {
    const app = await clients().apps.create({
      name: 'team-app',
      region: 'eu',
      stack: 'heroku-24',
      team: 'acme',
    });
    expect(app).toMatchObject({ name: 'team-app', team: 'acme', region: 'eu' });
    expect(fake.server.received('team-app.create')).toHaveLength(1);
    expect(fake.server.violations).toEqual([]);
  });
});

describe('Hetzner Cloud DNS clients', () => {
  it('waits for an action until success, and throws with the reason on error', async () => {
    const fake = createHetznerFake({ token: 'tok', actionDelayMs: 40 });
    await fake.start();
    try {
      const http = createHetznerHttp({ baseUrl: `${fake.server.url}/v1`, token: 'tok', redact: (t) => t });
      fake.addZone({ name: 'example.com', id: 7 });
      const rrsets = new HetznerRRSets(http);
      const actions = new HetznerActions(http);
      const created = await rrsets.create(7, {
        name: 'tati',
        type: 'CNAME',
        ttl: 300,
        values: ['x.herokudns.com.'],
      });
      expect(created.status).toBe('running');
      expect((await actions.wait(created, { intervalMs: 20 })).status).toBe('success');
      fake.failNextAction('boom', 'it broke');
      const failing = await rrsets.changeTtl(7, 'tati', 'CNAME', 600);
      await expect(actions.wait(failing, { intervalMs: 20 })).rejects.toBeInstanceOf(HetznerActionFailed);
      expect(await rrsets.listByName(7, 'tati')).toEqual([
        { name: 'tati', type: 'CNAME', ttl: 600, values: ['x.herokudns.com.'], protected: false },
      ]);
      expect(await rrsets.listByName(7, 'nope')).toEqual([]);
      expect(fake.server.violations).toEqual([]);
    } finally {
      await fake.stop();
    }
  });
});

describe('Cloudflare clients', () => {
  it('turns success:false into an ApiError naming the operation', async () => {
    const fake = createCloudflareFake({ token: 'tok' });
    await fake.start();
    try {
      fake.addRecord('example.com', { name: 'tati', type: 'A', content: '192.0.2.1' });
      const zone = fake.state.zones[0]!;
      const records = new CloudflareDnsRecords(
        new CloudflareHttp({ baseUrl: `${fake.server.url}/client/v4`, token: 'tok', redact: (t) => t }),
      );
      const error = await records
        .create(zone.id, {
          name: 'tati.example.com',
          type: 'CNAME',
          content: 'x.herokudns.com',
          ttl: 300,
          proxied: false,
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).message).toContain('with that host already exists');
      // A 200 whose envelope says `success: false` is a failure too.
      fake.server.inject({
        route: 'zones-get',
        fault: {
          status: 200,
          json: { success: false, errors: [{ code: 1234, message: 'odd' }], result: null },
        },
      });
      const zones = new CloudflareZones(
        new CloudflareHttp({ baseUrl: `${fake.server.url}/client/v4`, token: 'tok', redact: (t) => t }),
      );
      const odd = await zones.findByName('example.com').catch((e: unknown) => e);
      expect(odd).toBeInstanceOf(ApiError);
      expect((odd as ApiError).message).toBe(
        'Cloudflare answered GET /client/v4/zones with HTTP 200: 1234 odd',
      );
      expect(await zones.findByName('example.com')).toEqual({ id: zone.id, name: 'example.com' });
      expect(fake.server.violations).toEqual([]);
    } finally {
      await fake.stop();
    }
  });
});
