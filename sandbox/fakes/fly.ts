import { randomBytes } from 'node:crypto';
import { createOpenApiChecker, type ProblemKind, readOpenApiDocument } from '../contract/openapi.ts';
import { type FakeRequest, type FakeResponse, FakeServer, sleep } from '../fake-server.ts';
import { type EndpointBehaviour, type EndpointCall, EndpointInstance } from './app-endpoint.ts';

export type { EndpointBehaviour };

/**
 * Fly Machines API (`/v1/apps/{app}/machines...`) plus the app's public endpoint behind Fly's
 * proxy, where `fly-force-instance-id` picks the machine that answers.
 */

export interface FlyMachineConfig {
  image: string;
  metadata?: Record<string, string>;
  checks?: Record<string, unknown>;
  env?: Record<string, string>;
  [key: string]: unknown;
}

export interface FlyMachine {
  id: string;
  name: string;
  app: string;
  state: string;
  region: string;
  instance_id: string;
  config: FlyMachineConfig;
  cordoned: boolean;
  private_ip: string;
  created_at: string;
  updated_at: string;
  lease?: { nonce: string; expires_at: number; owner: string; description: string };
}

export interface AddMachineInput {
  id?: string;
  name?: string;
  app?: string;
  state?: string;
  region?: string;
  image?: string;
  processGroup?: string;
  metadata?: Record<string, string>;
  checks?: string[];
}

export interface FlyFakeOptions {
  token?: string;
  app?: string;
  /** How long a machine takes from `starting` to `started` (and `stopping` to `stopped`). */
  startDelayMs?: number;
  /** Length of one second of the wait endpoint's `timeout`, so tests can wait less. */
  waitSecondMs?: number;
  basePath?: string;
  /**
   * Answer the lease endpoints as flaps does, in an envelope (`{status: 'success', data: {nonce,
   * expires_at, owner, description, version}}`, as fly-go's MachineLease reads them), instead
   * of the flat `Lease` of the OpenAPI document.
   */
  leaseEnvelope?: boolean;
}

const TERMINAL_OF_OLD_VERSION = 'destroyed';

