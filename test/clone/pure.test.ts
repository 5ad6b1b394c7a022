import { describe, expect, it } from 'vitest';
import { configToSet, desiredConfig, isExcluded, MARKER_VAR } from '../../src/clone/config.ts';
import { candidateZones, decideDns, fqdnValue, relativeName } from '../../src/clone/dns.ts';
import type { StepResult } from '../../src/clone/execute.ts';
import type { Step } from '../../src/clone/plan.ts';
import { described, planEntries, plannedResults, renderSummary } from '../../src/clone/report.ts';
import { findRecord, formatRecord, formatUtc, resolveServersFile } from '../../src/clone/servers-file.ts';
import { summaryTables } from '../helpers/summary-tables.ts';

describe('desired config', () => {
  const source = {
    id: 'src-id',
    config: {
      DATABASE_URL: 'db',
      HEROKU_POSTGRESQL_RED_URL: 'db',
      SECRET: 'x',
      DEBUG_SQL: '1',
      DEBUG: 'kept',
      SENTRY_DSN: 'dsn',
      [MARKER_VAR]: 'the-source-is-a-clone-too',
      IMAGE_FOLDER: '/src',
    },
    addonVars: ['DATABASE_URL', 'HEROKU_POSTGRESQL_RED_URL'],
  };
  const cases: [string, Parameters<typeof desiredConfig>[0], Record<string, string>, string[], string[]][] = [
    [
      'add-on vars and globs out, folder and marker in',
      {
        config: {},
        excludeConfig: ['DEBUG_*', 'SENTRY_DSN'],
        folder: '/Photos/tati',
        folderVar: 'IMAGE_FOLDER',
      },
      { DEBUG: 'kept', IMAGE_FOLDER: '/Photos/tati', SECRET: 'x', [MARKER_VAR]: 'src-id' },
      ['DATABASE_URL', 'HEROKU_POSTGRESQL_RED_URL'],
      ['DEBUG_SQL', 'SENTRY_DSN'],
    ],
    [
      'overrides win, even over an add-on var; no folder keeps the source folder',
      {
        config: { DATABASE_URL: 'own-db', SECRET: 'y' },
        excludeConfig: [],
        folder: undefined,
        folderVar: 'IMAGE_FOLDER',
      },
      {
        DATABASE_URL: 'own-db',
        DEBUG: 'kept',
        DEBUG_SQL: '1',
        IMAGE_FOLDER: '/src',
        SECRET: 'y',
        SENTRY_DSN: 'dsn',
        [MARKER_VAR]: 'src-id',
      },
      // DATABASE_URL comes from `config`, so it is not reported as left out.
      ['HEROKU_POSTGRESQL_RED_URL'],
      [],
    ],
    [
      'the folder goes to folder-var; our marker beats an override of it',
      { config: { [MARKER_VAR]: 'forged' }, excludeConfig: ['*'], folder: 'f', folderVar: 'PHOTOS' },
      { PHOTOS: 'f', [MARKER_VAR]: 'src-id' },
      ['DATABASE_URL', 'HEROKU_POSTGRESQL_RED_URL'],
      ['DEBUG', 'DEBUG_SQL', 'IMAGE_FOLDER', 'SECRET', 'SENTRY_DSN'],
    ],
  ];
  it.each(cases)('%s', (_t, settings, vars, addonOwned, excluded) => {
    const out = desiredConfig(settings, source);
    expect(Object.fromEntries(Object.entries(out.vars).sort())).toEqual(
      Object.fromEntries(Object.entries(vars).sort()),
    );
    expect(out.addonOwned).toEqual(addonOwned);
    expect(out.excluded).toEqual(excluded);
  });

  const DB = 'postgres://u:p4ssw0rd-xyz@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8x';
  const derived: [string, Record<string, string>, Record<string, string>, string[]][] = [
    ['a hand-set copy with ?pool=25 stays out', { POOLED: `${DB}?pool=25` }, {}, ['POOLED']],
    ['the exact value under another name stays out', { READ_URL: DB }, {}, ['READ_URL']],
    ['a value that merely shares a prefix is copied', { OTHER: 'postgres://u' }, {}, []],
    [
      'the same database under another scheme stays out',
      { SQLALCHEMY_DATABASE_URI: DB.replace('postgres://', 'postgresql://') },
      {},
      ['SQLALCHEMY_DATABASE_URI'],
    ],
    ['the password alone stays out', { PGPASSWORD: 'p4ssw0rd-xyz' }, {}, ['PGPASSWORD']],
    ['a var equal to a plain add-on value (a region) is copied', { AWS_REGION: 'eu-west-1' }, {}, []],
    ['config sets it on purpose: copied as given', { POOLED: `${DB}?pool=25` }, { POOLED: 'mine' }, []],
  ];
  it.each(derived)('hand-set add-on values: %s', (_t, extra, overrides, expected) => {
    const out = desiredConfig(
      { config: overrides, excludeConfig: [], folder: undefined, folderVar: 'IMAGE_FOLDER' },
      {
        id: 'src-id',
        config: { DATABASE_URL: DB, FLAG: 'true', BUCKETEER_AWS_REGION: 'eu-west-1', ...extra },
        addonVars: ['DATABASE_URL', 'FLAG', 'BUCKETEER_AWS_REGION'],
      },
    );
    expect(out.addonDerived).toEqual(expected);
    for (const key of expected) expect(out.vars[key]).toBeUndefined();
    for (const [key, value] of Object.entries(overrides)) expect(out.vars[key]).toBe(value);
  });

  it.each([
    ['example.com', ['example.com']],
    ['staging.example.com', ['staging.example.com', 'example.com']],
    ['a.b.example.co.uk', ['a.b.example.co.uk', 'b.example.co.uk', 'example.co.uk', 'co.uk']],
  ] as const)('candidateZones(%s) is %j, longest first', (domain, zones) => {
    expect(candidateZones(domain)).toEqual(zones);
  });

  it.each([
    ['tati', 'example.com', 'example.com', 'tati'],
    ['tati', 'staging.example.com', 'example.com', 'tati.staging'],
    ['tati', 'a.b.example.com', 'b.example.com', 'tati.a'],
    ['tati', 'staging.example.com', 'staging.example.com', 'tati'],
  ] as const)('relativeName(%s, %s, zone %s) is %s', (label, domain, zone, name) => {
    expect(relativeName(label, domain, zone)).toBe(name);
  });

  it.each([
    ['DEBUG_SQL', ['DEBUG_*'], true],
    ['DEBUG', ['DEBUG_*'], false],
    ['SENTRY_DSN', ['SENTRY_DSN'], true],
    ['SENTRY_DSN_X', ['SENTRY_DSN'], false],
  ] as const)('isExcluded(%s, %j) is %s', (key, patterns, expected) => {
    expect(isExcluded(key, patterns)).toBe(expected);
  });

  it('sets only what differs or is missing', () => {
    expect(configToSet({ A: '1', B: '2', C: '3' }, { A: '1', B: 'x', D: '4' })).toEqual(['B', 'C']);
  });
});

