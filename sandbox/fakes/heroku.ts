import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createHerokuContract, type HerokuContract, herokuError } from '../contract/heroku.ts';
import {
  type ContractCheck,
  type FakeRequest,
  type FakeResponse,
  FakeServer,
  type Fault,
} from '../fake-server.ts';

/**
 * A loopback Heroku Platform API: apps, config vars, add-ons, pipelines and
 * couplings, ACM, domains, promotions, releases (with Range paging) and
 * builds (with a streamed output), each request checked by the schema.
 */

type Json = Record<string, unknown>;

export interface HerokuApp {
  id: string;
  name: string;
  region: string;
  stack: string;
  team: string | null;
  acm: boolean;
  webUrl: string;
  createdAt: string;
  updatedAt: string;
  maintenance: boolean;
  /** Platform generation (schema `app.generation`): Fir apps release OCI images and have no slugs. */
  generation: 'cedar' | 'fir';
}

export interface HerokuAddon {
  id: string;
  appId: string;
  name: string;
  service: string;
  plan: string;
  configVars: string[];
  createdAt: string;
}

/**
 * An add-on attached to an app under a name (schema `add-on-attachment`). Every add-on
 * has one on its billing app; `heroku addons:attach` adds more on other apps, which
 * then receive `<NAME>_URL` (heroku/cli src/lib/addons/resolve.ts reads attachments
 * with `Accept-Inclusion: config_vars` to learn them).
 */
export interface HerokuAttachment {
  id: string;
  addonId: string;
  appId: string;
  name: string;
  createdAt: string;
}

export interface HerokuPipeline {
  id: string;
  name: string;
  createdAt: string;
}

export interface HerokuCoupling {
  id: string;
  appId: string;
  pipelineId: string;
  stage: string;
  createdAt: string;
}

