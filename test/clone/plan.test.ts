import { expect, describe as group, it } from 'vitest';
import { MARKER_VAR } from '../../src/clone/config.ts';
import { type CloneSettings, parseInputs } from '../../src/clone/inputs.ts';
import type { Observed, ObservedTarget } from '../../src/clone/observe.ts';
import { buildPlan, describe, type Step } from '../../src/clone/plan.ts';
import { StepError } from '../../src/core/errors.ts';
import { fromRecord, InputReader } from '../../src/core/inputs.ts';

const SOURCE_ID = '11111111-1111-4111-a111-111111111111';
const ACCOUNT = 'aaaaaaaa-aaaa-4aaa-aaaa-aaaaaaaaaaaa';

function settings(extra: Record<string, string> = {}): CloneSettings {
  return parseInputs(
    new InputReader(
      fromRecord({
        name: 'tati',
        folder: '/Photos/tati',
        'source-app': 'fetlife-prod',
        domain: 'shibari.photo',
        'dns-token': 'tok',
        'heroku-api-key': 'key',
        config: 'FEATURE=on',
        'exclude-config': 'DEBUG_*',
        ...extra,
      }),
    ),
  );
}

function observed(overrides: Partial<Observed> = {}): Observed {
  return {
    account: { id: ACCOUNT, email: 'op@example.com' },
    source: {
      app: {
        id: SOURCE_ID,
        name: 'fetlife-prod',
        region: 'eu',
        stack: 'heroku-24',
        team: undefined,
        ownerId: ACCOUNT,
        acm: true,
        webUrl: 'https://fetlife-prod.herokuapp.com/',
        createdAt: '2020-01-01T00:00:00Z',
        generation: 'cedar',
      },
      config: { SECRET: 's3', DATABASE_URL: 'postgres://x', DEBUG_SQL: '1', IMAGE_FOLDER: '/src' },
      addonVars: ['DATABASE_URL'],
      pipeline: { id: 'pipe-1', name: 'fetlife' },
      stage: 'production',
      release: { id: 'rel-9', version: 9, slugId: 'slug-9' },
    },
    target: undefined,
    dns: { provider: 'hetzner', zone: 'shibari.photo', name: 'tati', record: undefined },
    serversRecord: undefined,
    ...overrides,
  };
}

const DONE_CONFIG = { SECRET: 's3', FEATURE: 'on', IMAGE_FOLDER: '/Photos/tati', [MARKER_VAR]: SOURCE_ID };

function target(overrides: Partial<ObservedTarget> = {}): ObservedTarget {
  return {
    app: {
      id: 'app-2',
      name: 'fetlife-prod-tati',
      region: 'eu',
      stack: 'heroku-24',
      team: undefined,
      ownerId: ACCOUNT,
      acm: true,
      webUrl: 'https://fetlife-prod-tati.herokuapp.com/',
      createdAt: '2025-11-21T18:42:10Z',
      generation: 'cedar',
    },
    config: { ...DONE_CONFIG },
    coupling: { id: 'c-1', appId: 'app-2', pipelineId: 'pipe-1', stage: 'production' },
    domain: {
      id: 'd-1',
      hostname: 'tati.shibari.photo',
      kind: 'custom',
      cname: 'xyz.herokudns.com',
      status: 'succeeded',
      acmStatus: 'cert issued',
      acmStatusReason: undefined,
    },
    customDomains: 1,
    currentSlugId: 'slug-9',
    hasCode: true,
    ...overrides,
  };
}

const DONE_DNS = {
  provider: 'hetzner' as const,
  zone: 'shibari.photo',
  name: 'tati',
  record: { values: ['xyz.herokudns.com.'], ttl: 300 },
};

/** Each step as `describe` + `(exists)`: the exact lines a dry run prints. */
function lines(steps: Step[]): string[] {
  return steps.map((s) => `${describe(s)}${s.exists ? ' (exists)' : ''}`);
}