export function createFlyFake(options: FlyFakeOptions = {}) {
  const token = options.token ?? 'fly-test-token';
  const defaultApp = options.app ?? 'test-app';
  const startDelayMs = options.startDelayMs ?? 50;
  const waitSecondMs = options.waitSecondMs ?? 1000;
  const base = `${options.basePath ?? ''}/v1/apps/:app/machines`;
  const leaseJson = (lease: Record<string, unknown>) =>
    options.leaseEnvelope ? { status: 'success', data: lease } : lease;
  const machines = new Map<string, FlyMachine>();
  const failingImages = new Set<string>();
  const endpointCalls: EndpointCall[] = [];
  const endpoints = new Map<string, EndpointInstance>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const server = new FakeServer({
    name: 'fly',
    contract: createOpenApiChecker(readOpenApiDocument(contractUrl()), {
      basePath: options.basePath,
      // The spec declares its scheme but no requirement; every Machines call needs a token.
      security: [{ FlyBearerAuth: [] }],
      acceptsCredentials: (req) => credential(req.headers.authorization) === token,
      reject: flyReject,
    }),
    notFound: () => ({ status: 404, json: { error: 'not found' } }),
  });

  const app = new FakeServer({
    name: 'fly-app',
    // Names every call `app`, so faults can target the public endpoint as a whole.
    contract: () => ({ operation: 'app', violations: [] }),
    notFound: (req) => answerPublic(req),
  });

  function later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    timers.add(timer);
  }

  function addMachine(input: AddMachineInput = {}): FlyMachine {
    const id = input.id ?? hex(7);
    const now = new Date().toISOString();
    const machine: FlyMachine = {
      id,
      name: input.name ?? `machine-${id}`,
      app: input.app ?? defaultApp,
      state: input.state ?? 'started',
      region: input.region ?? 'ams',
      instance_id: ulid(),
      config: {
        image: input.image ?? 'registry.fly.io/test-app:deployment-1',
        metadata: { fly_process_group: input.processGroup ?? 'app', ...input.metadata },
        checks: Object.fromEntries(
          (input.checks ?? ['http']).map((name) => [name, { type: 'http', port: 8080, path: '/health' }]),
        ),
      },
      cordoned: false,
      private_ip: `fdaa:0:1::${machines.size + 2}`,
      created_at: now,
      updated_at: now,
    };
    machines.set(id, machine);
    return machine;
  }

  function setState(machine: FlyMachine, state: string): void {
    machine.state = state;
    machine.updated_at = new Date().toISOString();
  }

  function boot(machine: FlyMachine, from: string): void {
    setState(machine, from);
    const version = machine.instance_id;
    if (from === 'replacing')
      later(startDelayMs / 2, () => version === machine.instance_id && setState(machine, 'starting'));
    later(startDelayMs, () => version === machine.instance_id && setState(machine, 'started'));
  }

  function view(machine: FlyMachine) {
    const { lease, app: _app, ...rest } = machine;
    const failing = failingImages.has(machine.config.image) || machine.state !== 'started';
    return {
      ...rest,
      version: machine.instance_id,
      image_ref: imageRef(machine.config.image),
      checks: Object.keys(machine.config.checks ?? {}).map((name) => ({
        name,
        status: failing ? 'critical' : 'passing',
        output: failing ? 'connect: connection refused' : 'HTTP GET /health: 200 OK',
        updated_at: machine.updated_at,
      })),
      ...(lease && lease.expires_at * 1000 > Date.now() ? { lease: { nonce: lease.nonce } } : {}),
    };
  }

  function find(req: FakeRequest): FlyMachine | FakeResponse {
    const machine = machines.get(req.params.id ?? '');
    if (!machine || machine.app !== req.params.app || machine.state === 'destroyed') {
      return { status: 404, json: { error: 'machine not found' } };
    }
    return machine;
  }

  function activeLease(machine: FlyMachine) {
    return machine.lease && machine.lease.expires_at * 1000 > Date.now() ? machine.lease : undefined;
  }

  /** A held lease blocks every change that does not carry its nonce. */
  function leaseConflict(machine: FlyMachine, req: FakeRequest): FakeResponse | undefined {
    const lease = activeLease(machine);
    if (!lease || req.headers['fly-machine-lease-nonce'] === lease.nonce) return undefined;
    return {
      status: 409,
      json: {
        error: `machine ${machine.id} lease currently held by ${lease.owner}, expires at ${lease.expires_at}`,
      },
    };
  }

  function mutate(handler: (machine: FlyMachine, req: FakeRequest) => FakeResponse) {
    return (req: FakeRequest): FakeResponse => {
      const found = find(req);
      if (!isMachine(found)) return found;
      return leaseConflict(found, req) ?? handler(found, req);
    };
  }

  server.route('GET', base, (req) => {
    if (!appExists(req.params.app!)) return { status: 404, json: { error: 'app not found' } };
    const states = req.query.get('state')?.split(',');
    const region = req.query.get('region');
    const withDeleted = req.query.get('include_deleted') === 'true';
    const metadata = [...req.query.entries()]
      .filter(([k]) => k.startsWith('metadata.'))
      .map(([k, v]) => [k.slice('metadata.'.length), v] as const);
    const list = [...machines.values()].filter(
      (m) =>
        m.app === req.params.app &&
        (withDeleted || m.state !== 'destroyed') &&
        (!states || states.includes(m.state)) &&
        (!region || m.region === region) &&
        metadata.every(([k, v]) => m.config.metadata?.[k] === v),
    );
    return { status: 200, json: list.map(view) };
  });

  server.route('GET', `${base}/:id`, (req) => {
    const found = find(req);
    return isMachine(found) ? { status: 200, json: view(found) } : found;
  });

  server.route(
    'POST',
    `${base}/:id`,
    mutate((machine, req) => {
      const body = req.json as { config?: FlyMachineConfig; current_version?: string; skip_launch?: boolean };
      if (!body.config?.image) return { status: 400, json: { error: 'invalid config: image is required' } };
      if (body.current_version && body.current_version !== machine.instance_id) {
        return {
          status: 409,
          json: { error: `machine ${machine.id} has changed since version ${body.current_version}` },
        };
      }
      const wasRunning = machine.state !== 'stopped' && machine.state !== 'suspended';
      machine.config = body.config;
      machine.instance_id = ulid();
      if (body.skip_launch || !wasRunning) setState(machine, 'stopped');
      else boot(machine, 'replacing');
      return { status: 200, json: view(machine) };
    }),
  );

  server.route(
    'POST',
    `${base}/:id/start`,
    mutate((machine) => {
      const previous = machine.state;
      if (previous !== 'started' && previous !== 'starting') boot(machine, 'starting');
      return { status: 200, json: { previous_state: previous, migrated: false, new_host: '' } };
    }),
  );

  server.route(
    'POST',
    `${base}/:id/stop`,
    mutate((machine) => {
      if (machine.state === 'started' || machine.state === 'starting') {
        setState(machine, 'stopping');
        const version = machine.instance_id;
        later(startDelayMs, () => version === machine.instance_id && setState(machine, 'stopped'));
      }
      return { status: 200, json: { ok: true } };
    }),
  );

  for (const [action, cordoned] of [
    ['cordon', true],
    ['uncordon', false],
  ] as const) {
    server.route(
      'POST',
      `${base}/:id/${action}`,
      mutate((machine) => {
        machine.cordoned = cordoned;
        return { status: 200, json: { ok: true } };
      }),
    );
  }

  server.route('GET', `${base}/:id/lease`, (req) => {
    const found = find(req);
    if (!isMachine(found)) return found;
    const lease = activeLease(found);
    if (!lease) return { status: 404, json: { error: 'lease not found' } };
    return { status: 200, json: leaseJson({ ...lease, version: found.instance_id }) };
  });

  server.route('POST', `${base}/:id/lease`, (req) => {
    const found = find(req);
    if (!isMachine(found)) return found;
    const held = activeLease(found);
    const nonce = req.headers['fly-machine-lease-nonce'];
    if (held && held.nonce !== nonce) return leaseConflict(found, req)!;
    const body = (req.json ?? {}) as { ttl?: number; description?: string };
    const ttl = body.ttl ?? 30;
    found.lease = {
      nonce: held?.nonce ?? hex(6),
      expires_at: Math.floor(Date.now() / 1000) + ttl,
      owner: 'ops@example.test',
      description: body.description ?? held?.description ?? '',
    };
    return { status: 201, json: leaseJson({ ...found.lease, version: found.instance_id }) };
  });

  server.route('DELETE', `${base}/:id/lease`, (req) => {
    const found = find(req);
    if (!isMachine(found)) return found;
    const held = activeLease(found);
    if (!held) return { status: 404, json: { error: 'lease not found' } };
    if (held.nonce !== req.headers['fly-machine-lease-nonce']) {
      return { status: 409, json: { error: 'lease nonce does not match the held lease' } };
    }
    found.lease = undefined;
    return { status: 200, json: {} };
  });

  server.route('GET', `${base}/:id/wait`, async (req) => {
    const found = find(req);
    if (!isMachine(found)) return found;
    const timeout = Number(req.query.get('timeout') ?? 60);
    if (timeout < 1 || timeout > 60) {
      return { status: 400, json: { error: 'invalid_argument: timeout must be within [1s, 1m0s]' } };
    }
    const wanted = (req.query.get('state') ?? 'started').split(',');
    const version = req.query.get('version') ?? req.query.get('instance_id');
    const stateOfVersion = () =>
      version && version !== found.instance_id ? TERMINAL_OF_OLD_VERSION : found.state;
    const deadline = Date.now() + timeout * waitSecondMs;
    while (!stopped) {
      const state = stateOfVersion();
      const settled =
        wanted.includes('settled') && ['started', 'stopped', 'suspended', 'failed'].includes(state);
      if (wanted.includes(state) || settled) {
        return { status: 200, json: { ok: true, state, version: found.instance_id } };
      }
      if (Date.now() >= deadline) break;
      await sleep(Math.min(10, deadline - Date.now()));
    }
    return {
      status: 408,
      json: { error: `deadline_exceeded: machine did not reach ${wanted.join(',')} within ${timeout}s` },
    };
  });

  function appExists(name: string): boolean {
    return name === defaultApp || [...machines.values()].some((m) => m.app === name);
  }

  function endpoint(machineId: string): EndpointInstance {
    let instance = endpoints.get(machineId);
    if (!instance) {
      instance = new EndpointInstance(machineId, endpointCalls);
      endpoints.set(machineId, instance);
    }
    return instance;
  }

  let roundRobin = 0;
  async function answerPublic(req: FakeRequest): Promise<FakeResponse> {
    const forced = req.headers['fly-force-instance-id'];
    const live = [...machines.values()].filter((m) => m.app === defaultApp && m.state === 'started');
    let target: FlyMachine | undefined;
    if (forced) {
      target = machines.get(forced);
      if (!target || target.app !== defaultApp || target.state === 'destroyed') {
        return {
          status: 404,
          body: `instance ${forced} not found\n`,
          headers: { 'content-type': 'text/plain' },
        };
      }
      if (target.state !== 'started') {
        return {
          status: 503,
          body: `instance ${forced} is ${target.state}\n`,
          headers: { 'content-type': 'text/plain' },
        };
      }
    } else {
      target = live.filter((m) => !m.cordoned)[roundRobin++ % Math.max(live.length, 1)];
      if (!target) return { status: 503, body: 'no known healthy instances found\n' };
    }
    const answer = await endpoint(target.id).answer(req, {
      instance_id: target.instance_id,
      image: target.config.image,
    });
    return { ...answer, headers: { ...answer.headers, 'fly-request-id': hex(10) } };
  }

  return {
    server,
    app,
    token,
    get machines(): FlyMachine[] {
      return [...machines.values()];
    },
    addMachine,
    machine(id: string): FlyMachine | undefined {
      return machines.get(id);
    },
    /** Health checks of machines running this image report `critical`. */
    failHealthFor(image: string): void {
      failingImages.add(image);
    },
    healHealthFor(image: string): void {
      failingImages.delete(image);
    },
    /** How the machine answers on the app's public endpoint. */
    setAppBehaviour(machineId: string, behaviour: EndpointBehaviour): void {
      endpoint(machineId).behaviour = behaviour;
    },
    /** Calls the app's public endpoint received, per machine, in order. */
    appCalls(machineId?: string): EndpointCall[] {
      return machineId ? endpointCalls.filter((c) => c.target === machineId) : [...endpointCalls];
    },
    async start(): Promise<void> {
      stopped = false;
      await Promise.all([server.start(), app.start()]);
    },
    async stop(): Promise<void> {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all([server.stop(), app.stop()]);
    },
  };
}