export interface HerokuDomain {
  id: string;
  appId: string;
  hostname: string;
  kind: 'heroku' | 'custom';
  cname: string | null;
  status: string;
  acmStatus: string | null;
  acmStatusReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface HerokuRelease {
  id: string;
  appId: string;
  version: number;
  description: string;
  status: 'pending' | 'succeeded' | 'failed' | 'expired';
  slugId: string | null;
  config: Record<string, string>;
  createdAt: string;
  /**
   * `eligible_for_rollback`, by default true for a succeeded release. Heroku marks
   * some succeeded releases ineligible; the CLI's `rollback` picks among the eligible
   * ones only (heroku/cli src/lib/releases/releases.ts, findByPreviousOrId).
   */
  eligibleForRollback?: boolean;
}

export interface HerokuBuild {
  id: string;
  appId: string;
  status: 'pending' | 'succeeded' | 'failed';
  sourceBlob: { url: string; version: string | null; checksum: string | null };
  buildpacks: unknown;
  slugId: string | null;
  releaseId: string | null;
  lines: string[];
  done: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface HerokuPromotion {
  id: string;
  pipelineId: string;
  sourceAppId: string;
  sourceReleaseId: string;
  status: 'pending' | 'completed';
  createdAt: string;
  updatedAt: string;
}

export interface HerokuPromotionTarget {
  id: string;
  promotionId: string;
  appId: string;
  status: 'pending' | 'succeeded' | 'failed';
  releaseId: string | null;
  errorMessage: string | null;
}

export interface HerokuState {
  account: { id: string; email: string; name: string };
  /** Keys the fake accepts; empty means any bearer key. */
  apiKeys: Set<string>;
  apps: HerokuApp[];
  configVars: Map<string, Record<string, string>>;
  addons: HerokuAddon[];
  attachments: HerokuAttachment[];
  /** Names of apps that exist in other accounts: this key gets 403 for them. */
  foreignApps: Set<string>;
  pipelines: HerokuPipeline[];
  couplings: HerokuCoupling[];
  domains: HerokuDomain[];
  releases: HerokuRelease[];
  builds: HerokuBuild[];
  promotions: HerokuPromotion[];
  promotionTargets: HerokuPromotionTarget[];
  rateLimitRemaining: number;
}

export interface HerokuKnobs {
  /** How long a promotion target stays `pending`. */
  promotionDelayMs: number;
  /** Target app name or id → error_message: the promotion to it fails. */
  promotionFailures: Map<string, string>;
  /** Lines a build prints; one is streamed every `buildLineIntervalMs`. */
  buildLines: string[];
  buildLineIntervalMs: number;
  /** App name or id → lines printed before the build fails. */
  buildFailures: Map<string, string[]>;
  /** How long after ACM is enabled (or a domain added) certificates become `cert issued`. */
  acmDelayMs: number;
  /** App name or id → acm_status_reason: its certificates end `failed`. */
  acmFailures: Map<string, string>;
  /**
   * App name or id → message: enabling ACM is refused with 422, as Heroku refuses it
   * for apps on Eco dynos (devcenter.heroku.com/articles/automated-certificate-management).
   */
  acmRefusals: Map<string, string>;
  /**
   * How long a new custom domain answers `cname: null`, status `pending`, before its
   * DNS target is assigned (the Heroku CLI waits for it: heroku/cli
   * src/lib/domains/wait-for-domain.ts).
   */
  cnameDelayMs: number;
}

export interface HerokuFake {
  server: FakeServer;
  state: HerokuState;
  knobs: HerokuKnobs;
  contract: HerokuContract;
  start(): Promise<string>;
  stop(): Promise<void>;
  readonly url: string;
  seedApp(input: {
    name: string;
    region?: string;
    stack?: string;
    team?: string | null;
    generation?: 'cedar' | 'fir';
  }): HerokuApp;
  /** Attaches an add-on to another app as `name`, which then gets `<name>_URL`. */
  attachAddon(addonId: string, app: string, name: string): HerokuAttachment;
  seedAddon(
    app: string,
    input: { name?: string; service: string; plan?: string; config: Record<string, string> },
  ): HerokuAddon;
  seedPipeline(name: string): HerokuPipeline;
  couple(app: string, pipelineId: string, stage: string): HerokuCoupling;
  /** Adds releases with slugs (`Deploy <n>`) until the app has `count` more. */
  seedReleases(app: string, count: number): HerokuRelease[];
  app(nameOrId: string): HerokuApp | undefined;
  config(app: string): Record<string, string>;
  currentRelease(app: string): HerokuRelease | undefined;
}

export interface HerokuFakeOptions {
  schemaPath?: string;
  apiKeys?: string[];
  knobs?: Partial<HerokuKnobs>;
}

const DEFAULT_SCHEMA = new URL('../contracts/heroku/platform-api.schema.json', import.meta.url);
const REGIONS: Record<string, string> = {
  us: '59accabd-516d-4f0e-83e6-6e3757701145',
  eu: 'ed30241c-ed8c-4bb6-9714-61953675d0b4',
};
const STACKS: Record<string, string> = {
  'heroku-24': 'a70a6fc3-77ce-4a57-8d8e-6e1e4de4a1dc',
  'heroku-22': 'ee582d3c-717d-4a57-ba5a-da7e3f3b3ea7',
  container: '69bee368-352b-4bd0-9b7c-819d860a2588',
};

/**
 * A fault answering in Heroku's error shape, e.g. `herokuFault(429)` for a rate limit: the
 * Platform API answers it with `id: rate_limit`, `RateLimit-Remaining: 0` and no `Retry-After`
 * (devcenter.heroku.com/articles/platform-api-reference, "Rate Limits"; heroku-go
 * v5/round_trip_with_retry_backoff.go reads nothing but the status).
 */
export function herokuFault(status: number, message?: string, extra: Partial<Fault> = {}): Fault {
  const id =
    status === 429
      ? 'rate_limit'
      : status === 503
        ? 'service_unavailable'
        : status >= 500
          ? 'internal_server_error'
          : 'bad_request';
  const text =
    message ??
    (status === 429
      ? 'Your account reached the API rate limit. Please wait a few minutes before making new requests.'
      : 'Injected fault.');
  const headers = status === 429 ? { 'ratelimit-remaining': '0' } : undefined;
  return { status, json: { id, message: text }, ...(headers ? { headers } : {}), ...extra };
}

export function createHerokuFake(options: HerokuFakeOptions = {}): HerokuFake {
  const state: HerokuState = {
    account: { id: randomUUID(), email: 'operator@example.com', name: 'Operator' },
    apiKeys: new Set(options.apiKeys ?? []),
    apps: [],
    configVars: new Map(),
    addons: [],
    attachments: [],
    foreignApps: new Set(),
    pipelines: [],
    couplings: [],
    domains: [],
    releases: [],
    builds: [],
    promotions: [],
    promotionTargets: [],
    rateLimitRemaining: 4500,
  };
  const knobs: HerokuKnobs = {
    promotionDelayMs: 150,
    promotionFailures: new Map(),
    buildLines: [
      '-----> Building on the Heroku-24 stack',
      '-----> Using buildpack: heroku/nodejs',
      '-----> Installing dependencies',
      '-----> Build succeeded!',
      '-----> Launching...',
    ],
    buildLineIntervalMs: 50,
    buildFailures: new Map(),
    acmDelayMs: 200,
    acmFailures: new Map(),
    acmRefusals: new Map(),
    cnameDelayMs: 0,
    ...options.knobs,
  };
  const schema = JSON.parse(readFileSync(options.schemaPath ?? DEFAULT_SCHEMA, 'utf8')) as object;
  const contract = createHerokuContract(schema, {
    acceptKey: (key) => state.apiKeys.size === 0 || state.apiKeys.has(key),
    passThrough: (req) => (req.path.startsWith('/streams/') ? 'build.output-stream' : undefined),
  });
  const timers = new Set<NodeJS.Timeout>();
  const wakers = new Map<string, Set<() => void>>();

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const wake = (buildId: string): void => {
    for (const w of wakers.get(buildId) ?? []) w();
    wakers.delete(buildId);
  };

  const checked = (req: FakeRequest): ContractCheck => {
    const check = contract.check(req);
    if (req.path.startsWith('/streams/')) return check;
    state.rateLimitRemaining = Math.max(0, state.rateLimitRemaining - 1);
    if (!check.reject && state.rateLimitRemaining === 0) {
      return {
        ...check,
        reject: herokuError(
          429,
          'rate_limit',
          'Your account reached the API rate limit. Please wait a few minutes before making new requests.',
        ),
      };
    }
    return check;
  };

  const server = new FakeServer({
    name: 'heroku',
    contract: checked,
    decorate: () => ({
      'request-id': randomUUID(),
      'ratelimit-remaining': String(state.rateLimitRemaining),
    }),
    notFound: () => herokuError(404, 'not_found', 'The requested API endpoint was not found.'),
  });

  const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const findApp = (key: string): HerokuApp | undefined =>
    state.apps.find((a) => a.id === key || a.name === key);
  const appMissing = (): FakeResponse =>
    herokuError(404, 'not_found', "Couldn't find that app.", { resource: 'app' });
  const config = (appId: string): Record<string, string> => {
    let vars = state.configVars.get(appId);
    if (!vars) {
      vars = {};
      state.configVars.set(appId, vars);
    }
    return vars;
  };
  const releasesOf = (appId: string): HerokuRelease[] =>
    state.releases.filter((r) => r.appId === appId).sort((a, b) => a.version - b.version);
  const current = (appId: string): HerokuRelease | undefined =>
    releasesOf(appId)
      .filter((r) => r.status === 'succeeded')
      .at(-1);
  const keyFor = (map: Map<string, unknown>, app: HerokuApp): string | undefined =>
    map.has(app.name) ? app.name : map.has(app.id) ? app.id : undefined;

  const addRelease = (
    app: HerokuApp,
    description: string,
    slugId: string | null,
    vars?: Record<string, string>,
  ): HerokuRelease => {
    const release: HerokuRelease = {
      id: randomUUID(),
      appId: app.id,
      version: (releasesOf(app.id).at(-1)?.version ?? 0) + 1,
      description,
      status: 'succeeded',
      slugId,
      config: { ...(vars ?? config(app.id)) },
      createdAt: now(),
    };
    state.releases.push(release);
    return release;
  };

  const createApp = (input: {
    name?: string;
    region?: string;
    stack?: string;
    team?: string | null;
    generation?: 'cedar' | 'fir';
  }): HerokuApp | FakeResponse => {
    const name = input.name ?? `${word()}-${word()}-${Math.floor(10000 + Math.random() * 89999)}`;
    if (findApp(name) || state.foreignApps.has(name))
      return herokuError(422, 'invalid_params', `Name ${name} is already taken`);
    const region = input.region ?? 'us';
    const regionName = REGIONS[region] ? region : Object.keys(REGIONS).find((k) => REGIONS[k] === region);
    if (!regionName) return herokuError(422, 'invalid_params', "Couldn't find that region.");
    const stack = input.stack ?? 'heroku-24';
    const stackName = STACKS[stack] ? stack : Object.keys(STACKS).find((k) => STACKS[k] === stack);
    if (!stackName) return herokuError(422, 'invalid_params', "Couldn't find that stack.");
    const at = now();
    const app: HerokuApp = {
      id: randomUUID(),
      name,
      region: regionName,
      stack: stackName,
      team: input.team ?? null,
      acm: false,
      webUrl: `https://${name}-${randomBytes(6).toString('hex')}.herokuapp.com/`,
      createdAt: at,
      updatedAt: at,
      maintenance: false,
      generation: input.generation ?? 'cedar',
    };
    state.apps.push(app);
    state.domains.push({
      id: randomUUID(),
      appId: app.id,
      hostname: new URL(app.webUrl).hostname,
      kind: 'heroku',
      cname: null,
      status: 'none',
      acmStatus: null,
      acmStatusReason: null,
      createdAt: at,
      updatedAt: at,
    });
    addRelease(app, 'Initial release', null, {});
    return app;
  };

  const appJson = (app: HerokuApp): Json => ({
    acm: app.acm,
    archived_at: null,
    buildpack_provided_description: null,
    build_stack: { id: STACKS[app.stack], name: app.stack },
    created_at: app.createdAt,
    generation: { id: stableId(app.generation), name: app.generation },
    git_url: `https://git.heroku.com/${app.name}.git`,
    id: app.id,
    internal_routing: null,
    maintenance: app.maintenance,
    name: app.name,
    owner: { email: state.account.email, id: state.account.id },
    organization: app.team ? { id: teamId(app.team), name: app.team } : null,
    team: app.team ? { id: teamId(app.team), name: app.team } : null,
    region: { id: REGIONS[app.region], name: app.region },
    released_at: current(app.id)?.createdAt ?? null,
    repo_size: null,
    slug_size: null,
    space: null,
    stack: { id: STACKS[app.stack], name: app.stack },
    updated_at: app.updatedAt,
    web_url: app.webUrl,
  });
  const teamAppJson = (app: HerokuApp): Json => ({
    ...appJson(app),
    team: app.team ? { name: app.team } : null,
    joined: false,
    locked: false,
  });
  const releaseJson = (r: HerokuRelease): Json => {
    const app = findApp(r.appId)!;
    return {
      addon_plan_names: state.addons.filter((a) => a.appId === r.appId).map((a) => a.plan),
      artifacts: [],
      app: { id: app.id, name: app.name },
      created_at: r.createdAt,
      description: r.description,
      id: r.id,
      updated_at: r.createdAt,
      slug: r.slugId ? { id: r.slugId } : null,
      status: r.status,
      user: { id: state.account.id, email: state.account.email },
      version: r.version,
      current: current(r.appId)?.id === r.id,
      output_stream_url: null,
      eligible_for_rollback: r.eligibleForRollback ?? r.status === 'succeeded',
    };
  };
  const domainJson = (d: HerokuDomain): Json => {
    const app = findApp(d.appId)!;
    return {
      acm_status: d.acmStatus,
      acm_status_reason: d.acmStatusReason,
      app: { id: app.id, name: app.name },
      cname: d.cname,
      created_at: d.createdAt,
      hostname: d.hostname,
      id: d.id,
      kind: d.kind,
      updated_at: d.updatedAt,
      status: d.status,
      sni_endpoint: null,
    };
  };
  const buildJson = (b: HerokuBuild): Json => ({
    app: { id: b.appId },
    buildpacks: b.buildpacks ?? null,
    created_at: b.createdAt,
    id: b.id,
    output_stream_url: `${server.url}/streams/builds/${b.id}`,
    source_blob: { ...b.sourceBlob, version_description: null },
    release: b.releaseId ? { id: b.releaseId } : null,
    slug: b.slugId ? { id: b.slugId } : null,
    stack: findApp(b.appId)?.stack ?? 'heroku-24',
    status: b.status,
    updated_at: b.updatedAt,
    user: { id: state.account.id, email: state.account.email },
  });
  const couplingJson = (c: HerokuCoupling): Json => ({
    app: { id: c.appId },
    created_at: c.createdAt,
    id: c.id,
    pipeline: { id: c.pipelineId },
    stage: c.stage,
    updated_at: c.createdAt,
  });
  const pipelineJson = (p: HerokuPipeline): Json => ({
    created_at: p.createdAt,
    id: p.id,
    name: p.name,
    owner: { id: state.account.id, type: 'user' },
    updated_at: p.createdAt,
    generation: { id: 'a1f5e4ba-6a6b-4a6f-9a3e-4f0c8b3a5c2d', name: 'cedar' },
  });
  const promotionJson = (p: HerokuPromotion): Json => ({
    created_at: p.createdAt,
    id: p.id,
    pipeline: { id: p.pipelineId },
    source: { app: { id: p.sourceAppId }, release: { id: p.sourceReleaseId } },
    status: p.status,
    updated_at: p.updatedAt,
  });
  const targetJson = (t: HerokuPromotionTarget): Json => ({
    app: { id: t.appId },
    error_message: t.errorMessage,
    id: t.id,
    pipeline_promotion: { id: t.promotionId },
    release: t.releaseId ? { id: t.releaseId } : null,
    status: t.status,
  });
  const addonJson = (a: HerokuAddon): Json => {
    const app = findApp(a.appId)!;
    return {
      actions: [],
      addon_service: { id: stableId(a.service), name: a.service },
      billing_entity: { id: app.id, name: app.name, type: 'app' },
      app: { id: app.id, name: app.name },
      billed_price: { cents: 0, contract: false, unit: 'month' },
      config_vars: a.configVars,
      created_at: a.createdAt,
      id: a.id,
      name: a.name,
      plan: { id: stableId(a.plan), name: a.plan },
      provider_id: a.id.slice(0, 8),
      state: 'provisioned',
      updated_at: a.createdAt,
      web_url: null,
    };
  };

  const issueCertificates = (app: HerokuApp): void => {
    const reason = knobs.acmFailures.get(keyFor(knobs.acmFailures, app) ?? '');
    later(knobs.acmDelayMs, () => {
      if (!app.acm) return;
      for (const d of state.domains) {
        if (d.appId !== app.id || d.kind !== 'custom') continue;
        d.acmStatus = reason === undefined ? 'cert issued' : 'failed';
        d.acmStatusReason = reason ?? null;
        d.status = 'succeeded';
        d.updatedAt = now();
      }
    });
  };

  const runBuild = (app: HerokuApp, build: HerokuBuild): void => {
    const failure = knobs.buildFailures.get(keyFor(knobs.buildFailures, app) ?? '');
    const lines = failure ?? knobs.buildLines;
    let i = 0;
    const tick = (): void => {
      if (build.done) return;
      if (i < lines.length) {
        build.lines.push(`${lines[i++]}\n`);
        wake(build.id);
        later(knobs.buildLineIntervalMs, tick);
        return;
      }
      build.updatedAt = now();
      if (failure) {
        build.status = 'failed';
      } else {
        build.slugId = randomUUID();
        const version = build.sourceBlob.version ?? build.sourceBlob.url;
        build.releaseId = addRelease(app, `Deploy ${version.slice(0, 7)}`, build.slugId).id;
        build.status = 'succeeded';
      }
      build.done = true;
      wake(build.id);
    };
    later(knobs.buildLineIntervalMs, tick);
  };

  async function* buildOutput(build: HerokuBuild): AsyncGenerator<string> {
    let sent = 0;
    while (true) {
      while (sent < build.lines.length) yield build.lines[sent++]!;
      if (build.done) return;
      await new Promise<void>((resolve) => {
        const set = wakers.get(build.id) ?? new Set();
        set.add(resolve);
        wakers.set(build.id, set);
      });
    }
  }

  const finishTarget = (target: HerokuPromotionTarget, promotion: HerokuPromotion): void => {
    const app = findApp(target.appId);
    const error = app
      ? knobs.promotionFailures.get(keyFor(knobs.promotionFailures, app) ?? '')
      : 'App not found';
    if (error !== undefined || !app) {
      target.status = 'failed';
      target.errorMessage = error ?? 'App not found';
    } else {
      const source = state.releases.find((r) => r.id === promotion.sourceReleaseId)!;
      const sourceApp = findApp(promotion.sourceAppId);
      target.releaseId = addRelease(
        app,
        `Promote ${sourceApp?.name ?? 'app'} v${source.version}`,
        source.slugId,
      ).id;
      target.status = 'succeeded';
    }
    if (state.promotionTargets.every((t) => t.promotionId !== promotion.id || t.status !== 'pending')) {
      promotion.status = 'completed';
      promotion.updatedAt = now();
    }
  };

  // An app of another account exists, so Heroku answers 403, not 404 (schema: app
  // identity; heroku/cli treats a 403 on /apps/{app} as "no access", not "no app").
  const dnsTarget = () => `${word()}-${word()}-${randomBytes(6).toString('hex')}.herokudns.com`;
  const withApp = (handler: (app: HerokuApp, req: FakeRequest) => FakeResponse) => (req: FakeRequest) => {
    const app = findApp(req.params.app!);
    if (app) return handler(app, req);
    if (state.foreignApps.has(req.params.app!))
      return herokuError(403, 'forbidden', `You do not have access to the app ${req.params.app}.`);
    return appMissing();
  };
  // An attachment's vars are the add-on's vars under the attachment's name:
  // HEROKU_POSTGRESQL_RED_URL on the billing app is DATABASE_URL where attached as DATABASE.
  const attachmentConfigVars = (attachment: HerokuAttachment): string[] => {
    const addon = state.addons.find((x) => x.id === attachment.addonId)!;
    const primary = state.attachments.find((x) => x.addonId === addon.id && x.appId === addon.appId);
    const prefix = `${primary?.name ?? attachment.name}_`;
    const vars = addon.configVars
      .filter((v) => v.startsWith(prefix))
      .map((v) => `${attachment.name}_${v.slice(prefix.length)}`);
    return vars.length > 0 ? vars : [`${attachment.name}_URL`];
  };
  const attachmentJson = (a: HerokuAttachment, withConfigVars: boolean): Json => {
    const addon = state.addons.find((x) => x.id === a.addonId)!;
    const owner = findApp(addon.appId)!;
    const app = findApp(a.appId)!;
    return {
      addon: { id: addon.id, name: addon.name, app: { id: owner.id, name: owner.name } },
      app: { id: app.id, name: app.name },
      created_at: a.createdAt,
      id: a.id,
      name: a.name,
      namespace: null,
      updated_at: a.createdAt,
      web_url: null,
      log_input_url: null,
      ...(withConfigVars ? { config_vars: attachmentConfigVars(a) } : {}),
    };
  };
  const body = (req: FakeRequest): Json => (req.json ?? {}) as Json;

  server
    .route('GET', '/account', () => ({
      status: 200,
      json: {
        allow_tracking: true,
        beta: false,
        created_at: '2020-01-01T00:00:00Z',
        email: state.account.email,
        federated: false,
        id: state.account.id,
        identity_provider: null,
        last_login: now(),
        name: state.account.name,
        sms_number: null,
        suspended_at: null,
        delinquent_at: null,
        two_factor_authentication: true,
        updated_at: now(),
        verified: true,
        country_of_residence: null,
        default_organization: null,
        default_team: null,
      },
    }))
    .route('GET', '/apps', (req) => ranged(req, state.apps, ['id', 'name'], 'id', appJson))
    .route('POST', '/apps', (req) => {
      const b = body(req);
      const app = createApp({ name: b.name as string, region: b.region as string, stack: b.stack as string });
      return 'status' in app ? app : { status: 201, json: appJson(app) };
    })
    .route('POST', '/teams/apps', (req) => {
      const b = body(req);
      const team = (b.team as string | undefined) ?? null;
      const app = createApp({
        name: b.name as string,
        region: b.region as string,
        stack: b.stack as string,
        team,
      });
      return 'status' in app ? app : { status: 201, json: teamAppJson(app) };
    })
    .route(
      'GET',
      '/teams/apps/:app',
      withApp((app) => ({ status: 200, json: teamAppJson(app) })),
    )
    .route(
      'GET',
      '/apps/:app',
      withApp((app) => ({ status: 200, json: appJson(app) })),
    )
    .route(
      'DELETE',
      '/apps/:app',
      withApp((app) => {
        const json = appJson(app);
        state.apps = state.apps.filter((a) => a.id !== app.id);
        state.domains = state.domains.filter((d) => d.appId !== app.id);
        state.couplings = state.couplings.filter((c) => c.appId !== app.id);
        const billed = new Set(state.addons.filter((a) => a.appId === app.id).map((a) => a.id));
        state.addons = state.addons.filter((a) => !billed.has(a.id));
        state.attachments = state.attachments.filter((t) => t.appId !== app.id && !billed.has(t.addonId));
        state.configVars.delete(app.id);
        return { status: 200, json };
      }),
    )
    .route(
      'GET',
      '/apps/:app/config-vars',
      withApp((app) => ({ status: 200, json: config(app.id) })),
    )
    .route(
      'PATCH',
      '/apps/:app/config-vars',
      withApp((app, req) => {
        const vars = config(app.id);
        const set: string[] = [];
        const removed: string[] = [];
        for (const [key, value] of Object.entries(body(req))) {
          if (value === null) {
            if (key in vars) removed.push(key);
            delete vars[key];
          } else {
            vars[key] = String(value);
            set.push(key);
          }
        }
        const slug = current(app.id)?.slugId ?? null;
        if (set.length > 0) addRelease(app, `Set ${set.join(', ')} config vars`, slug);
        if (removed.length > 0) addRelease(app, `Remove ${removed.join(', ')} config vars`, slug);
        return { status: 200, json: vars };
      }),
    )
    .route(
      'GET',
      '/apps/:app/addons',
      withApp((app) => ({
        status: 200,
        // Add-ons attached to the app, those billed to other apps included (their
        // config_vars name the billing app's vars; schema `add-on` List By App).
        json: state.addons
          .filter((a) => state.attachments.some((t) => t.addonId === a.id && t.appId === app.id))
          .map(addonJson),
      })),
    )
    .route(
      'GET',
      '/apps/:app/addon-attachments',
      withApp((app, req) => ({
        status: 200,
        // `Accept-Inclusion: config_vars` adds each attachment's vars, as the Heroku CLI asks
        // (heroku/cli src/lib/addons/resolve.ts).
        json: state.attachments
          .filter((t) => t.appId === app.id)
          .map((t) => attachmentJson(t, /config_vars/.test(req.headers['accept-inclusion'] ?? ''))),
      })),
    )
    .route('GET', '/pipelines', (req) => ranged(req, state.pipelines, ['id', 'name'], 'id', pipelineJson))
    .route('POST', '/pipelines', (req) => {
      const name = String(body(req).name);
      if (state.pipelines.some((p) => p.name === name)) {
        return herokuError(422, 'invalid_params', 'Name has already been taken');
      }
      return { status: 201, json: pipelineJson(seedPipeline(name)) };
    })
    .route('GET', '/pipelines/:id', (req) => {
      const p = state.pipelines.find((x) => x.id === req.params.id || x.name === req.params.id);
      return p
        ? { status: 200, json: pipelineJson(p) }
        : herokuError(404, 'not_found', "Couldn't find that pipeline.");
    })
    .route('GET', '/pipelines/:id/pipeline-couplings', (req) => {
      if (!state.pipelines.some((p) => p.id === req.params.id)) {
        return herokuError(404, 'not_found', "Couldn't find that pipeline.");
      }
      return {
        status: 200,
        json: state.couplings.filter((c) => c.pipelineId === req.params.id).map(couplingJson),
      };
    })
    .route('GET', '/pipeline-couplings', () => ({ status: 200, json: state.couplings.map(couplingJson) }))
    .route('GET', '/pipeline-couplings/:id', (req) => {
      const c = state.couplings.find((x) => x.id === req.params.id);
      return c
        ? { status: 200, json: couplingJson(c) }
        : herokuError(404, 'not_found', "Couldn't find that pipeline coupling.");
    })
    .route('DELETE', '/pipeline-couplings/:id', (req) => {
      const c = state.couplings.find((x) => x.id === req.params.id);
      if (!c) return herokuError(404, 'not_found', "Couldn't find that pipeline coupling.");
      state.couplings = state.couplings.filter((x) => x !== c);
      return { status: 200, json: couplingJson(c) };
    })
    .route('POST', '/pipeline-couplings', (req) => {
      const b = body(req);
      const app = findApp(String(b.app));
      if (!app) return appMissing();
      if (!state.pipelines.some((p) => p.id === b.pipeline)) {
        return herokuError(404, 'not_found', "Couldn't find that pipeline.");
      }
      if (state.couplings.some((c) => c.appId === app.id)) {
        return herokuError(422, 'invalid_params', 'App is already a member of a pipeline');
      }
      return { status: 201, json: couplingJson(couple(app.name, String(b.pipeline), String(b.stage))) };
    })
    .route(
      'GET',
      '/apps/:app/pipeline-couplings',
      withApp((app) => {
        const c = state.couplings.find((x) => x.appId === app.id);
        return c
          ? { status: 200, json: couplingJson(c) }
          : herokuError(404, 'not_found', "Couldn't find that pipeline coupling.");
      }),
    )
    .route(
      'POST',
      '/apps/:app/acm',
      withApp((app) => {
        const refusal = knobs.acmRefusals.get(keyFor(knobs.acmRefusals, app) ?? '');
        if (refusal !== undefined) return herokuError(422, 'invalid_params', refusal);
        app.acm = true;
        app.updatedAt = now();
        for (const d of state.domains) {
          if (d.appId === app.id && d.kind === 'custom') d.acmStatus = 'pending';
        }
        issueCertificates(app);
        return { status: 200, json: appJson(app) };
      }),
    )
    .route(
      'DELETE',
      '/apps/:app/acm',
      withApp((app) => {
        app.acm = false;
        for (const d of state.domains) if (d.appId === app.id) d.acmStatus = null;
        return { status: 200, json: appJson(app) };
      }),
    )
    .route(
      'PATCH',
      '/apps/:app/acm',
      withApp((app) => {
        if (app.acm) issueCertificates(app);
        return { status: 200, json: appJson(app) };
      }),
    )
    .route(
      'GET',
      '/apps/:app/sni-endpoints',
      withApp(() => ({ status: 200, json: [] })),
    )
    .route(
      'GET',
      '/apps/:app/domains',
      withApp((app, req) =>
        ranged(
          req,
          state.domains.filter((d) => d.appId === app.id),
          // The schema declares no `ranges` for domain List, so only Heroku's default `id`.
          ['id'],
          'id',
          domainJson,
        ),
      ),
    )
    .route(
      'GET',
      '/apps/:app/domains/:domain',
      withApp((app, req) => {
        const key = req.params.domain!;
        const d = state.domains.find((x) => x.appId === app.id && (x.id === key || x.hostname === key));
        return d
          ? { status: 200, json: domainJson(d) }
          : herokuError(404, 'not_found', "Couldn't find that domain.", { resource: 'domain' });
      }),
    )
    .route(
      'POST',
      '/apps/:app/domains',
      withApp((app, req) => {
        const hostname = String(body(req).hostname).toLowerCase();
        if (state.domains.some((d) => d.hostname === hostname)) {
          return herokuError(422, 'invalid_params', `${hostname} is currently in use by another app.`);
        }
        const at = now();
        const domain: HerokuDomain = {
          id: randomUUID(),
          appId: app.id,
          hostname,
          kind: 'custom',
          cname: knobs.cnameDelayMs > 0 ? null : dnsTarget(),
          status: 'pending',
          acmStatus: app.acm ? 'pending' : null,
          acmStatusReason: null,
          createdAt: at,
          updatedAt: at,
        };
        state.domains.push(domain);
        if (knobs.cnameDelayMs > 0) {
          later(knobs.cnameDelayMs, () => {
            domain.cname = dnsTarget();
            domain.updatedAt = now();
          });
        }
        if (app.acm) issueCertificates(app);
        return { status: 201, json: domainJson(domain) };
      }),
    )
    .route(
      'DELETE',
      '/apps/:app/domains/:domain',
      withApp((app, req) => {
        const key = req.params.domain!;
        const d = state.domains.find((x) => x.appId === app.id && (x.id === key || x.hostname === key));
        if (!d) return herokuError(404, 'not_found', "Couldn't find that domain.", { resource: 'domain' });
        state.domains = state.domains.filter((x) => x !== d);
        return { status: 200, json: domainJson(d) };
      }),
    )
    .route(
      'GET',
      '/apps/:app/releases',
      withApp((app, req) => ranged(req, releasesOf(app.id), ['version', 'id'], 'version', releaseJson)),
    )
    .route(
      'GET',
      '/apps/:app/releases/:release',
      withApp((app, req) => {
        const key = req.params.release!;
        const r = releasesOf(app.id).find((x) => x.id === key || String(x.version) === key);
        return r
          ? { status: 200, json: releaseJson(r) }
          : herokuError(404, 'not_found', "Couldn't find that release.", { resource: 'release' });
      }),
    )
    .route(
      'POST',
      '/apps/:app/releases',
      withApp((app, req) => {
        const b = body(req);
        if (typeof b.release === 'string') {
          const target = releasesOf(app.id).find((r) => r.id === b.release);
          if (!target)
            return herokuError(404, 'not_found', "Couldn't find that release.", { resource: 'release' });
          if (!target.slugId)
            return herokuError(
              422,
              'invalid_params',
              `Cannot rollback to v${target.version}: it has no slug.`,
            );
          state.configVars.set(app.id, { ...target.config });
          return {
            status: 201,
            json: releaseJson(addRelease(app, `Rollback to v${target.version}`, target.slugId)),
          };
        }
        const slug = String(b.slug);
        const release = addRelease(app, String(b.description ?? `Deploy ${slug.slice(0, 8)}`), slug);
        return { status: 201, json: releaseJson(release) };
      }),
    )
    .route(
      'GET',
      '/apps/:app/builds',
      withApp((app, req) =>
        ranged(
          req,
          state.builds.filter((b) => b.appId === app.id),
          // The schema's ranges are `id, started_at`; a build starts when it is created.
          ['id', 'started_at', 'created_at'],
          'created_at',
          buildJson,
          { started_at: (b) => b.createdAt },
        ),
      ),
    )
    .route(
      'GET',
      '/apps/:app/builds/:build',
      withApp((app, req) => {
        const b = state.builds.find((x) => x.appId === app.id && x.id === req.params.build);
        return b
          ? { status: 200, json: buildJson(b) }
          : herokuError(404, 'not_found', "Couldn't find that build.", { resource: 'build' });
      }),
    )
    // Platform API schema, build "Cancel": `DELETE /apps/{app}/builds/{build}` cancels a running
    // build and answers the build. Its status enum has no `cancelled`: it ends `failed`, with no
    // slug and no release, and its output stream ends.
    .route(
      'DELETE',
      '/apps/:app/builds/:build',
      withApp((app, req) => {
        const b = state.builds.find((x) => x.appId === app.id && x.id === req.params.build);
        if (!b) return herokuError(404, 'not_found', "Couldn't find that build.", { resource: 'build' });
        if (!b.done) {
          b.lines.push('\n !     Build cancelled\n');
          b.status = 'failed';
          b.done = true;
          b.updatedAt = now();
          wake(b.id);
        }
        return { status: 200, json: buildJson(b) };
      }),
    )
    .route(
      'POST',
      '/apps/:app/builds',
      withApp((app, req) => {
        const b = body(req);
        const blob = (b.source_blob ?? {}) as Json;
        if (typeof blob.url !== 'string')
          return herokuError(422, 'invalid_params', 'source_blob.url is required.');
        const at = now();
        const build: HerokuBuild = {
          id: randomUUID(),
          appId: app.id,
          status: 'pending',
          sourceBlob: {
            url: blob.url,
            version: (blob.version as string | undefined) ?? null,
            checksum: (blob.checksum as string | undefined) ?? null,
          },
          buildpacks: b.buildpacks ?? null,
          slugId: null,
          releaseId: null,
          lines: [],
          done: false,
          createdAt: at,
          updatedAt: at,
        };
        state.builds.push(build);
        runBuild(app, build);
        return { status: 201, json: buildJson(build) };
      }),
    )
    .route('GET', '/streams/builds/:id', (req) => {
      const build = state.builds.find((b) => b.id === req.params.id);
      if (!build)
        return { status: 404, body: 'stream not found\n', headers: { 'content-type': 'text/plain' } };
      return {
        status: 200,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        stream: buildOutput(build),
      };
    })
    .route('POST', '/pipeline-promotions', (req) => {
      const b = body(req) as {
        pipeline: { id: string };
        source: { app?: { id?: string }; release?: { id?: string } };
        targets: { app?: { id?: string } }[];
      };
      const pipeline = state.pipelines.find((p) => p.id === b.pipeline.id);
      if (!pipeline) return herokuError(404, 'not_found', "Couldn't find that pipeline.");
      const sourceApp = findApp(b.source.app?.id ?? '');
      if (!sourceApp) return appMissing();
      const inPipeline = (app: HerokuApp): boolean =>
        state.couplings.some((c) => c.appId === app.id && c.pipelineId === pipeline.id);
      if (!inPipeline(sourceApp))
        return herokuError(422, 'invalid_params', 'Source app is not part of the pipeline.');
      const release = b.source.release?.id
        ? releasesOf(sourceApp.id).find((r) => r.id === b.source.release?.id)
        : current(sourceApp.id);
      if (!release?.slugId)
        return herokuError(422, 'invalid_params', 'Source app has no release to promote.');
      const targets: HerokuApp[] = [];
      for (const t of b.targets) {
        const app = findApp(t.app?.id ?? '');
        if (!app) return appMissing();
        if (!inPipeline(app))
          return herokuError(422, 'invalid_params', `App ${app.name} is not part of the pipeline.`);
        targets.push(app);
      }
      const at = now();
      const promotion: HerokuPromotion = {
        id: randomUUID(),
        pipelineId: pipeline.id,
        sourceAppId: sourceApp.id,
        sourceReleaseId: release.id,
        status: 'pending',
        createdAt: at,
        updatedAt: at,
      };
      state.promotions.push(promotion);
      for (const app of targets) {
        const target: HerokuPromotionTarget = {
          id: randomUUID(),
          promotionId: promotion.id,
          appId: app.id,
          status: 'pending',
          releaseId: null,
          errorMessage: null,
        };
        state.promotionTargets.push(target);
        later(knobs.promotionDelayMs, () => finishTarget(target, promotion));
      }
      return { status: 201, json: promotionJson(promotion) };
    })
    .route('GET', '/pipeline-promotions/:id', (req) => {
      const p = state.promotions.find((x) => x.id === req.params.id);
      return p
        ? { status: 200, json: promotionJson(p) }
        : herokuError(404, 'not_found', "Couldn't find that pipeline promotion.");
    })
    .route('GET', '/pipeline-promotions/:id/promotion-targets', (req) => {
      if (!state.promotions.some((x) => x.id === req.params.id)) {
        return herokuError(404, 'not_found', "Couldn't find that pipeline promotion.");
      }
      return {
        status: 200,
        json: state.promotionTargets.filter((t) => t.promotionId === req.params.id).map(targetJson),
      };
    });

  function seedPipeline(name: string): HerokuPipeline {
    const pipeline = { id: randomUUID(), name, createdAt: now() };
    state.pipelines.push(pipeline);
    return pipeline;
  }

  function couple(appKey: string, pipelineId: string, stage: string): HerokuCoupling {
    const app = findApp(appKey);
    if (!app) throw new Error(`no app ${appKey}`);
    const coupling = { id: randomUUID(), appId: app.id, pipelineId, stage, createdAt: now() };
    state.couplings.push(coupling);
    return coupling;
  }

  const mustApp = (key: string): HerokuApp => {
    const app = findApp(key);
    if (!app) throw new Error(`no app ${key}`);
    return app;
  };

  return {
    server,
    state,
    knobs,
    contract,
    get url() {
      return server.url;
    },
    start: () => server.start(),
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const build of state.builds) {
        build.done = true;
        wake(build.id);
      }
      await server.stop();
    },
    seedApp(input) {
      const app = createApp(input);
      if ('status' in app) throw new Error(`cannot seed app ${input.name}: ${JSON.stringify(app.json)}`);
      return app;
    },
    seedAddon(appKey, input) {
      const app = mustApp(appKey);
      Object.assign(config(app.id), input.config);
      const addon: HerokuAddon = {
        id: randomUUID(),
        appId: app.id,
        name: input.name ?? `${input.service}-${word()}-${Math.floor(10000 + Math.random() * 89999)}`,
        service: input.service,
        plan: input.plan ?? `${input.service}:essential-0`,
        configVars: Object.keys(input.config),
        createdAt: now(),
      };
      state.addons.push(addon);
      // One attachment per `<NAME>_URL` var on the billing app (a Postgres add-on is
      // attached as HEROKU_POSTGRESQL_<COLOR> and, when primary, as DATABASE).
      const names = Object.keys(input.config)
        .filter((k) => k.endsWith('_URL'))
        .map((k) => k.slice(0, -'_URL'.length));
      for (const name of names.length > 0 ? names : [input.service.toUpperCase().replace(/\W/g, '_')]) {
        state.attachments.push({
          id: randomUUID(),
          addonId: addon.id,
          appId: app.id,
          name,
          createdAt: addon.createdAt,
        });
      }
      return addon;
    },
    attachAddon(addonId, appKey, name) {
      const app = mustApp(appKey);
      const addon = state.addons.find((a) => a.id === addonId);
      if (!addon) throw new Error(`no add-on ${addonId}`);
      const attachment: HerokuAttachment = {
        id: randomUUID(),
        addonId,
        appId: app.id,
        name,
        createdAt: now(),
      };
      state.attachments.push(attachment);
      const owner = config(addon.appId);
      const url = addon.configVars.map((k) => owner[k]).find((v) => v !== undefined);
      if (url !== undefined) config(app.id)[`${name}_URL`] = url;
      return attachment;
    },
    seedPipeline,
    couple,
    seedReleases(appKey, count) {
      const app = mustApp(appKey);
      return Array.from({ length: count }, (_, i) =>
        addRelease(app, `Deploy ${String(i + 1).padStart(7, '0')}`, randomUUID()),
      );
    },
    app: findApp,
    config: (appKey) => config(mustApp(appKey).id),
    currentRelease: (appKey) => current(mustApp(appKey).id),
  };
}