group('buildPlan: observed state → steps', () => {
  const cases: [string, CloneSettings, Observed, string[]][] = [
    [
      'nothing exists: every step, the DNS target still unknown',
      settings({ 'wait-for-certificate': 'true' }),
      observed(),
      [
        'create app fetlife-prod-tati in eu',
        'set 3 config vars (values hidden)',
        'couple fetlife-prod-tati to pipeline fetlife at production',
        'enable ACM on fetlife-prod-tati',
        'add domain tati.shibari.photo to fetlife-prod-tati',
        "create CNAME tati -> the new domain's DNS target (known once Heroku has added the domain)",
        'promote v9 of fetlife-prod to fetlife-prod-tati through pipeline fetlife',
        'wait for the certificate of tati.shibari.photo',
        'append a line to scripts/servers.txt',
      ],
    ],
    [
      'everything in place: nothing to do',
      settings({ 'wait-for-certificate': 'true' }),
      observed({ target: target(), dns: DONE_DNS, serversRecord: 'tati,...' }),
      [
        'create app fetlife-prod-tati in eu (exists)',
        'set 3 config vars (values hidden) (exists)',
        'couple fetlife-prod-tati to pipeline fetlife at production (exists)',
        'enable ACM on fetlife-prod-tati (exists)',
        'add domain tati.shibari.photo to fetlife-prod-tati (exists)',
        'keep CNAME tati -> xyz.herokudns.com. (exists)',
        'promote v9 of fetlife-prod to fetlife-prod-tati through pipeline fetlife (exists)',
        'wait for the certificate of tati.shibari.photo (exists)',
        'append a line to scripts/servers.txt (exists)',
      ],
    ],
    [
      'stopped after the domain: only the DNS record and what follows, with the target known',
      settings(),
      observed({
        target: target({
          currentSlugId: undefined,
          hasCode: false,
          domain: { ...target().domain!, acmStatus: 'pending' },
        }),
      }),
      [
        'create app fetlife-prod-tati in eu (exists)',
        'set 3 config vars (values hidden) (exists)',
        'couple fetlife-prod-tati to pipeline fetlife at production (exists)',
        'enable ACM on fetlife-prod-tati (exists)',
        'add domain tati.shibari.photo to fetlife-prod-tati (exists)',
        'create CNAME tati -> xyz.herokudns.com.',
        'promote v9 of fetlife-prod to fetlife-prod-tati through pipeline fetlife',
        'append a line to scripts/servers.txt',
      ],
    ],
    [
      'the right record with another TTL: change the TTL only',
      settings({ 'dns-ttl': '600' }),
      observed({ target: target(), dns: DONE_DNS, serversRecord: 'x' }),
      [
        'create app fetlife-prod-tati in eu (exists)',
        'set 3 config vars (values hidden) (exists)',
        'couple fetlife-prod-tati to pipeline fetlife at production (exists)',
        'enable ACM on fetlife-prod-tati (exists)',
        'add domain tati.shibari.photo to fetlife-prod-tati (exists)',
        'update CNAME tati -> xyz.herokudns.com. (ttl)',
        'promote v9 of fetlife-prod to fetlife-prod-tati through pipeline fetlife (exists)',
        'append a line to scripts/servers.txt (exists)',
      ],
    ],
    [
      'config partly copied, at another stage, record pointing elsewhere, dns-overwrite on',
      settings({ stage: 'staging', 'dns-overwrite': 'true' }),
      observed({
        target: target({ config: { [MARKER_VAR]: SOURCE_ID, SECRET: 'old' } }),
        dns: { ...DONE_DNS, record: { values: ['old.herokudns.com.'], ttl: 300 } },
        serversRecord: 'x',
      }),
      [
        'create app fetlife-prod-tati in eu (exists)',
        'set 3 config vars (values hidden)',
        'move fetlife-prod-tati to stage staging of pipeline fetlife',
        'enable ACM on fetlife-prod-tati (exists)',
        'add domain tati.shibari.photo to fetlife-prod-tati (exists)',
        'update CNAME tati -> xyz.herokudns.com. (records)',
        'promote v9 of fetlife-prod to fetlife-prod-tati through pipeline fetlife (exists)',
        'append a line to scripts/servers.txt (exists)',
      ],
    ],
    [
      'an empty unmarked app of ours (a run died between create and marker): claimed',
      settings({ region: 'us', team: 'acme' }),
      observed({
        target: target({
          app: { ...target().app, acm: false, team: 'acme', region: 'us' },
          config: {},
          coupling: undefined,
          domain: undefined,
          customDomains: 0,
          currentSlugId: undefined,
          hasCode: false,
        }),
      }),
      [
        'create app fetlife-prod-tati in us for team acme (exists)',
        `claim app fetlife-prod-tati (left empty by an interrupted run): set ${MARKER_VAR}`,
        'set 3 config vars (values hidden)',
        'couple fetlife-prod-tati to pipeline fetlife at production',
        'enable ACM on fetlife-prod-tati',
        'add domain tati.shibari.photo to fetlife-prod-tati',
        "create CNAME tati -> the new domain's DNS target (known once Heroku has added the domain)",
        'promote v9 of fetlife-prod to fetlife-prod-tati through pipeline fetlife',
        'append a line to scripts/servers.txt',
      ],
    ],
    [
      'dns-provider none: the record is printed for the operator',
      settings({ 'dns-provider': 'none', 'dns-token': '' }),
      observed({ dns: undefined, target: target(), serversRecord: 'x' }),
      [
        'create app fetlife-prod-tati in eu (exists)',
        'set 3 config vars (values hidden) (exists)',
        'couple fetlife-prod-tati to pipeline fetlife at production (exists)',
        'enable ACM on fetlife-prod-tati (exists)',
        'add domain tati.shibari.photo to fetlife-prod-tati (exists)',
        'print CNAME tati.shibari.photo. -> xyz.herokudns.com. for you to create',
        'promote v9 of fetlife-prod to fetlife-prod-tati through pipeline fetlife (exists)',
        'append a line to scripts/servers.txt (exists)',
      ],
    ],
    [
      'dns-provider none without a domain: no ACM, domain or DNS step',
      settings({ 'dns-provider': 'none', 'dns-token': '', domain: '', 'wait-for-certificate': 'true' }),
      observed({ dns: undefined }),
      [
        'create app fetlife-prod-tati in eu',
        'set 3 config vars (values hidden)',
        'couple fetlife-prod-tati to pipeline fetlife at production',
        'promote v9 of fetlife-prod to fetlife-prod-tati through pipeline fetlife',
        'append a line to scripts/servers.txt',
      ],
    ],
  ];

  it.each(cases)('%s', (_title, s, o, expected) => {
    expect(lines(buildPlan(s, o))).toEqual(expected);
  });

  it('copies the right keys: add-on vars and exclusions out, overrides and folder in, marker apart', () => {
    const steps = buildPlan(settings(), observed());
    expect(steps.find((s) => s.kind === 'config.set')).toEqual({
      kind: 'config.set',
      app: 'fetlife-prod-tati',
      keys: ['FEATURE', 'IMAGE_FOLDER', 'SECRET'],
      exists: false,
    });
    const partial = buildPlan(
      settings(),
      observed({ target: target({ config: { ...DONE_CONFIG, SECRET: 'old' } }) }),
    );
    expect(partial.find((s) => s.kind === 'config.set')).toMatchObject({ keys: ['SECRET'], exists: false });
  });

  it('takes region, stack and team from the source unless given', () => {
    const source = observed();
    source.source.app.team = 'acme';
    expect(buildPlan(settings(), source)[0]).toEqual({
      kind: 'app.create',
      app: 'fetlife-prod-tati',
      region: 'eu',
      stack: 'heroku-24',
      team: 'acme',
      exists: false,
    });
    expect(buildPlan(settings({ region: 'us', stack: 'heroku-22', team: 'other' }), source)[0]).toMatchObject(
      {
        region: 'us',
        stack: 'heroku-22',
        team: 'other',
      },
    );
  });

  const refusals: [string, Partial<ObservedTarget>, Partial<Observed>, RegExp][] = [
    [
      'an app with config but no marker',
      { config: { OTHER: 'x' } },
      {},
      /already exists and it has no OPS_ACTIONS_CLONE_OF/,
    ],
    [
      'an app cloned from another source',
      { config: { [MARKER_VAR]: 'other-id' } },
      {},
      /names another source app \(other-id\)/,
    ],
    [
      'an empty app of another account',
      {
        app: { ...target().app, ownerId: 'someone-else', acm: false },
        config: {},
        coupling: undefined,
        domain: undefined,
        customDomains: 0,
        hasCode: false,
      },
      {},
      /has no OPS_ACTIONS_CLONE_OF/,
    ],
    [
      'an empty-config app that already runs code',
      {
        app: { ...target().app, acm: false },
        config: {},
        coupling: undefined,
        domain: undefined,
        customDomains: 0,
      },
      {},
      /has no OPS_ACTIONS_CLONE_OF/,
    ],
    [
      'our app in another pipeline',
      { coupling: { id: 'c', appId: 'app-2', pipelineId: 'pipe-2', stage: 'production' } },
      {},
      /coupled to another pipeline/,
    ],
    [
      'a CNAME pointing at something else than the domain target',
      {},
      { dns: { ...DONE_DNS, record: { values: ['other-app.herokudns.com.'], ttl: 300 } } },
      /points at other-app\.herokudns\.com\., not at this app's Heroku DNS target.*dns-overwrite: true/,
    ],
    [
      'a CNAME at the name before the domain exists',
      { domain: undefined },
      { dns: { ...DONE_DNS, record: { values: ['legacy.example.net.'], ttl: 300 } } },
      /points at legacy\.example\.net\./,
    ],
    [
      'an app of the name that belongs to another account (403)',
      {},
      {
        target: undefined,
        targetForbidden:
          'Heroku app fetlife-prod-tati exists but this heroku-api-key has no access to it (403: You do not have access to the app fetlife-prod-tati.)',
      },
      /exists but this heroku-api-key has no access.*refusing to touch it/,
    ],
    [
      'a protected record that must change',
      {},
      { dns: { ...DONE_DNS, record: { values: ['old.example.'], ttl: 300, protected: true } } },
      /protected/,
    ],
  ];

  it.each(refusals)('refuses %s, naming it', (_title, t, o, message) => {
    let error: unknown;
    try {
      buildPlan(settings(), observed({ target: target(t), ...o }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/fetlife-prod-tati|tati\.shibari\.photo/);
  });
});
