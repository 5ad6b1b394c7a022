import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCloudflareFake } from '../../sandbox/fakes/cloudflare.ts';
import { createHerokuFake } from '../../sandbox/fakes/heroku.ts';
import { createHetznerFake } from '../../sandbox/fakes/hetzner.ts';
import { type BundleRun, type RunOptions, runBundle } from '../helpers/run-bundle.ts';

/**
 * One sandboxed world for action-clone: Heroku with a source app in a pipeline
 * (add-ons, config, releases), Hetzner Cloud and Cloudflare zones, and a workspace
 * that persists across runs so a re-run sees the servers file of the run before.
 */

export const HEROKU_KEY = 'HRKU-canary0heroku0key0AAAAAAAAAAAAAAAA';
export const DNS_TOKEN = 'dns-canary-token-BBBBBBBBBBBBBBBBBBBB';
export const SOURCE = 'fetlife-prod';
export const APP = 'fetlife-prod-tati';
export const ZONE = 'shibari.photo';

/** Every value here is a secret that must never be printed. */
export const SOURCE_CONFIG: Record<string, string> = {
  SECRET_KEY_BASE: 'canary-skb-7d1f0c55b2e94a8e',
  STRIPE_API_KEY: 'canary-stripe-1a2b3c4d5e6f',
  SENTRY_DSN: 'https://canary-sentry-key@sentry.example/1',
  DEBUG_SQL: 'canary-debug-sql-0n1',
  DEBUG_CACHE: 'canary-debug-cache-0n2',
  IMAGE_FOLDER: 'canary-source-folder-xyz9',
};
/** A plain word stays readable: masking it would hide `production` in every later line of the job. */
export const PLAIN_CONFIG: Record<string, string> = { RAILS_ENV: 'production' };
export const ADDON_CONFIG = {
  DATABASE_URL: 'postgres://canaryuser:canary-db-pass-99@db.example:5432/src',
  HEROKU_POSTGRESQL_RED_URL: 'postgres://canaryuser:canary-db-pass-99@db.example:5432/src',
};
export const REDIS_CONFIG = { REDIS_URL: 'rediss://:canary-redis-pass-77@redis.example:6379' };
export const OVERRIDE = 'canary-override-value-42';
export const SECRETS = [
  HEROKU_KEY,
  DNS_TOKEN,
  OVERRIDE,
  ...Object.values(SOURCE_CONFIG),
  ...Object.values(ADDON_CONFIG),
  ...Object.values(REDIS_CONFIG),
];

/** What the clone's config must be: source minus add-on vars and exclusions, plus overrides. */
export const CLONE_CONFIG_KEYS = [
  'FEATURE_FLAG',
  'IMAGE_FOLDER',
  'OPS_ACTIONS_CLONE_OF',
  'RAILS_ENV',
  'SECRET_KEY_BASE',
  'STRIPE_API_KEY',
];

export type World = Awaited<ReturnType<typeof createWorld>>;

/** A token of each DNS provider that the fakes accept with fewer rights. */
export const READ_ONLY_DNS_TOKEN = 'dns-canary-readonly-CCCCCCCCCCCCCCCC';

export async function createWorld(
  options: {
    acmDelayMs?: number;
    promotionDelayMs?: number;
    cnameDelayMs?: number;
    /** The source's own Postgres add-on (DATABASE_URL); off for worlds that attach one from elsewhere. */
    ownDatabase?: boolean;
  } = {},
) {
  const heroku = createHerokuFake({
    apiKeys: [HEROKU_KEY],
    knobs: {
      promotionDelayMs: options.promotionDelayMs ?? 120,
      acmDelayMs: options.acmDelayMs ?? 150,
      cnameDelayMs: options.cnameDelayMs ?? 0,
    },
  });
  const hetzner = createHetznerFake({
    token: DNS_TOKEN,
    readOnlyToken: READ_ONLY_DNS_TOKEN,
    actionDelayMs: 60,
  });
  const cloudflare = createCloudflareFake({ token: DNS_TOKEN, dnsOnlyToken: READ_ONLY_DNS_TOKEN });
  await Promise.all([heroku.start(), hetzner.start(), cloudflare.start()]);

  const source = heroku.seedApp({ name: SOURCE, region: 'eu', stack: 'heroku-24' });
  if (options.ownDatabase !== false)
    heroku.seedAddon(SOURCE, { service: 'heroku-postgresql', config: ADDON_CONFIG });
  heroku.seedAddon(SOURCE, { service: 'heroku-redis', config: REDIS_CONFIG });
  Object.assign(heroku.config(SOURCE), SOURCE_CONFIG, PLAIN_CONFIG);
  heroku.seedReleases(SOURCE, 2);
  const pipeline = heroku.seedPipeline('fetlife');
  heroku.couple(SOURCE, pipeline.id, 'production');
  hetzner.addZone({
    name: ZONE,
    rrsets: [{ name: 'www', type: 'CNAME', records: [{ value: 'elsewhere.example.' }] }],
  });
  cloudflare.addZone({ name: ZONE });

  const dir = join(
    (await import('node:os')).tmpdir(),
    `clone-world-${process.pid}-${Math.random().toString(36).slice(2)}`,
  );
  const workspace = join(dir, 'workspace');
  (await import('node:fs')).mkdirSync(workspace, { recursive: true });

  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
    name: 'tati',
    folder: '/Photos/tati',
    'source-app': SOURCE,
    domain: ZONE,
    'dns-provider': 'hetzner',
    'dns-token': DNS_TOKEN,
    'heroku-api-key': HEROKU_KEY,
    'heroku-api-url': heroku.url,
    'hetzner-api-url': `${hetzner.server.url}/v1`,
    'cloudflare-api-url': `${cloudflare.server.url}/client/v4`,
    'exclude-config': 'SENTRY_DSN, DEBUG_*',
    config: `FEATURE_FLAG=${OVERRIDE}`,
    'wait-for-certificate': 'true',
    timeout: '60',
    ...extra,
  });

  const run = (extra: Record<string, string> = {}, options: RunOptions = {}): Promise<BundleRun> =>
    runBundle('clone', { inputs: inputs(extra), cwd: workspace, timeoutMs: 90_000, ...options });

  const serversFile = join(workspace, 'scripts', 'servers.txt');
  const servers = (): string[] =>
    existsSync(serversFile) ? readFileSync(serversFile, 'utf8').split('\n').filter(Boolean) : [];

  /** Requests of an operation that the fake answered with success (the resource was made). */
  const succeeded = (
    fake: {
      server: {
        requests: {
          operation?: string | undefined;
          route?: string | undefined;
          status: unknown;
          faulted: boolean;
        }[];
      };
    },
    op: string,
  ) =>
    fake.server.requests.filter(
      (r) =>
        (r.operation === op || r.route === op) &&
        !r.faulted &&
        typeof r.status === 'number' &&
        r.status < 300,
    ).length;

  const mutating = () =>
    [heroku.server, hetzner.server, cloudflare.server].flatMap((s) =>
      s.requests.filter((r) => r.method !== 'GET').map((r) => `${s.name} ${r.method} ${r.path}`),
    );

  const violations = () => [
    ...heroku.server.violations,
    ...hetzner.server.violations,
    ...cloudflare.server.violations,
  ];

  const stop = () => Promise.all([heroku.stop(), hetzner.stop(), cloudflare.stop()]);

  return {
    heroku,
    hetzner,
    cloudflare,
    source,
    pipeline,
    workspace,
    serversFile,
    servers,
    inputs,
    run,
    succeeded,
    mutating,
    violations,
    stop,
  };
}