interface RangeSpec {
  field: string;
  start: string | undefined;
  startExclusive: boolean;
  end: string | undefined;
  max: number;
  desc: boolean;
}

/** Heroku's list paging: `Range: <field> [<]start..end; max=N, order=desc`, 206 + Next-Range when cut. */
function ranged<T>(
  req: FakeRequest,
  items: T[],
  fields: string[],
  defaultField: string,
  toJson: (item: T) => Json,
  /** Range fields that are not a field of the JSON (Heroku sorts builds by `started_at`). */
  keys: Record<string, (item: T) => string | number> = {},
): FakeResponse {
  const parsed = parseRange(req.headers.range, fields, defaultField);
  if ('status' in parsed) return parsed;
  const value = (item: T): string | number => {
    const key = keys[parsed.field];
    if (key) return key(item);
    const v = toJson(item)[parsed.field];
    return typeof v === 'number' ? v : String(v);
  };
  const compare = (a: string | number, b: string | number): number =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
  const direction = parsed.desc ? -1 : 1;
  const coerce = (raw: string): string | number => (parsed.field === 'version' ? Number(raw) : raw);
  const sorted = [...items].sort((a, b) => direction * compare(value(a), value(b)));
  const inRange = sorted.filter((item) => {
    const v = value(item);
    if (parsed.start !== undefined) {
      const c = direction * compare(v, coerce(parsed.start));
      if (c < 0 || (c === 0 && parsed.startExclusive)) return false;
    }
    if (parsed.end !== undefined && direction * compare(v, coerce(parsed.end)) > 0) return false;
    return true;
  });
  const page = inRange.slice(0, parsed.max);
  const headers: Record<string, string> = { 'accept-ranges': fields.join(', ') };
  if (page.length > 0) {
    headers['content-range'] = `${parsed.field} ${value(page[0]!)}..${value(page.at(-1)!)}`;
  }
  if (page.length < inRange.length) {
    const order = parsed.desc ? ', order=desc' : '';
    headers['next-range'] = `${parsed.field} ]${value(page.at(-1)!)}..; max=${parsed.max}${order}`;
    return { status: 206, headers, json: page.map(toJson) };
  }
  return { status: 200, headers, json: page.map(toJson) };
}