describe('DNS decisions', () => {
  it.each([
    ['no record', undefined, 300, { op: 'create' }],
    ['same target and TTL', { values: ['xyz.herokudns.com.'], ttl: 300 }, 300, { op: 'none' }],
    ['same target, case and dot aside', { values: ['XYZ.herokudns.com'], ttl: 300 }, 300, { op: 'none' }],
    [
      'other target',
      { values: ['old.herokudns.com.'], ttl: 300 },
      300,
      { op: 'update', changes: ['records'] },
    ],
    [
      'zone default TTL',
      { values: ['xyz.herokudns.com.'], ttl: null },
      300,
      { op: 'update', changes: ['ttl'] },
    ],
    [
      'two values',
      { values: ['xyz.herokudns.com.', 'b.'], ttl: 600 },
      300,
      { op: 'update', changes: ['records', 'ttl'] },
    ],
    [
      'proxied on Cloudflare',
      { values: ['xyz.herokudns.com.'], ttl: 300, proxied: true },
      300,
      { op: 'update', changes: ['proxied'] },
    ],
  ] as const)('%s', (_t, existing, ttl, expected) => {
    expect(decideDns(existing as never, 'xyz.herokudns.com', ttl)).toEqual(expected);
  });

  it('writes CNAME values fully qualified with one trailing dot', () => {
    expect(fqdnValue('Xyz.HerokuDNS.com')).toBe('xyz.herokudns.com.');
    expect(fqdnValue('xyz.herokudns.com.')).toBe('xyz.herokudns.com.');
  });
});

