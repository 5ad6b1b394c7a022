import { afterEach, describe, expect, it } from 'vitest';
import { APP, createWorld, READ_ONLY_DNS_TOKEN, SOURCE, type World, ZONE } from './world.ts';

/**
 * Where real Heroku, Hetzner Cloud and Cloudflare behave differently from a kind
 * fake, through the committed clone bundle: shared add-ons, hand-set copies of
 * add-on values, names held by other records, foreign CNAMEs, zones above the
 * domain, pending DNS targets, refused ACM, apps of other accounts, Fir apps and
 * tokens with too few rights.
 */

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const SHARED_DB_URL = 'postgres://shared:canary-shared-db-55@shared-db.example:5432/main';

function warnings(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('::warning::'))
    .map((l) => l.slice('::warning::'.length).replace(/%0A/g, '\n').replace(/%25/g, '%'));
}

/** What a step that stopped at preflight must leave: nothing written anywhere. */
function expectNothingChanged(world: World) {
  expect(world.mutating()).toEqual([]);
  expect(world.heroku.app(APP)).toBeUndefined();
}

describe('Heroku add-on vars come from the attachments', () => {
  it('keeps DATABASE_URL of an add-on shared from another app out of the clone', async () => {
    w = await createWorld({ ownDatabase: false });
    w.heroku.seedApp({ name: 'fetlife-db', region: 'eu' });
    const shared = w.heroku.seedAddon('fetlife-db', {
      service: 'heroku-postgresql',
      config: { HEROKU_POSTGRESQL_ONYX_URL: SHARED_DB_URL },
    });
    w.heroku.attachAddon(shared.id, SOURCE, 'DATABASE');
    expect(w.heroku.config(SOURCE).DATABASE_URL).toBe(SHARED_DB_URL);

    const run = await w.run();
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(w.heroku.config(APP).DATABASE_URL).toBeUndefined();
    expect(run.stdout).toContain("Not copied, owned by fetlife-prod's add-ons: DATABASE_URL, REDIS_URL");
    expect(run.everything).not.toContain(SHARED_DB_URL);
    const attachments = w.heroku.server.requests.filter(
      (r) => r.operation === 'add-on-attachment.list-by-app',
    );
    expect(attachments.map((r) => r.headers['accept-inclusion'])).toEqual(['addon:plan,config_vars']);
    expect(w.violations()).toEqual([]);
  });

  it('does not copy a var set by hand to an add-on value plus ?pool=25, and says how to copy it', async () => {
    w = await createWorld({ ownDatabase: false });
    w.heroku.seedAddon(SOURCE, {
      service: 'heroku-postgresql',
      config: { HEROKU_POSTGRESQL_RED_URL: SHARED_DB_URL },
    });
    w.heroku.config(SOURCE).DATABASE_URL = `${SHARED_DB_URL}?pool=25`;

    const run = await w.run();
    expect(run.code).toBe(0);
    expect(w.heroku.config(APP).DATABASE_URL).toBeUndefined();
    expect(w.heroku.config(APP).HEROKU_POSTGRESQL_RED_URL).toBeUndefined();
    expect(warnings(run.stdout)).toEqual([
      expect.stringMatching(
        /^DATABASE_URL of fetlife-prod is not copied: its value contains the value of an add-on config var.*set it in the config input \(DATABASE_URL=\.\.\.\)$/,
      ),
    ]);
    expect(run.summary).toContain('`DATABASE_URL`');

    // Set on purpose through `config`: copied as given, no warning.
    const own = await w.run({ config: 'DATABASE_URL=postgres://own-db.example/tati' });
    expect(own.code).toBe(0);
    expect(w.heroku.config(APP).DATABASE_URL).toBe('postgres://own-db.example/tati');
    expect(warnings(own.stdout)).toEqual([]);
  });
});