function parseRange(
  header: string | undefined,
  fields: string[],
  defaultField: string,
): RangeSpec | FakeResponse {
  const defaults: RangeSpec = {
    field: defaultField,
    start: undefined,
    startExclusive: false,
    end: undefined,
    max: 200,
    desc: false,
  };
  if (!header?.trim()) return defaults;
  const bad = herokuError(
    400,
    'bad_request',
    'Invalid `Range` header. Please use format like `id ..; max=10, order=desc`.',
  );
  const m = /^\s*([a-z_]+)\s+(\]?)([^.\s;]*)\.\.([^;\s[]*)\[?\s*(?:;(.*))?$/i.exec(header);
  if (!m) return bad;
  const [, field, exclusive, start, end, rest] = m;
  if (!fields.includes(field!)) {
    return herokuError(
      400,
      'bad_request',
      `Invalid \`Range\` header. Please use one of ${fields.join(', ')}.`,
    );
  }
  if (!start && end) {
    return herokuError(
      416,
      'requested_range_not_satisfiable',
      'End range bounds without a start bound are currently not supported. Please specify a start bound.',
    );
  }
  const spec: RangeSpec = {
    ...defaults,
    field: field!,
    start: start || undefined,
    startExclusive: exclusive === ']',
    end: end || undefined,
  };
  const options = (rest ?? '').trim().replace(/;$/, '');
  if (options.includes(';')) return bad;
  for (const option of options
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)) {
    const [key, value] = option.split('=').map((s) => s.trim());
    if (key === 'max' && /^\d+$/.test(value ?? '')) spec.max = Math.min(1000, Math.max(1, Number(value)));
    else if (key === 'order' && (value === 'asc' || value === 'desc')) spec.desc = value === 'desc';
    else return bad;
  }
  return spec;
}

const WORDS = [
  'sleepy',
  'polar',
  'shallow',
  'cryptic',
  'agile',
  'quiet',
  'sierra',
  'wildwood',
  'harbor',
  'meadow',
  'falls',
  'ridge',
];

function word(): string {
  return WORDS[Math.floor(Math.random() * WORDS.length)]!;
}

function teamId(team: string): string {
  return stableId(`team:${team}`);
}

/** A UUID-shaped id that stays the same for the same name across calls. */
function stableId(name: string): string {
  let h = 0x811c9dc5;
  const bytes: number[] = [];
  for (let i = 0; i < 16; i++) {
    for (const ch of `${name}#${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    bytes.push(h & 0xff);
  }
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