export type FlyFake = ReturnType<typeof createFlyFake>;

function contractUrl(): URL {
  return new URL('../contracts/fly/machines.openapi.json', import.meta.url);
}

function flyReject(problem: { kind: ProblemKind; violations: string[] }): FakeResponse {
  const status: Record<ProblemKind, number> = {
    'unknown-path': 404,
    'method-not-allowed': 405,
    unauthenticated: 401,
    'bad-credentials': 401,
    'invalid-request': 400,
  };
  const message =
    problem.kind === 'unauthenticated' || problem.kind === 'bad-credentials'
      ? 'You must be authenticated to view this.'
      : problem.violations.join('; ');
  return { status: status[problem.kind], json: { error: message } };
}

function credential(header: string | undefined): string | undefined {
  const match = /^(?:Bearer|FlyV1)\s+(.+)$/i.exec(header ?? '');
  return match?.[1];
}

function isMachine(value: FlyMachine | FakeResponse): value is FlyMachine {
  return 'instance_id' in value;
}

function imageRef(image: string) {
  const [repository, tag] = image.split(':');
  const [registry, ...rest] = (repository ?? '').split('/');
  return { registry, repository: rest.join('/'), tag: tag ?? 'latest', digest: '', labels: {} };
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Fly versions are 26-character ULIDs. */
function ulid(): string {
  let out = '';
  for (const byte of randomBytes(26)) out += CROCKFORD[byte % 32];
  return out;
}