describe('servers file', () => {
  const settings = {
    name: 'tati',
    folder: '/Photos/tati',
    dns: { provider: 'hetzner' as const, domain: 'shibari.photo', token: 't', ttl: 300, overwrite: false },
  };
  it('formats the seed-000 line in UTC to the second', () => {
    const at = new Date(Date.UTC(2025, 10, 21, 18, 42, 10, 789));
    expect(formatUtc(at)).toBe('2025-11-21T18:42:10Z');
    expect(formatRecord(settings, 'https://fetlife-prod-tati.herokuapp.com/', at)).toBe(
      'tati,/Photos/tati,https://fetlife-prod-tati.herokuapp.com,https://tati.shibari.photo,2025-11-21T18:42:10Z',
    );
    expect(
      formatRecord(
        { ...settings, folder: undefined, dns: { ...settings.dns, domain: undefined } },
        'https://a.herokuapp.com/',
        at,
      ),
    ).toBe('tati,,https://a.herokuapp.com,,2025-11-21T18:42:10Z');
  });
  it('finds the line of an earlier run of the same clone only', () => {
    const text =
      'tatiana,/x,https://a,https://tatiana.s,2025-01-01T00:00:00Z\ntati,/x,https://a,https://tati.s,2025-01-02T00:00:00Z\n';
    expect(findRecord(text, 'tati,/x,https://a,https://tati.s')).toBe(
      'tati,/x,https://a,https://tati.s,2025-01-02T00:00:00Z',
    );
    expect(findRecord(text, 'tati,/y,https://a,https://tati.s')).toBeUndefined();
  });
  it('resolves relative paths against the workspace', () => {
    expect(resolveServersFile('scripts/servers.txt', '/ws')).toBe('/ws/scripts/servers.txt');
    expect(resolveServersFile('/abs/servers.txt', '/ws')).toBe('/abs/servers.txt');
  });
});

describe('report', () => {
  const steps: Step[] = [
    { kind: 'app.create', app: 'a-tati', region: 'eu', stack: 'heroku-24', team: undefined, exists: true },
    { kind: 'config.set', app: 'a-tati', keys: ['A', 'B'], exists: false },
  ];
  it('renders the plan output with would-create and exists', () => {
    expect(planEntries(described(plannedResults(steps)))).toEqual([
      { step: 'app.create', resource: 'a-tati', description: 'create app a-tati in eu', status: 'exists' },
      {
        step: 'config.set',
        resource: 'a-tati',
        description: 'set 2 config vars (values hidden)',
        status: 'would-create',
      },
    ]);
  });
  it('renders the summary table with what was done and the failure', () => {
    const results: StepResult[] = [
      { step: steps[0]!, status: 'exists', ms: 0 },
      { step: steps[1]!, status: 'failed', ms: 1500 },
    ];
    const md = renderSummary({
      appName: 'a-tati',
      source: 'a',
      dryRun: false,
      results: described(results),
      outputs: { appId: 'id-1' },
      addonOwned: ['DATABASE_URL'],
      addonDerived: ['PGBOUNCER_URL'],
      excluded: [],
      failure: 'Could not set 2 config vars (values hidden): HTTP 403',
    });
    expect(md).toContain('### Clone a → a-tati failed');
    expect(summaryTables(md)).toEqual([
      [
        ['#', 'step', 'status', 'time'],
        ['1', 'create app a-tati in eu', '✔ exists', ''],
        ['2', 'set 2 config vars (values hidden)', '❌ failed', '1.5 s'],
      ],
    ]);
    expect(md).toContain('- app id: `id-1`');
    expect(md).toContain("owned by the source's add-ons: `DATABASE_URL`");
    expect(md).toContain(
      "hold an add-on's value (set them in `config` to copy them on purpose): `PGBOUNCER_URL`",
    );
    expect(md).toContain('**Failed:** Could not set 2 config vars (values hidden): HTTP 403');
  });
});
