import { randomUUID } from 'node:crypto';
import { type ContractProblem, createOpenApiChecker, readOpenApiDocument } from '../contract/openapi.ts';
import { type FakeRequest, type FakeResponse, FakeServer, type Fault } from '../fake-server.ts';

/**
 * DigitalOcean (`/v2`): droplets listed by tag with links/meta pagination, and tags. Public
 * addresses are loopback ones tests choose, so SSH steps can reach a local sshd.
 */

export interface Droplet {
  id: number;
  name: string;
  status: 'new' | 'active' | 'off' | 'archive';
  tags: string[];
  publicIp: string;
  privateIp: string;
  region: string;
  sizeSlug: string;
  createdAt: string;
}

export interface DigitalOceanFakeOptions {
  token?: string;
  rateLimit?: number;
  basePath?: string;
}

export function createDigitalOceanFake(options: DigitalOceanFakeOptions = {}) {
  const token = options.token ?? 'do-test-token';
  const limit = options.rateLimit ?? 5000;
  const v2 = `${options.basePath ?? ''}/v2`;
  const state = { droplets: [] as Droplet[], tags: new Set<string>(), rateLimitRemaining: limit };
  let nextId = 3164444;

  const server = new FakeServer({
    name: 'digitalocean',
    contract: createOpenApiChecker(readOpenApiDocument(contractUrl()), {
      basePath: options.basePath,
      acceptsCredentials: (req) => req.headers.authorization === `Bearer ${token}`,
      reject: (problem) => digitalOceanReject(problem),
      ajv: { unicodeRegExp: false },
    }),
    decorate: () => {
      state.rateLimitRemaining = Math.max(0, state.rateLimitRemaining - 1);
      return {
        'ratelimit-limit': String(limit),
        'ratelimit-remaining': String(state.rateLimitRemaining),
        'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 60),
      };
    },
    notFound: () => doError(404, 'not_found', 'The resource you were accessing could not be found.'),
  });

  function addDroplet(input: Partial<Droplet> & { name: string }): Droplet {
    const droplet: Droplet = {
      id: input.id ?? nextId++,
      name: input.name,
      status: input.status ?? 'active',
      tags: input.tags ?? [],
      publicIp: input.publicIp ?? '127.0.0.1',
      privateIp: input.privateIp ?? `10.110.0.${state.droplets.length + 2}`,
      region: input.region ?? 'fra1',
      sizeSlug: input.sizeSlug ?? 's-1vcpu-1gb',
      createdAt: input.createdAt ?? new Date().toISOString(),
    };
    for (const tag of droplet.tags) state.tags.add(tag);
    state.droplets.push(droplet);
    return droplet;
  }

  server.route('GET', `${v2}/droplets`, (req) => {
    const tag = req.query.get('tag_name');
    const name = req.query.get('name');
    if (tag && (name || req.query.has('type'))) {
      return doError(422, 'unprocessable_entity', 'tag_name cannot be combined with name or type');
    }
    const matching = state.droplets.filter(
      (d) => (!tag || d.tags.includes(tag)) && (!name || d.name === name),
    );
    return paged(req, 'droplets', matching.map(dropletView));
  });

  server.route('GET', `${v2}/droplets/:id`, (req) => {
    const droplet = state.droplets.find((d) => d.id === Number(req.params.id));
    return droplet ? { status: 200, json: { droplet: dropletView(droplet) } } : notFound();
  });

  server.route('GET', `${v2}/tags`, (req) => paged(req, 'tags', [...state.tags].map(tagView)));

  server.route('POST', `${v2}/tags`, (req) => {
    const name = (req.json as { name: string }).name;
    state.tags.add(name);
    return { status: 201, json: { tag: tagView(name) } };
  });

  server.route('GET', `${v2}/tags/:tag`, (req) =>
    state.tags.has(req.params.tag!) ? { status: 200, json: { tag: tagView(req.params.tag!) } } : notFound(),
  );

  server.route('DELETE', `${v2}/tags/:tag`, (req) => {
    if (!state.tags.delete(req.params.tag!)) return notFound();
    for (const d of state.droplets) d.tags = d.tags.filter((t) => t !== req.params.tag);
    return { status: 204 };
  });

  const tagging = (add: boolean) => (req: FakeRequest) => {
    const tag = req.params.tag!;
    if (!state.tags.has(tag)) return notFound();
    const resources = (req.json as { resources: { resource_id: string; resource_type: string }[] }).resources;
    for (const r of resources) {
      const droplet = state.droplets.find(
        (d) => r.resource_type === 'droplet' && String(d.id) === r.resource_id,
      );
      if (!droplet) return notFound();
      droplet.tags = droplet.tags.filter((t) => t !== tag);
      if (add) droplet.tags.push(tag);
    }
    return { status: 204 };
  };
  server.route('POST', `${v2}/tags/:tag/resources`, tagging(true));
  server.route('DELETE', `${v2}/tags/:tag/resources`, tagging(false));

  function tagView(name: string) {
    const count = state.droplets.filter((d) => d.tags.includes(name)).length;
    return {
      name,
      resources: {
        count,
        droplets: { count },
        images: { count: 0 },
        volumes: { count: 0 },
        volume_snapshots: { count: 0 },
        databases: { count: 0 },
      },
    };
  }

  function paged(req: FakeRequest, key: string, items: unknown[]): FakeResponse {
    const perPage = Number(req.query.get('per_page') ?? 20);
    const pageNo = Number(req.query.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number) => {
      const query = new URLSearchParams(req.query);
      query.set('page', String(n));
      query.set('per_page', String(perPage));
      return `https://api.digitalocean.com${req.path.replace(options.basePath ?? '', '')}?${query}`;
    };
    const pages: Record<string, string> = {};
    if (pageNo > 1) Object.assign(pages, { first: link(1), prev: link(pageNo - 1) });
    if (pageNo < last) Object.assign(pages, { next: link(pageNo + 1), last: link(last) });
    return {
      status: 200,
      json: {
        [key]: items.slice((pageNo - 1) * perPage, pageNo * perPage),
        links: { pages },
        meta: { total: items.length },
      },
    };
  }

  return {
    server,
    token,
    state,
    addDroplet,
    droplet(name: string): Droplet | undefined {
      return state.droplets.find((d) => d.name === name);
    },
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

export type DigitalOceanFake = ReturnType<typeof createDigitalOceanFake>;

function contractUrl(): URL {
  return new URL('../contracts/digitalocean/droplets.openapi.json', import.meta.url);
}

function dropletView(d: Droplet) {
  return {
    id: d.id,
    name: d.name,
    memory: 1024,
    vcpus: 1,
    disk: 25,
    locked: false,
    status: d.status,
    created_at: d.createdAt,
    features: ['private_networking'],
    backup_ids: [],
    next_backup_window: null,
    snapshot_ids: [],
    image: {
      id: 6918990,
      name: '24.04 (LTS) x64',
      distribution: 'Ubuntu',
      slug: 'ubuntu-24-04-x64',
      public: true,
    },
    volume_ids: [],
    size: {
      slug: d.sizeSlug,
      memory: 1024,
      vcpus: 1,
      disk: 25,
      transfer: 1,
      price_monthly: 6,
      price_hourly: 0.00893,
    },
    size_slug: d.sizeSlug,
    networks: {
      v4: [
        { ip_address: d.privateIp, netmask: '255.255.240.0', gateway: '10.110.0.1', type: 'private' },
        { ip_address: d.publicIp, netmask: '255.0.0.0', gateway: '127.0.0.254', type: 'public' },
      ],
      v6: [],
    },
    region: { slug: d.region, name: d.region, sizes: [d.sizeSlug], available: true, features: [] },
    tags: d.tags,
    vpc_uuid: '760e09ef-dc84-11e8-981e-3cfdfeaae000',
  };
}

/**
 * DigitalOcean's 429 (the droplets contract, components.responses.too_many_requests and
 * components.headers; docs.digitalocean.com/notes/changelog/add-burst-rate-limits):
 * `id: too_many_requests`, `ratelimit-limit`, `ratelimit-remaining` (of the hourly 5000) and
 * `ratelimit-reset` (epoch seconds when the oldest request expires), no `Retry-After`. `burst`:
 * the 250-a-minute limit, with hourly quota left; otherwise the hourly quota is used up and
 * frees a request `resetInS` from now.
 */
export function digitalOceanRateLimited(options: { burst?: boolean; resetInS?: number } = {}): Fault {
  return {
    status: 429,
    json: { id: 'too_many_requests', message: 'API rate limit exceeded.', request_id: randomUUID() },
    headers: {
      'ratelimit-limit': '5000',
      'ratelimit-remaining': options.burst ? '4750' : '0',
      'ratelimit-reset': String(Math.floor(Date.now() / 1000) + (options.resetInS ?? 60)),
    },
  };
}

export function doError(status: number, id: string, message: string): FakeResponse {
  return { status, json: { id, message, request_id: randomUUID() } };
}

function notFound(): FakeResponse {
  return doError(404, 'not_found', 'The resource you were accessing could not be found.');
}

function digitalOceanReject(problem: ContractProblem): FakeResponse {
  switch (problem.kind) {
    case 'unauthenticated':
    case 'bad-credentials':
      return doError(401, 'Unauthorized', 'Unable to authenticate you');
    case 'invalid-request':
      return doError(422, 'unprocessable_entity', problem.violations.join('; '));
    default:
      return notFound();
  }
}