describe('a CNAME cannot share its name (RFC 1034 §3.6.2)', () => {
  it.each(['hetzner', 'cloudflare'] as const)(
    '%s: an A record at the name stops the clone at preflight, before Heroku is touched',
    async (provider) => {
      w = await createWorld();
      if (provider === 'hetzner') {
        w.hetzner.zone(ZONE)!.rrsets.push({
          name: 'tati',
          type: 'A',
          ttl: null,
          records: [{ value: '203.0.113.7' }],
          labels: {},
        });
      } else {
        w.cloudflare.addRecord(ZONE, { name: `tati.${ZONE}`, type: 'A', content: '203.0.113.7' });
      }
      const run = await w.run({ 'dns-provider': provider });
      expect(run.code).toBe(1);
      expect(run.errors).toEqual([
        expect.stringContaining(`tati.${ZONE} already has A record(s); a CNAME cannot coexist with them`),
      ]);
      expectNothingChanged(w);
    },
  );

  it('hetzner: a CNAME value without its final dot is relative to the zone, so it points elsewhere', async () => {
    w = await createWorld();
    const first = await w.run();
    expect(first.code).toBe(0);
    const rrset = w.hetzner.zone(ZONE)!.rrsets.find((r) => r.name === 'tati')!;
    const target = rrset.records[0]!.value.replace(/\.$/, '');
    rrset.records = [{ value: target }];
    const again = await w.run();
    expect(again.code).toBe(1);
    expect(again.errors).toEqual([expect.stringContaining(`points at ${target}.${ZONE}.`)]);
  });

  it('a CNAME pointing elsewhere is refused, named; dns-overwrite repoints it', async () => {
    w = await createWorld();
    w.hetzner.zone(ZONE)!.rrsets.push({
      name: 'tati',
      type: 'CNAME',
      ttl: 300,
      records: [{ value: 'legacy-host.example.net.' }],
      labels: {},
    });
    const refused = await w.run();
    expect(refused.code).toBe(1);
    expect(refused.errors).toEqual([
      expect.stringMatching(
        /points at legacy-host\.example\.net\., not at this app's Heroku DNS target.*dns-overwrite: true/,
      ),
    ]);
    expectNothingChanged(w);

    const run = await w.run({ 'dns-overwrite': 'true' });
    expect(run.code).toBe(0);
    const cname = w.heroku.state.domains.find((d) => d.hostname === `tati.${ZONE}`)!.cname;
    expect(w.hetzner.zone(ZONE)!.rrsets.find((r) => r.name === 'tati')!.records).toEqual([
      { value: `${cname}.` },
    ]);
  });
});

describe('what dns-overwrite changed is named and put back', () => {
  it('cloudflare: a repointed record is named, and on-failure delete puts it back as it was', async () => {
    w = await createWorld();
    w.cloudflare.addRecord(ZONE, {
      name: `tati.${ZONE}`,
      type: 'CNAME',
      content: 'legacy-host.example.net',
      ttl: 3600,
      proxied: true,
    });
    w.heroku.knobs.promotionFailures.set(APP, 'Release phase failed: exit 1');
    const run = await w.run({
      'dns-provider': 'cloudflare',
      'dns-overwrite': 'true',
      'on-failure': 'delete',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`CNAME tati.${ZONE} pointed at legacy-host.example.net.; repointed to`);
    expect(run.errors[0]).toContain('put back to legacy-host.example.net.');
    expect(w.cloudflare.records(ZONE).map((r) => [r.name, r.type, r.content, r.ttl, r.proxied])).toEqual([
      [`tati.${ZONE}`, 'CNAME', 'legacy-host.example.net', 3600, true],
    ]);
    expect(w.heroku.app(APP)).toBeUndefined();
  });
});

describe('zones above the domain', () => {
  it.each(['hetzner', 'cloudflare'] as const)(
    '%s: a domain delegated to other name servers is refused at preflight',
    async (provider) => {
      w = await createWorld();
      if (provider === 'hetzner') {
        w.hetzner.zone(ZONE)!.rrsets.push({
          name: 'staging',
          type: 'NS',
          ttl: null,
          records: [{ value: 'ns1.elsewhere.example.' }],
          labels: {},
        });
      } else {
        w.cloudflare.addRecord(ZONE, {
          name: `staging.${ZONE}`,
          type: 'NS',
          content: 'ns1.elsewhere.example',
        });
      }
      const run = await w.run({ 'dns-provider': provider, domain: `staging.${ZONE}` });
      expect(run.code).toBe(1);
      expect(run.errors).toEqual([
        expect.stringContaining(`staging.${ZONE} is delegated to other name servers`),
      ]);
      expectNothingChanged(w);
    },
  );

  it.each(['hetzner', 'cloudflare'] as const)(
    '%s: domain staging.shibari.photo lands in zone shibari.photo as tati.staging',
    async (provider) => {
      w = await createWorld();
      const domain = `staging.${ZONE}`;
      const run = await w.run({ 'dns-provider': provider, domain });
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.outputs['subdomain-url']).toBe(`https://tati.${domain}`);
      expect(w.servers()[0]).toContain(`,https://tati.${domain},`);
      const cname = w.heroku.state.domains.find((d) => d.hostname === `tati.${domain}`)!.cname;
      if (provider === 'hetzner') {
        expect(
          w.hetzner.zone(ZONE)!.rrsets.find((r) => r.type === 'CNAME' && r.name.startsWith('tati')),
        ).toMatchObject({
          name: 'tati.staging',
          records: [{ value: `${cname}.` }],
        });
      } else {
        expect(w.cloudflare.records(ZONE).map((r) => [r.name, r.content])).toEqual([
          [`tati.${domain}`, cname],
        ]);
      }
      expect(w.violations()).toEqual([]);
    },
  );
});

