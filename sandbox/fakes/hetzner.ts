import { type ContractProblem, createOpenApiChecker, readOpenApiDocument } from '../contract/openapi.ts';
import { type FakeRequest, type FakeResponse, FakeServer, type Fault } from '../fake-server.ts';

/**
 * Hetzner Cloud DNS (`/v1/zones...`): zones by id or name, RRSets with relative lowercase names,
 * and RRSet changes answered as actions that are `running` until a delay has passed.
 */

export interface HetznerRecord {
  value: string;
  comment?: string;
}

export interface HetznerRRSet {
  name: string;
  type: string;
  ttl: number | null;
  records: HetznerRecord[];
  labels: Record<string, string>;
}

export interface HetznerZone {
  id: number;
  name: string;
  ttl: number;
  created: string;
  rrsets: HetznerRRSet[];
}

export interface HetznerAction {
  id: number;
  command: string;
  zoneId: number;
  startedAt: number;
  /** Set with `failNextAction`: the action ends in `error`. */
  error?: { code: string; message: string };
}

export interface HetznerFakeOptions {
  token?: string;
  /**
   * A token with read permission only: accepted for GET, refused on any write with
   * 403 `token_readonly` (hcloud-go hcloud/error.go: "the token is only allowed to
   * perform GET requests").
   */
  readOnlyToken?: string;
  /** How long an action stays `running` before it reports `success`. */
  actionDelayMs?: number;
  rateLimit?: number;
  basePath?: string;
}