/** The state a finished clone leaves, with ids and random names replaced by what they must equal. */
export function endState(w: World, provider: 'hetzner' | 'cloudflare' | 'none' = 'hetzner') {
  const app = w.heroku.app(APP);
  if (!app) return { app: 'missing' };
  const config = w.heroku.config(APP);
  const coupling = w.heroku.state.couplings.find((c) => c.appId === app.id);
  const domains = w.heroku.state.domains.filter((d) => d.appId === app.id && d.kind === 'custom');
  const cname = domains[0]?.cname;
  let dns: unknown;
  if (provider === 'hetzner') {
    const rrset = w.hetzner.zone(ZONE)?.rrsets.filter((r) => r.name === 'tati');
    dns = rrset?.map((r) => ({
      type: r.type,
      ttl: r.ttl,
      values: r.records.map((x) => (x.value === `${cname}.` ? '<cname>.' : x.value)),
    }));
  } else if (provider === 'cloudflare') {
    dns = w.cloudflare
      .records(ZONE)
      .filter((r) => r.name === `tati.${ZONE}`)
      .map((r) => ({
        type: r.type,
        ttl: r.ttl,
        proxied: r.proxied,
        content: r.content === cname ? '<cname>' : r.content,
      }));
  }
  return {
    apps: w.heroku.state.apps.map((a) => a.name).sort(),
    region: app.region,
    stack: app.stack,
    acm: app.acm,
    configKeys: Object.keys(config).sort(),
    configOk:
      config.OPS_ACTIONS_CLONE_OF === w.source.id &&
      config.FEATURE_FLAG === OVERRIDE &&
      config.IMAGE_FOLDER === '/Photos/tati' &&
      config.SECRET_KEY_BASE === SOURCE_CONFIG.SECRET_KEY_BASE,
    coupling: coupling
      ? { pipeline: coupling.pipelineId === w.pipeline.id, stage: coupling.stage }
      : undefined,
    domains: domains.map((d) => ({ hostname: d.hostname, acm: d.acmStatus })),
    released: w.heroku.currentRelease(APP)?.slugId === w.heroku.currentRelease(SOURCE)?.slugId,
    dns,
    servers: w
      .servers()
      .map((l) =>
        l
          .replace(/,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, ',<time>')
          .replace(app.webUrl.replace(/\/$/, ''), '<web>'),
      ),
  };
}

export function expectedEndState(_w: World, provider: 'hetzner' | 'cloudflare' | 'none' = 'hetzner') {
  const dns =
    provider === 'hetzner'
      ? [{ type: 'CNAME', ttl: 300, values: ['<cname>.'] }]
      : provider === 'cloudflare'
        ? [{ type: 'CNAME', ttl: 300, proxied: false, content: '<cname>' }]
        : undefined;
  return {
    apps: [APP, SOURCE].sort(),
    region: 'eu',
    stack: 'heroku-24',
    acm: true,
    configKeys: CLONE_CONFIG_KEYS,
    configOk: true,
    coupling: { pipeline: true, stage: 'production' },
    domains: [{ hostname: `tati.${ZONE}`, acm: 'cert issued' }],
    released: true,
    dns,
    servers: [`tati,/Photos/tati,<web>,https://tati.${ZONE},<time>`],
  };
}