describe('Heroku as it really answers', () => {
  it('waits for a DNS target Heroku assigns 3 s after the domain is added', async () => {
    w = await createWorld({ cnameDelayMs: 3000 });
    const run = await w.run();
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const domain = w.heroku.state.domains.find((d) => d.hostname === `tati.${ZONE}`)!;
    expect(domain.cname).toMatch(/herokudns\.com$/);
    expect(run.outputs['dns-target']).toBe(domain.cname);
    const polls = w.heroku.server.requests.filter((r) => r.operation === 'domain.info');
    expect(polls.length).toBeGreaterThanOrEqual(2);
  });

  it('a refused ACM fails with Heroku’s message and what to do, before any domain or record', async () => {
    w = await createWorld();
    w.heroku.knobs.acmRefusals.set(
      APP,
      'Automated Certificate Management is not available for apps on Eco dynos.',
    );
    const run = await w.run();
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        /Heroku refused to enable Automated Certificate Management on fetlife-prod-tati \(422: Automated Certificate Management is not available for apps on Eco dynos\.\)\. ACM needs dynos of type Basic or above/,
      ),
    ]);
    expect(w.heroku.state.domains.filter((d) => d.kind === 'custom')).toEqual([]);
    expect(w.hetzner.server.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('an app name that answers 403 belongs to another account: refused, nothing created', async () => {
    w = await createWorld();
    w.heroku.state.foreignApps.add(APP);
    const run = await w.run();
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringContaining(
        `Heroku app ${APP} exists but this heroku-api-key has no access to it (403: You do not have access to the app ${APP}.)`,
      ),
    ]);
    expect(run.errors[0]).toContain('Choose another app-name or name');
    expectNothingChanged(w);
  });

  it('a Fir-generation source is refused, naming its generation', async () => {
    w = await createWorld();
    w.heroku.seedApp({ name: 'fir-app', region: 'eu', generation: 'fir' });
    const run = await w.run({ 'source-app': 'fir-app', 'app-name': 'fir-app-tati' });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining('fir-app is a Fir-generation app')]);
    expect(run.errors[0]).not.toContain('no release with code');
    expect(w.mutating()).toEqual([]);
  });
});

describe('DNS tokens and Hetzner errors', () => {
  it('a read-only Hetzner token is named as read-only on its first write', async () => {
    w = await createWorld();
    const run = await w.run({ 'dns-token': READ_ONLY_DNS_TOKEN });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        /dns-token is a read-only Hetzner API token: Hetzner refused POST \/v1\/zones\/\d+\/rrsets \(403: token_readonly/,
      ),
    ]);
    // The domain was added before the CNAME failed: the error and the summary name its DNS target.
    const target = w.heroku.state.domains.find((d) => d.hostname === `tati.${ZONE}`)?.cname;
    expect(target).toMatch(/\S/);
    expect(run.errors[0]).toContain(`Could not create CNAME tati -> ${target}.: dns-token is a read-only`);
    expect(run.summary).toContain(`create CNAME tati -> ${target}.`);
    expect(run.summary).not.toContain('DNS target (known once');
  });

  it('a Cloudflare token without Zone:Read is told which permission is missing', async () => {
    w = await createWorld();
    const run = await w.run({ 'dns-provider': 'cloudflare', 'dns-token': READ_ONLY_DNS_TOKEN });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining('needs the Zone → Zone → Read permission')]);
    expectNothingChanged(w);
  });

  it.each([
    [409, 'conflict', 'The resource has changed during the request, please retry'],
    [423, 'locked', 'The item you are trying to access is locked (there is already an action running)'],
  ] as const)(
    'retries a create answered %i %s (nothing was done), then creates it',
    async (status, code, message) => {
      w = await createWorld();
      w.hetzner.server.inject({
        route: 'create_rrset',
        fault: { status, json: { error: { code, message, details: {} } } },
      });
      const run = await w.run();
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      const creates = w.hetzner.server.requests.filter((r) => r.operation === 'create_rrset');
      expect(creates.map((r) => r.status)).toEqual([status, 201]);
      expect(w.hetzner.zone(ZONE)!.rrsets.filter((r) => r.name === 'tati')).toHaveLength(1);
    },
  );

  it('does not retry a 503 from Hetzner, as hcloud-go does not: one error naming the record it could not read', async () => {
    w = await createWorld();
    w.hetzner.server.inject({ route: 'list_rrsets', fault: { status: 503 } });
    const run = await w.run();
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Could not read the DNS record tati\\.${ZONE.replace('.', '\\.')}: Hetzner answered GET /v1/zones/\\d+/rrsets with HTTP 503`,
        ),
      ),
    ]);
    expect(w.hetzner.server.requests.filter((r) => r.operation === 'list_rrsets')).toHaveLength(1);
    expect(w.mutating()).toEqual([]);
  });
});
