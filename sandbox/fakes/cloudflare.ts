import { randomBytes } from 'node:crypto';
import { type ContractProblem, createOpenApiChecker, readOpenApiDocument } from '../contract/openapi.ts';
import { type FakeRequest, type FakeResponse, FakeServer, type Fault } from '../fake-server.ts';

/**
 * Cloudflare v4 (`/client/v4`): zone lookup by name and DNS records, every answer in the
 * `{success, errors, messages, result}` envelope.
 */

export interface CloudflareZone {
  id: string;
  name: string;
}

export interface CloudflareRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  ttl: number;
  comment: string | null;
  tags: string[];
  created_on: string;
  modified_on: string;
}

export interface CloudflareFakeOptions {
  token?: string;
  basePath?: string;
  /**
   * A token made from the "Edit zone DNS" template: DNS edit only, no Zone:Read. It may
   * change records but `GET /zones` answers 403 9109 "Unauthorized to access requested
   * resource" (ddclient/ddclient#834, octodns/octodns-cloudflare#60).
   */
  dnsOnlyToken?: string;
}

export function createCloudflareFake(options: CloudflareFakeOptions = {}) {
  const token = options.token ?? 'cloudflare-test-token';
  const v4 = `${options.basePath ?? ''}/client/v4`;
  const state = { zones: [] as CloudflareZone[], records: [] as CloudflareRecord[] };
  const startedAt = Date.now();
  let windowEndS = GLOBAL_WINDOW_S;
  let used = 0;

  const server = new FakeServer({
    name: 'cloudflare',
    contract: createOpenApiChecker(readOpenApiDocument(contractUrl()), {
      basePath: options.basePath,
      // The 2024 spec lists only the global key on DNS records, though the API takes tokens too.
      security: [{ api_token: [] }, { api_email: [], api_key: [] }],
      acceptsCredentials: (req) =>
        req.headers.authorization === `Bearer ${token}` ||
        (options.dnsOnlyToken !== undefined &&
          req.headers.authorization === `Bearer ${options.dnsOnlyToken}`),
      // The record schema lists `id` as required without `readOnly`; the API assigns it.
      serverAssigned: ['id'],
      reject: cloudflareReject,
    }),
    // Every answer states the global limit's use so far (same page: the headers "are returned
    // when calling REST APIs"), counted in windows of five minutes from the fake's start.
    decorate: () => {
      const elapsedS = (Date.now() - startedAt) / 1000;
      if (elapsedS >= windowEndS) {
        windowEndS = (Math.floor(elapsedS / GLOBAL_WINDOW_S) + 1) * GLOBAL_WINDOW_S;
        used = 0;
      }
      used++;
      return cloudflareLimitHeaders([
        {
          name: 'default',
          remaining: Math.max(0, GLOBAL_QUOTA - used),
          resetS: Math.ceil(windowEndS - elapsedS),
          quota: GLOBAL_QUOTA,
          windowS: GLOBAL_WINDOW_S,
        },
      ]);
    },
    notFound: (req) =>
      cloudflareError(
        400,
        7003,
        `Could not route to ${req.path}, perhaps your object identifier is invalid?`,
      ),
  });

  function addZone(input: { name: string; id?: string }): CloudflareZone {
    const zone = { id: input.id ?? cfId(), name: input.name };
    state.zones.push(zone);
    return zone;
  }

  function addRecord(
    zoneName: string,
    input: Partial<CloudflareRecord> & { name: string; type: string; content: string },
  ) {
    const zone = state.zones.find((z) => z.name === zoneName) ?? addZone({ name: zoneName });
    const record = makeRecord(zone, input);
    state.records.push(record);
    return record;
  }

  function makeRecord(zone: CloudflareZone, input: Partial<CloudflareRecord>): CloudflareRecord {
    const now = new Date().toISOString();
    return {
      id: input.id ?? cfId(),
      zone_id: zone.id,
      zone_name: zone.name,
      name: fqdn(input.name ?? '@', zone.name),
      type: input.type ?? 'A',
      content: input.content ?? '',
      proxied: input.proxied ?? false,
      ttl: input.ttl ?? 1,
      comment: input.comment ?? null,
      tags: input.tags ?? [],
      created_on: input.created_on ?? now,
      modified_on: now,
    };
  }

  function zoneOf(req: FakeRequest): CloudflareZone | FakeResponse {
    return (
      state.zones.find((z) => z.id === req.params.zone) ??
      cloudflareError(400, 7003, `Could not route to ${req.path}, perhaps your object identifier is invalid?`)
    );
  }

  function recordOf(req: FakeRequest): CloudflareRecord | FakeResponse {
    const zone = zoneOf(req);
    if (!('name' in zone)) return zone;
    return (
      state.records.find((r) => r.zone_id === zone.id && r.id === req.params.record) ??
      cloudflareError(404, 81044, 'Record does not exist.')
    );
  }

  function duplicate(record: CloudflareRecord): FakeResponse | undefined {
    const same = state.records.find(
      (r) =>
        r.id !== record.id &&
        r.zone_id === record.zone_id &&
        r.name === record.name &&
        (r.type === 'CNAME' ||
          record.type === 'CNAME' ||
          (r.type === record.type && r.content === record.content)),
    );
    if (!same) return undefined;
    return same.type === record.type && same.content === record.content
      ? cloudflareError(400, 81058, 'An identical record already exists.')
      : cloudflareError(400, 81053, 'An A, AAAA, or CNAME record with that host already exists.');
  }

  server.route('GET', `${v4}/zones`, (req) => {
    if (options.dnsOnlyToken !== undefined && req.headers.authorization === `Bearer ${options.dnsOnlyToken}`)
      return cloudflareError(403, 9109, 'Unauthorized to access requested resource');
    const name = req.query.get('name');
    return page(
      req,
      state.zones
        .filter((z) => !name || z.name === name)
        .map((z) => ({ ...z, status: 'active', paused: false, type: 'full' })),
    );
  });

  server.route('GET', `${v4}/zones/:zone/dns_records`, (req) => {
    const zone = zoneOf(req);
    if (!('name' in zone)) return zone;
    const type = req.query.get('type');
    const name = req.query.get('name');
    const content = req.query.get('content');
    return page(
      req,
      state.records.filter(
        (r) =>
          r.zone_id === zone.id &&
          (!type || r.type === type) &&
          (!name || r.name === fqdn(name, zone.name)) &&
          (!content || r.content === content),
      ),
    );
  });

  server.route('POST', `${v4}/zones/:zone/dns_records`, (req) => {
    const zone = zoneOf(req);
    if (!('name' in zone)) return zone;
    const record = makeRecord(zone, req.json as Partial<CloudflareRecord>);
    const conflict = duplicate(record);
    if (conflict) return conflict;
    state.records.push(record);
    return ok(record);
  });

  server.route('GET', `${v4}/zones/:zone/dns_records/:record`, (req) => {
    const record = recordOf(req);
    return 'content' in record ? ok(record) : record;
  });

  const replace = (merge: boolean) => (req: FakeRequest) => {
    const existing = recordOf(req);
    if (!('content' in existing)) return existing;
    const zone = state.zones.find((z) => z.id === existing.zone_id)!;
    const input = req.json as Partial<CloudflareRecord>;
    const next = makeRecord(zone, {
      ...(merge ? existing : {}),
      ...input,
      id: existing.id,
      created_on: existing.created_on,
    });
    const conflict = duplicate(next);
    if (conflict) return conflict;
    state.records[state.records.indexOf(existing)] = next;
    return ok(next);
  };
  server.route('PUT', `${v4}/zones/:zone/dns_records/:record`, replace(false));
  server.route('PATCH', `${v4}/zones/:zone/dns_records/:record`, replace(true));

  server.route('DELETE', `${v4}/zones/:zone/dns_records/:record`, (req) => {
    const record = recordOf(req);
    if (!('content' in record)) return record;
    state.records.splice(state.records.indexOf(record), 1);
    return ok({ id: record.id });
  });

  return {
    server,
    token,
    state,
    addZone,
    addRecord,
    records(zoneName?: string): CloudflareRecord[] {
      return state.records.filter((r) => !zoneName || r.zone_name === zoneName);
    },
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

export type CloudflareFake = ReturnType<typeof createCloudflareFake>;

function contractUrl(): URL {
  return new URL('../contracts/cloudflare/dns-records.openapi.json', import.meta.url);
}

/** Cloudflare takes relative names and `@`, and stores the fully qualified name. */
function fqdn(name: string, zone: string): string {
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (lower === '@' || lower === zone) return zone;
  return lower.endsWith(`.${zone}`) ? lower : `${lower}.${zone}`;
}

function cfId(): string {
  return randomBytes(16).toString('hex');
}

function ok(result: unknown): FakeResponse {
  return { status: 200, json: { success: true, errors: [], messages: [], result } };
}

function page(req: FakeRequest, items: unknown[]): FakeResponse {
  const perPage = Number(req.query.get('per_page') ?? 100);
  const pageNo = Number(req.query.get('page') ?? 1);
  const result = items.slice((pageNo - 1) * perPage, pageNo * perPage);
  return {
    status: 200,
    json: {
      success: true,
      errors: [],
      messages: [],
      result,
      result_info: {
        page: pageNo,
        per_page: perPage,
        count: result.length,
        total_count: items.length,
        total_pages: Math.max(1, Math.ceil(items.length / perPage)),
      },
    },
  };
}

/** One limit as Cloudflare states it: a `Ratelimit` item (`r`, `t`) and the `Ratelimit-Policy` item of its name (`q`, `w`). */
export interface CloudflareLimit {
  name: string;
  remaining: number;
  resetS: number;
  quota: number;
  windowS: number;
}

/** The documented global limit (developers.cloudflare.com/fundamentals/api/reference/limits): 1200 per five minutes. */
const GLOBAL_QUOTA = 1200;
const GLOBAL_WINDOW_S = 300;

/**
 * `Ratelimit` and `Ratelimit-Policy` as Cloudflare writes them (same page, "Rate limiting headers";
 * changelog 2025-09-03 "Introducing new headers for rate limiting on Cloudflare's API"): each a
 * list of items named by a quoted string, `"default";r=50;t=30` and `"burst";q=100;w=60`.
 */
export function cloudflareLimitHeaders(limits: readonly CloudflareLimit[]): Record<string, string> {
  return {
    ratelimit: limits.map((l) => `${JSON.stringify(l.name)};r=${l.remaining};t=${l.resetS}`).join(', '),
    'ratelimit-policy': limits.map((l) => `${JSON.stringify(l.name)};q=${l.quota};w=${l.windowS}`).join(', '),
  };
}

/**
 * Cloudflare's 429 over the API limit (developers.cloudflare.com/fundamentals/api/reference/limits,
 * "Rate limiting headers"): `Ratelimit` and `Ratelimit-Policy` as on every answer, and
 * `retry-after` in seconds until capacity is back, only on a 429; the body is the v4 envelope
 * with `success: false`. Past the 1200-per-five-minutes limit calls are blocked five minutes.
 * `limits` states several policies at once, as the lists allow (the page's examples name a
 * `"default"` and a `"burst"` policy). `retryAfter: false` is a 429 that lost its `retry-after`
 * on the way (a proxy that keeps only known headers): Cloudflare always sends it, so this only
 * exercises the client's documented fallback to the binding limit's `t`.
 */
export function cloudflareRateLimited(
  retryAfterS = 300,
  options: { limits?: readonly CloudflareLimit[]; retryAfter?: boolean } = {},
): Fault {
  const limits = options.limits ?? [
    { name: 'default', remaining: 0, resetS: retryAfterS, quota: GLOBAL_QUOTA, windowS: GLOBAL_WINDOW_S },
  ];
  return {
    status: 429,
    json: {
      success: false,
      errors: [{ code: 971, message: 'Please wait and consider throttling your request speed' }],
      messages: [],
      result: null,
    },
    headers: {
      ...cloudflareLimitHeaders(limits),
      ...(options.retryAfter === false ? {} : { 'retry-after': String(retryAfterS) }),
    },
  };
}

export function cloudflareError(
  status: number,
  code: number,
  message: string,
  chain?: string[],
): FakeResponse {
  const error = chain?.length
    ? { code, message, error_chain: chain.map((m) => ({ code, message: m })) }
    : { code, message };
  return { status, json: { success: false, errors: [error], messages: [], result: null } };
}

function cloudflareReject(problem: ContractProblem): FakeResponse {
  switch (problem.kind) {
    case 'unauthenticated':
      return cloudflareError(400, 9106, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers');
    case 'bad-credentials':
      return cloudflareError(403, 9109, 'Invalid access token');
    case 'method-not-allowed':
      return cloudflareError(405, 10405, 'Method not allowed');
    case 'invalid-request':
      return cloudflareError(400, 9207, 'Request body is invalid.', problem.violations);
    default:
      return cloudflareError(
        400,
        7003,
        'Could not route to the requested path, perhaps your object identifier is invalid?',
        problem.violations,
      );
  }
}