export function createHetznerFake(options: HetznerFakeOptions = {}) {
  const token = options.token ?? 'hetzner-test-token';
  const limit = options.rateLimit ?? 3600;
  const state = {
    zones: [] as HetznerZone[],
    actions: [] as HetznerAction[],
    actionDelayMs: options.actionDelayMs ?? 50,
    rateLimitRemaining: limit,
  };
  let nextId = 1000;
  let failNext: HetznerAction['error'] | undefined;
  const v1 = `${options.basePath ?? ''}/v1`;

  const server = new FakeServer({
    name: 'hetzner',
    contract: createOpenApiChecker(readOpenApiDocument(contractUrl()), {
      basePath: options.basePath,
      acceptsCredentials: (req) =>
        req.headers.authorization === `Bearer ${token}` ||
        (options.readOnlyToken !== undefined &&
          req.headers.authorization === `Bearer ${options.readOnlyToken}`),
      reject: hetznerReject,
    }),
    decorate: () => {
      state.rateLimitRemaining = Math.max(0, state.rateLimitRemaining - 1);
      return {
        'ratelimit-limit': String(limit),
        'ratelimit-remaining': String(state.rateLimitRemaining),
        'ratelimit-reset': String(Math.floor(Date.now() / 1000) + (limit - state.rateLimitRemaining)),
      };
    },
    notFound: () => hetznerError(404, 'not_found', 'not found'),
  });

  function addZone(input: {
    name: string;
    id?: number;
    ttl?: number;
    rrsets?: Partial<HetznerRRSet>[];
  }): HetznerZone {
    const zone: HetznerZone = {
      id: input.id ?? nextId++,
      name: input.name,
      ttl: input.ttl ?? 3600,
      created: new Date().toISOString(),
      rrsets: [],
    };
    for (const r of input.rrsets ?? []) {
      zone.rrsets.push({
        name: r.name ?? '@',
        type: r.type ?? 'A',
        ttl: r.ttl ?? null,
        records: r.records ?? [],
        labels: r.labels ?? {},
      });
    }
    state.zones.push(zone);
    return zone;
  }

  function zoneForWrite(req: FakeRequest): HetznerZone | FakeResponse {
    if (
      options.readOnlyToken !== undefined &&
      req.headers.authorization === `Bearer ${options.readOnlyToken}`
    )
      return hetznerError(403, 'token_readonly', 'The token is only allowed to perform GET requests');
    return zoneOf(req);
  }

  function zoneOf(req: FakeRequest): HetznerZone | FakeResponse {
    const key = req.params.zone ?? '';
    const zone = /^\d+$/.test(key)
      ? state.zones.find((z) => z.id === Number(key))
      : state.zones.find((z) => z.name === key);
    return zone ?? hetznerError(404, 'not_found', `zone with ID or name ${key} not found`);
  }

  function rrsetOf(req: FakeRequest): { zone: HetznerZone; rrset: HetznerRRSet } | FakeResponse {
    const zone = zoneOf(req);
    if (!isZone(zone)) return zone;
    const rrset = zone.rrsets.find((r) => r.name === req.params.name && r.type === req.params.type);
    if (!rrset)
      return hetznerError(404, 'not_found', `rrset ${req.params.name}/${req.params.type} not found`);
    return { zone, rrset };
  }

  function startAction(command: string, zone: HetznerZone): HetznerAction {
    const action: HetznerAction = { id: nextId++, command, zoneId: zone.id, startedAt: Date.now() };
    if (failNext) action.error = failNext;
    failNext = undefined;
    state.actions.push(action);
    return action;
  }

  function actionView(action: HetznerAction) {
    const done = Date.now() - action.startedAt >= state.actionDelayMs;
    const status = !done ? 'running' : action.error ? 'error' : 'success';
    return {
      id: action.id,
      command: action.command,
      status,
      progress: done ? 100 : 0,
      started: new Date(action.startedAt).toISOString(),
      finished: done ? new Date(action.startedAt + state.actionDelayMs).toISOString() : null,
      resources: [{ id: action.zoneId, type: 'zone' }],
      error: done && action.error ? action.error : null,
    };
  }

  const zoneView = (zone: HetznerZone) => ({
    id: zone.id,
    name: zone.name,
    created: zone.created,
    mode: 'primary',
    primary_nameservers: [],
    labels: {},
    protection: { delete: false },
    ttl: zone.ttl,
    status: 'ok',
    record_count: zone.rrsets.reduce((n, r) => n + r.records.length, 0),
    authoritative_nameservers: {
      assigned: ['hydrogen.ns.hetzner.com.', 'oxygen.ns.hetzner.com.', 'helium.ns.hetzner.de.'],
      delegated: [],
      delegation_last_check: null,
      delegation_status: 'unknown',
    },
    registrar: 'other',
  });

  const rrsetView = (zone: HetznerZone, r: HetznerRRSet) => ({
    id: `${r.name}/${r.type}`,
    name: r.name,
    type: r.type,
    ttl: r.ttl,
    labels: r.labels,
    protection: { change: false },
    records: r.records,
    zone: zone.id,
  });

  server.route('GET', `${v1}/zones`, (req) => {
    const name = req.query.get('name');
    const zones = state.zones.filter((z) => !name || z.name === name);
    return { status: 200, json: { zones: zones.map(zoneView), meta: pagination(zones.length) } };
  });

  server.route('GET', `${v1}/zones/actions/:action`, (req) => actionAnswer(req, undefined));

  server.route('GET', `${v1}/zones/:zone`, (req) => {
    const zone = zoneOf(req);
    return isZone(zone) ? { status: 200, json: { zone: zoneView(zone) } } : zone;
  });

  server.route('GET', `${v1}/zones/:zone/actions/:action`, (req) => {
    const zone = zoneOf(req);
    return isZone(zone) ? actionAnswer(req, zone) : zone;
  });

  function actionAnswer(req: FakeRequest, zone: HetznerZone | undefined): FakeResponse {
    const action = state.actions.find(
      (a) => a.id === Number(req.params.action) && (!zone || a.zoneId === zone.id),
    );
    if (!action) return hetznerError(404, 'not_found', `action with ID ${req.params.action} not found`);
    return { status: 200, json: { action: actionView(action) } };
  }

  server.route('GET', `${v1}/zones/:zone/rrsets`, (req) => {
    const zone = zoneOf(req);
    if (!isZone(zone)) return zone;
    const name = req.query.get('name');
    const types = req.query.getAll('type');
    const list = zone.rrsets.filter(
      (r) => (!name || r.name === name) && (types.length === 0 || types.includes(r.type)),
    );
    return {
      status: 200,
      json: { rrsets: list.map((r) => rrsetView(zone, r)), meta: pagination(list.length) },
    };
  });

  server.route('POST', `${v1}/zones/:zone/rrsets`, (req) => {
    const zone = zoneForWrite(req);
    if (!isZone(zone)) return zone;
    const body = req.json as {
      name: string;
      type: string;
      ttl?: number | null;
      records: HetznerRecord[];
      labels?: Record<string, string>;
    };
    const invalid = invalidName(body.name, zone);
    if (invalid) return invalid;
    if (zone.rrsets.some((r) => r.name === body.name && r.type === body.type)) {
      return hetznerError(409, 'uniqueness_error', `rrset ${body.name}/${body.type} already exists`, {
        fields: [{ name: 'name', messages: ['already exists'] }],
      });
    }
    const rrset: HetznerRRSet = {
      name: body.name,
      type: body.type,
      ttl: body.ttl ?? null,
      records: body.records,
      labels: body.labels ?? {},
    };
    zone.rrsets.push(rrset);
    const action = startAction('create_rrset', zone);
    return { status: 201, json: { rrset: rrsetView(zone, rrset), action: actionView(action) } };
  });

  server.route('GET', `${v1}/zones/:zone/rrsets/:name/:type`, (req) => {
    const found = rrsetOf(req);
    return 'rrset' in found ? { status: 200, json: { rrset: rrsetView(found.zone, found.rrset) } } : found;
  });

  server.route('DELETE', `${v1}/zones/:zone/rrsets/:name/:type`, (req) => {
    const writable = zoneForWrite(req);
    if (!isZone(writable)) return writable;
    const found = rrsetOf(req);
    if (!('rrset' in found)) return found;
    found.zone.rrsets = found.zone.rrsets.filter((r) => r !== found.rrset);
    return { status: 201, json: { action: actionView(startAction('delete_rrset', found.zone)) } };
  });

  const rrsetAction = (
    command: string,
    actionCommand: string,
    change: (rrset: HetznerRRSet, body: RRSetActionBody) => void,
  ) => {
    server.route('POST', `${v1}/zones/:zone/rrsets/:name/:type/actions/${command}`, (req) => {
      const zone = zoneForWrite(req);
      if (!isZone(zone)) return zone;
      const body = req.json as RRSetActionBody;
      let rrset = zone.rrsets.find((r) => r.name === req.params.name && r.type === req.params.type);
      // add_records creates the RRSet when it does not exist yet.
      if (!rrset && command === 'add_records') {
        const invalid = invalidName(req.params.name!, zone);
        if (invalid) return invalid;
        rrset = { name: req.params.name!, type: req.params.type!, ttl: null, records: [], labels: {} };
        zone.rrsets.push(rrset);
      }
      if (!rrset)
        return hetznerError(404, 'not_found', `rrset ${req.params.name}/${req.params.type} not found`);
      change(rrset, body);
      return { status: 201, json: { action: actionView(startAction(actionCommand, zone)) } };
    });
  };
  rrsetAction('set_records', 'set_rrset_records', (r, b) => {
    r.records = b.records ?? [];
  });
  rrsetAction('add_records', 'add_rrset_records', (r, b) => {
    for (const rec of b.records ?? []) if (!r.records.some((x) => x.value === rec.value)) r.records.push(rec);
    if (b.ttl !== undefined) r.ttl = b.ttl;
  });
  rrsetAction('remove_records', 'remove_rrset_records', (r, b) => {
    r.records = r.records.filter((x) => !(b.records ?? []).some((rec) => rec.value === x.value));
  });
  rrsetAction('change_ttl', 'change_rrset_ttl', (r, b) => {
    r.ttl = b.ttl ?? null;
  });

  return {
    server,
    token,
    state,
    addZone,
    zone(idOrName: string | number): HetznerZone | undefined {
      return state.zones.find((z) => z.id === idOrName || z.name === idOrName);
    },
    /** The next action ends in `error` with this code once its delay has passed. */
    failNextAction(code = 'action_failed', message = 'action failed'): void {
      failNext = { code, message };
    },
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

export type HetznerFake = ReturnType<typeof createHetznerFake>;

interface RRSetActionBody {
  records?: HetznerRecord[];
  ttl?: number | null;
}

function contractUrl(): URL {
  return new URL('../contracts/hetzner/cloud-zones.openapi.json', import.meta.url);
}

function isZone(value: HetznerZone | FakeResponse): value is HetznerZone {
  return 'rrsets' in value;
}

/** Hetzner wants RRSet names lowercase and relative to the zone (`@` for the apex). */
function invalidName(name: string, zone: HetznerZone): FakeResponse | undefined {
  const problems: string[] = [];
  if (name !== name.toLowerCase()) problems.push('name must be lowercase');
  if (name.endsWith('.')) problems.push('name must not end with a dot');
  if (name === zone.name || name.endsWith(`.${zone.name}`))
    problems.push('name must be relative to the zone');
  if (problems.length === 0) return undefined;
  // Invalid input is answered 422 `invalid_input` (hcloud-go hcloud/error.go ErrorCodeInvalidInput).
  return hetznerError(422, 'invalid_input', "invalid input in field 'name'", {
    fields: [{ name: 'name', messages: problems }],
  });
}

function pagination(total: number) {
  return {
    pagination: {
      page: 1,
      per_page: 25,
      previous_page: null,
      next_page: null,
      last_page: 1,
      total_entries: total,
    },
  };
}

/**
 * Hetzner Cloud's answer over its rate limit (docs.hetzner.cloud, "Rate Limiting"; hcloud-go
 * hcloud/error.go `ErrorCodeRateLimitExceeded`, hcloud/client_handler_rate_limit.go): 429 with
 * error code `rate_limit_exceeded`, `RateLimit-Limit`, `RateLimit-Remaining: 0` and
 * `RateLimit-Reset` (epoch seconds when the whole quota is back, at one request a second), and
 * no `Retry-After`.
 */
export function hetznerRateLimited(limit = 3600): Fault {
  return {
    status: 429,
    json: {
      error: { code: 'rate_limit_exceeded', message: 'limit of requests per hour reached', details: {} },
    },
    headers: {
      'ratelimit-limit': String(limit),
      'ratelimit-remaining': '0',
      'ratelimit-reset': String(Math.floor(Date.now() / 1000) + limit),
    },
  };
}

export function hetznerError(
  status: number,
  code: string,
  message: string,
  details: unknown = {},
): FakeResponse {
  return { status, json: { error: { code, message, details } } };
}

function hetznerReject(problem: ContractProblem): FakeResponse {
  switch (problem.kind) {
    case 'unauthenticated':
    case 'bad-credentials':
      return hetznerError(401, 'unauthorized', 'unable to authenticate');
    case 'invalid-request':
      return hetznerError(422, 'invalid_input', problem.violations.join('; '), {
        fields: [...new Set(problem.fields)].map((name) => ({
          name,
          messages: problem.violations.filter((v) => v.includes(name)),
        })),
      });
    default:
      return hetznerError(404, 'not_found', problem.violations.join('; '));
  }
}
