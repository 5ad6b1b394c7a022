import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { herokuFault } from '../../sandbox/fakes/heroku.ts';
import { summaryRow } from '../helpers/summary-tables.ts';
import {
  ADDON_CONFIG,
  APP,
  createWorld,
  endState,
  expectedEndState,
  REDIS_CONFIG,
  SECRETS,
  SOURCE,
  type World,
  ZONE,
} from './world.ts';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

function expectNoSecrets(everything: string) {
  for (const secret of SECRETS) expect(everything, 'a secret leaked').not.toContain(secret);
}

function plan(outputs: Record<string, string>): { step: string; status: string }[] {
  return JSON.parse(outputs.plan ?? '[]') as { step: string; status: string }[];
}

describe('clone end to end (committed bundle)', () => {
  it('clones through Hetzner Cloud DNS, then a re-run changes nothing', async () => {
    w = await createWorld();
    const run = await w.run();
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(endState(w)).toEqual(expectedEndState(w));
    // RAILS_ENV=production is copied but not masked: the stage stays readable.
    expect(run.stdout).toContain('couple fetlife-prod-tati to pipeline fetlife at production');
    expect(run.stdout).not.toContain('::add-mask::production');

    const app = w.heroku.app(APP)!;
    const domain = w.heroku.state.domains.find((d) => d.appId === app.id && d.kind === 'custom')!;
    expect(run.outputs).toMatchObject({
      'app-name': APP,
      'app-id': app.id,
      'heroku-url': app.webUrl,
      'subdomain-url': `https://tati.${ZONE}`,
      'dns-target': domain.cname,
    });
    expect(run.outputs.record).toMatch(
      new RegExp(
        `^tati,/Photos/tati,${app.webUrl.replace(/\/$/, '')},https://tati\\.shibari\\.photo,\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`,
      ),
    );
    expect(w.servers()).toEqual([run.outputs.record]);
    expect(plan(run.outputs).map((s) => `${s.step}:${s.status}`)).toEqual([
      'app.create:done',
      'config.set:done',
      'pipeline.couple:done',
      'acm.enable:done',
      'domain.add:done',
      'dns.upsert:done',
      'release.promote:done',
      'certificate.wait:done',
      'servers.append:done',
    ]);
    // The rrset is relative and lowercase, its value fully qualified; the other rrset is untouched.
    expect(w.hetzner.zone(ZONE)!.rrsets.map((r) => [r.name, r.type, r.records.map((x) => x.value)])).toEqual([
      ['www', 'CNAME', ['elsewhere.example.']],
      ['tati', 'CNAME', [`${domain.cname}.`]],
    ]);
    // The marker is the first thing set, alone, right after the create.
    const heroku = w.heroku.server.requests.filter((r) => r.method !== 'GET').map((r) => r.operation);
    expect(heroku).toEqual([
      'app.create',
      'config-var.update',
      'config-var.update',
      'pipeline-coupling.create',
      'app.enable-acm',
      'domain.create',
      'pipeline-promotion.create',
    ]);
    expect(w.heroku.server.received('config-var.update')[0]!.json).toEqual({
      OPS_ACTIONS_CLONE_OF: w.source.id,
    });
    expect(w.heroku.server.received('domain.create')[0]!.json).toEqual({
      hostname: `tati.${ZONE}`,
      sni_endpoint: null,
    });
    for (const key of [...Object.keys(ADDON_CONFIG), ...Object.keys(REDIS_CONFIG)]) {
      expect(w.heroku.config(APP)).not.toHaveProperty(key);
    }
    // The source is only read.
    expect(
      w.heroku.server.requests.filter((r) => r.method !== 'GET' && r.path.includes(`/apps/${SOURCE}`)),
    ).toEqual([]);
    // The summary names the DNS target the domain got during the run, not the plan's wording.
    const cname = w.heroku.state.domains.find((d) => d.hostname === `tati.${ZONE}`)!.cname;
    expect(summaryRow(run.summary, '6')?.slice(0, 3)).toEqual([
      '6',
      `create CNAME tati -> ${cname}.`,
      '✅ done',
    ]);
    expect(run.stdout).toMatch(/\[9\/9 100%\] append a line to scripts\/servers\.txt done/);
    expect(run.log.filter((e) => e.outcome === 'ok').map((e) => e.step)).toEqual([
      'inputs',
      'preflight',
      'app.create',
      'config.set',
      'pipeline.couple',
      'acm.enable',
      'domain.add',
      'dns.upsert',
      'release.promote',
      'certificate.wait',
      'servers.append',
    ]);
    expectNoSecrets(run.everything);

    const before = w.mutating().length;
    const again = await w.run();
    expect(again.code).toBe(0);
    expect(w.mutating().length).toBe(before);
    expect(plan(again.outputs).every((s) => s.status === 'exists')).toBe(true);
    expect(endState(w)).toEqual(expectedEndState(w));
    expect(again.outputs.record).toBe(run.outputs.record);

    // A record repointed by hand is refused, named; with dns-overwrite it is put back with
    // set_records and change_ttl, each once.
    const rrset = w.hetzner.zone(ZONE)!.rrsets.find((r) => r.name === 'tati')!;
    rrset.records = [{ value: 'old.herokudns.com.' }];
    rrset.ttl = 3600;
    const refused = await w.run();
    expect(refused.code).toBe(1);
    expect(refused.errors).toEqual([expect.stringContaining('points at old.herokudns.com.')]);
    expect(w.mutating().length).toBe(before);
    const fix = await w.run({ 'dns-overwrite': 'true' });
    expect(fix.code).toBe(0);
    expect(fix.stdout).toContain(`update CNAME tati -> ${domain.cname}. (records, ttl)`);
    expect(w.hetzner.server.requests.filter((r) => r.method !== 'GET').map((r) => r.operation)).toEqual([
      'create_rrset',
      'set_records_of_rrset',
      'change_rrsets_ttl',
    ]);
    expect(endState(w)).toEqual(expectedEndState(w));
    expect(w.violations()).toEqual([]);
  });

  it('clones through Cloudflare with proxied off', async () => {
    w = await createWorld();
    const run = await w.run({ 'dns-provider': 'cloudflare' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(endState(w, 'cloudflare')).toEqual(expectedEndState(w, 'cloudflare'));
    expect(w.cloudflare.server.received('POST /client/v4/zones/:zone/dns_records')[0]!.json).toMatchObject({
      type: 'CNAME',
      name: `tati.${ZONE}`,
      proxied: false,
      ttl: 300,
    });
    expect(w.hetzner.server.requests).toEqual([]);
    expectNoSecrets(run.everything);

    // A record someone proxied is put back, by one PUT.
    w.cloudflare.state.records[0]!.proxied = true;
    const fix = await w.run({ 'dns-provider': 'cloudflare' });
    expect(fix.code).toBe(0);
    expect(w.cloudflare.server.requests.filter((r) => r.method !== 'GET').map((r) => r.method)).toEqual([
      'POST',
      'PUT',
    ]);
    expect(endState(w, 'cloudflare')).toEqual(expectedEndState(w, 'cloudflare'));
    expect(w.violations()).toEqual([]);
  });

  it('with dns-provider none prints the record to create and touches no DNS API', async () => {
    w = await createWorld();
    const run = await w.run({ 'dns-provider': 'none', 'dns-token': '' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const cname = w.heroku.state.domains.find((d) => d.hostname === `tati.${ZONE}`)!.cname;
    expect(run.stdout).toContain(
      `Create this DNS record at your DNS provider: tati.${ZONE}. 300 IN CNAME ${cname}.`,
    );
    expect(endState(w, 'none')).toEqual(expectedEndState(w, 'none'));
    expect([...w.hetzner.server.requests, ...w.cloudflare.server.requests]).toEqual([]);
    expectNoSecrets(run.everything);
    expect(w.violations()).toEqual([]);
  });

  it('dry-run sends only GETs, writes no file and prints the plan', async () => {
    w = await createWorld();
    const run = await w.run({ 'dry-run': 'true' });
    expect(run.code).toBe(0);
    expect(w.mutating()).toEqual([]);
    expect(w.heroku.server.requests.length).toBeGreaterThan(0);
    expect(w.hetzner.server.requests.length).toBeGreaterThan(0);
    expect(existsSync(w.serversFile)).toBe(false);
    for (const line of [
      '1. create app fetlife-prod-tati in eu',
      '2. set 5 config vars (values hidden)',
      "6. create CNAME tati -> the new domain's DNS target (known once Heroku has added the domain)",
      'Dry run: 9 step(s) would run; nothing was changed.',
    ]) {
      expect(run.stdout).toContain(line);
    }
    expect(plan(run.outputs).every((s) => s.status === 'would-create')).toBe(true);
    expect(run.outputs.record).toBeUndefined();
    expect(run.summary).toContain('dry run: nothing changed');
    expectNoSecrets(run.everything);

    // After a run that stopped at the DNS step, the dry run names the real target.
    w.heroku.server.reset();
    w.hetzner.server.inject({
      route: 'create_rrset',
      fault: { status: 403, json: { error: { code: 'forbidden', message: 'injected' } } },
    });
    expect((await w.run()).code).toBe(1);
    const cname = w.heroku.state.domains.find((d) => d.hostname === `tati.${ZONE}`)!.cname;
    const mutations = w.mutating().length;
    const dry = await w.run({ 'dry-run': 'true' });
    expect(dry.stdout).toContain(`6. create CNAME tati -> ${cname}.`);
    expect(dry.stdout).toContain('5. add domain tati.shibari.photo to fetlife-prod-tati (exists)');
    expect(w.mutating().length).toBe(mutations);
    expect(w.violations()).toEqual([]);
  });

  it('refuses a foreign app of the same name, names it and never touches it', async () => {
    w = await createWorld();
    const foreign = w.heroku.seedApp({ name: APP, region: 'us' });
    Object.assign(w.heroku.config(APP), { THEIR_VAR: 'their-value-kept' });
    const run = await w.run();
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(`Heroku app ${APP} already exists`);
    expect(run.errors[0]).toContain('refusing to modify it');
    expect(w.mutating()).toEqual([]);
    expect(w.heroku.config(APP)).toEqual({ THEIR_VAR: 'their-value-kept' });
    expect(w.heroku.app(APP)).toEqual(foreign);
    expect(existsSync(w.serversFile)).toBe(false);

    // Nor a clone of another source.
    Object.assign(w.heroku.config(APP), { OPS_ACTIONS_CLONE_OF: 'another-source-id' });
    const other = await w.run();
    expect(other.code).toBe(1);
    expect(other.errors[0]).toContain('names another source app (another-source-id)');
    expect(w.mutating()).toEqual([]);
    expect(w.violations()).toEqual([]);
  });

  it('a refused heroku-api-key is named as the thing to fix, and no app-name or subdomain-url is set', async () => {
    w = await createWorld();
    const run = await w.run({ 'heroku-api-key': 'HRKU-not-the-key-0000000000000000' });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/heroku-api-key was refused by Heroku \(401: /);
    expect(run.outputs['app-name']).toBeUndefined();
    expect(run.outputs['subdomain-url']).toBeUndefined();
    expectNoSecrets(run.everything);
  });

  it('refuses an app name breaking Heroku’s rule before any request', async () => {
    w = await createWorld();
    const run = await w.run({ 'app-name': '{source-app}-{name}-with-a-very-long-suffix' });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringContaining('Input \'app-name\' gives "fetlife-prod-tati-with-a-very-long-suffix"'),
    ]);
    const upper = await w.run({ 'app-name': 'Prod-{name}' });
    expect(upper.errors[0]).toContain("Input 'app-name'");
    expect([
      ...w.heroku.server.requests,
      ...w.hetzner.server.requests,
      ...w.cloudflare.server.requests,
    ]).toEqual([]);
  });

  it('on-failure delete removes the app and record this run created, nothing else', async () => {
    w = await createWorld();
    w.heroku.knobs.promotionFailures.set(APP, 'Release phase failed: exit 1');
    const run = await w.run({ 'on-failure': 'delete' });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('Could not promote v');
    expect(run.errors[0]).toContain('Release phase failed: exit 1');
    expect(run.errors[0]).toContain(`on-failure delete removed CNAME tati.${ZONE} and Heroku app ${APP}`);
    expect(w.heroku.app(APP)).toBeUndefined();
    expect(w.heroku.app(SOURCE)).toBeDefined();
    expect(w.hetzner.zone(ZONE)!.rrsets.map((r) => r.name)).toEqual(['www']);
    expect(existsSync(w.serversFile)).toBe(false);
    expect(run.log.find((e) => e.step === 'on-failure.delete')).toMatchObject({ outcome: 'ok' });
    expect(run.outputs['app-id']).toBeUndefined();
    expectNoSecrets(run.everything);
    expect(w.violations()).toEqual([]);
  });

  it('on-failure delete leaves an app an earlier run created', async () => {
    w = await createWorld();
    w.heroku.knobs.promotionFailures.set(APP, 'Release phase failed');
    expect((await w.run()).code).toBe(1);
    const app = w.heroku.app(APP)!;
    const run = await w.run({ 'on-failure': 'delete' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toContain('This run created nothing, so nothing was deleted.');
    expect(w.heroku.app(APP)).toEqual(app);
    expect(w.hetzner.zone(ZONE)!.rrsets.map((r) => r.name)).toEqual(['www', 'tati']);
    expect(w.succeeded(w.heroku, 'app.delete')).toBe(0);

    w.heroku.knobs.promotionFailures.clear();
    expect((await w.run({ 'on-failure': 'delete' })).code).toBe(0);
    expect(endState(w)).toEqual(expectedEndState(w));
  });

  it('a servers file that cannot be written is a warning, not a failure', async () => {
    w = await createWorld();
    mkdirSync(join(w.serversFile), { recursive: true });
    const run = await w.run();
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/::warning::could not write the servers file scripts\/servers\.txt: /);
    expect(plan(run.outputs).at(-1)).toMatchObject({ step: 'servers.append', status: 'warning' });
    expect(run.outputs.record).toMatch(/^tati,\/Photos\/tati,/);
  });

  it('waits for the certificate and reports ACM failing with its reason', async () => {
    w = await createWorld({ acmDelayMs: 100 });
    w.heroku.knobs.acmFailures.set(APP, 'CAA record blocks Let’s Encrypt');
    const run = await w.run();
    expect(run.code).toBe(1);
    expect(run.errors[0]).toContain('Could not wait for the certificate of tati.shibari.photo');
    expect(run.errors[0]).toContain('CAA record blocks');
    expect(existsSync(w.serversFile)).toBe(false);
  });

  it('the timeout bounds the whole clone and names the step it stopped', async () => {
    w = await createWorld({ promotionDelayMs: 60_000 });
    const started = Date.now();
    const run = await w.run({ timeout: '3' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toContain('Could not promote v');
    expect(run.errors[0]).toContain("the clone's timeout of 3 s ran out");
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('retries rate-limited reads and still leaks nothing an error body echoes', async () => {
    w = await createWorld();
    // Heroku's real 429 (RateLimit-Remaining 0, no Retry-After): heroku-go's 30 s ±25 %, slept 0.01 of it here.
    w.heroku.server.inject({ route: 'app.info', fault: herokuFault(429) });
    w.heroku.server.inject({
      route: 'pipeline-coupling.create',
      fault: herokuFault(403, `Forbidden for key ${SECRETS[0]} with ${SECRETS[5]}`),
    });
    const run = await w.run({}, { env: { OPS_ACTIONS_TEST_WAIT_SCALE: '0.01' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^rate limited by Heroku, waiting (2[3-9]|3[0-7]) s \(HTTP 429, RateLimit-Remaining 0; app\.info\)$/m,
    );
    expect(run.errors[0]).toContain('Could not couple fetlife-prod-tati to pipeline');
    expect(run.errors[0]).toContain('[REDACTED');
    expectNoSecrets(run.everything);
  });
});
