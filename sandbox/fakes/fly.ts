import { createHash, randomBytes } from 'node:crypto';
import { createOpenApiChecker, type ProblemKind, readOpenApiDocument } from '../contract/openapi.ts';
import { type FakeRequest, type FakeResponse, FakeServer, type Fault, sleep } from '../fake-server.ts';
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
  services?: { checks?: unknown[]; [key: string]: unknown }[];
  containers?: { name: string; image: string; [key: string]: unknown }[];
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
  /** The digest the current version resolved its image to (`image_ref.digest`). */
  digest: string;
  /** When the current version reached `started`; its check results appear only after it. */
  startedAt: number | undefined;
  /** When a `stopping`/`suspending` transition under way ends. */
  transitionEndsAt?: number;
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
  /** Checks under `services[0].checks`, counted by flyctl like the top-level ones. */
  serviceChecks?: number;
  containers?: { name: string; image: string }[];
  /**
   * A Fly Launch machine carries `fly_platform_version: v2` (flyctl machines_launchinput.go
   * `setMachineReleaseData`); false leaves it out, as on a machine made by hand.
   */
  platform?: boolean;
}

export interface FlyFakeOptions {
  token?: string;
  app?: string;
  /** How long a machine takes from `starting` to `started` (and `stopping` to `stopped`). */
  startDelayMs?: number;
  /** Length of one second of the wait endpoint's `timeout`, so tests can wait less. */
  waitSecondMs?: number;
  /**
   * After a version reaches `started`, its check results appear one at a time, one every this
   * many ms: until then GET shows an empty or short `checks` list, as a freshly updated machine
   * does (flyctl internal/machine/leasable_machine.go `WaitForHealthchecksToPass`: "Machine.Checks
   * (runtime status) is empty for freshly-launched machines"). 0 reports them all at `started`.
   */
  checkDelayMs?: number;
  basePath?: string;
  /**
   * Answer the lease endpoints as flaps does, in an envelope (`{status: 'success', data: {nonce,
   * expires_at, owner, description, version}}`, as fly-go's MachineLease reads them), instead
   * of the flat `Lease` of the OpenAPI document.
   */
  leaseEnvelope?: boolean;
  /**
   * Enforce Fly's per-action rate limits (see `actionLimits`): a request over its action's
   * limit for its machine is answered `flyRateLimited()`. Off by default, so tests that do
   * not look at rate limits never wait for one.
   */
  rateLimits?: boolean;
}

/**
 * Fly Machines' rate limits (fly.io/docs/machines/api/working-with-machines-api/, "Rate
 * limits"; community.fly.io/t/20636): per action and per machine, 1 request a second with
 * short bursts of 3; Get Machine 5 a second with bursts of 10. Modelled as a token bucket per
 * action (method and route) and machine (or app, for the actions on no machine).
 */
export function actionLimits(method: string, pattern: string): { perSecond: number; burst: number } {
  return method === 'GET' && pattern.endsWith('/:id')
    ? { perSecond: 5, burst: 10 }
    : { perSecond: 1, burst: 3 };
}

/**
 * What a version that is no longer the machine's current one answers
 * (fly.io/docs/machines/machine-states: "If you query an older version by ID, the API will always
 * return replaced").
 */
const TERMINAL_OF_OLD_VERSION = 'replaced';

/**
 * States POST /start refuses with 412: the machine is on its way somewhere else
 * (fly.io/docs/machines/machine-states, transient states), issue 13 §4.
 */
const CANNOT_START = new Set([
  'stopping',
  'suspending',
  'replacing',
  'updating',
  'restarting',
  'creating',
  'destroying',
]);

/** `settled` matches a version in any persistent state (contracts/fly Machines_wait `state`). */
const SETTLED = ['started', 'stopped', 'suspended', 'failed'];

export function createFlyFake(options: FlyFakeOptions = {}) {
  const token = options.token ?? 'fly-test-token';
  const defaultApp = options.app ?? 'test-app';
  const startDelayMs = options.startDelayMs ?? 50;
  const waitSecondMs = options.waitSecondMs ?? 1000;
  const checkDelayMs = options.checkDelayMs ?? 100;
  const base = `${options.basePath ?? ''}/v1/apps/:app/machines`;
  const leaseJson = (lease: Record<string, unknown>) =>
    options.leaseEnvelope ? { status: 'success', data: lease } : lease;
  const machines = new Map<string, FlyMachine>();
  const failingImages = new Set<string>();
  const failingBoots = new Set<string>();
  const checkLimits = new Map<string, number>();
  const tagDigests = new Map<string, string>();
  const stopAfterListing = new Map<string, number>();
  const endpointCalls: EndpointCall[] = [];
  const endpoints = new Map<string, EndpointInstance>();
  const timers = new Set<NodeJS.Timeout>();
  const createdIds: string[] = [];
  let stopped = false;

  const buckets = new Map<string, { tokens: number; at: number }>();
  /** Whether one more request of this action on this machine fits its limit now (and takes it). */
  function withinLimit(method: string, pattern: string, req: FakeRequest): boolean {
    const { perSecond, burst } = actionLimits(method, pattern);
    const key = `${method} ${pattern} ${req.params.app} ${req.params.id ?? ''}`;
    const now = performance.now();
    const bucket = buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

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
        metadata: {
          fly_process_group: input.processGroup ?? 'app',
          ...(input.platform === false ? {} : { fly_platform_version: 'v2' }),
          ...input.metadata,
        },
        checks: Object.fromEntries(
          (input.checks ?? ['http']).map((name) => [name, { type: 'http', port: 8080, path: '/health' }]),
        ),
        ...(input.serviceChecks
          ? {
              services: [
                {
                  internal_port: 8080,
                  protocol: 'tcp',
                  checks: Array.from({ length: input.serviceChecks }, () => ({ type: 'tcp' })),
                },
              ],
            }
          : {}),
        ...(input.containers ? { containers: input.containers } : {}),
      },
      cordoned: false,
      private_ip: `fdaa:0:1::${machines.size + 2}`,
      created_at: now,
      updated_at: now,
      digest: '',
      // Machines the test starts with have been running long enough to have check results.
      startedAt: 0,
    };
    machine.digest = resolveDigest(machine.config.image);
    machines.set(id, machine);
    return machine;
  }

  function setState(machine: FlyMachine, state: string): void {
    machine.state = state;
    machine.updated_at = new Date().toISOString();
    machine.startedAt = state === 'started' ? Date.now() : undefined;
  }

  function resolveDigest(image: string): string {
    return (
      digestIn(image) ?? tagDigests.get(image) ?? `sha256:${createHash('sha256').update(image).digest('hex')}`
    );
  }

  function boot(machine: FlyMachine, from: string): void {
    setState(machine, from);
    const version = machine.instance_id;
    if (from === 'replacing')
      later(startDelayMs / 2, () => version === machine.instance_id && setState(machine, 'starting'));
    // A version whose image cannot run ends `failed` ("could not start successfully",
    // fly.io/docs/machines/machine-states).
    const end = failingBoots.has(machine.config.image) ? 'failed' : 'started';
    later(startDelayMs, () => version === machine.instance_id && setState(machine, end));
  }

  /** Results of the checks the config defines, as many as have reported since `started`. */
  function checksOf(machine: FlyMachine) {
    const names = [
      ...Object.keys(machine.config.checks ?? {}),
      ...(machine.config.services ?? []).flatMap((service, s) =>
        (service.checks ?? []).map((_, c) => `servicecheck-${String(s).padStart(2, '0')}-${c}`),
      ),
    ];
    if (machine.state !== 'started' || machine.startedAt === undefined) return [];
    const since = Date.now() - machine.startedAt;
    const due = checkDelayMs === 0 ? names.length : Math.floor(since / checkDelayMs);
    const reported = Math.min(names.length, due, checkLimits.get(machine.config.image) ?? names.length);
    const failing = failingImages.has(machine.config.image);
    return names.slice(0, reported).map((name) => ({
      name,
      status: failing ? 'critical' : 'passing',
      output: failing ? 'connect: connection refused' : 'HTTP GET /health: 200 OK',
      updated_at: machine.updated_at,
    }));
  }

  function view(machine: FlyMachine) {
    const { lease, app: _app, digest, startedAt: _startedAt, ...rest } = machine;
    return {
      ...rest,
      version: machine.instance_id,
      image_ref: imageRef(machine.config.image, digest),
      checks: checksOf(machine),
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

  /**
   * A held lease blocks every change that does not carry its nonce. The body is the one fly-go
   * reads (machine_types.go `MachineLease`: `status`, `message`, `code`; flaps/flaps.go
   * `handleAPIError` prefers `message`), with the message text operators see
   * (community.fly.io/t/409-conflict-error-from-machines-api/15555: `{"status":"error",
   * "message":"machine ID … lease currently held by …"}`, and flyctl
   * internal/command/deploy/plan.go matches "lease currently held by"). The value of `code` is
   * not documented; the fake sends a stable word.
   */
  function leaseConflict(machine: FlyMachine, req: FakeRequest): FakeResponse | undefined {
    const lease = activeLease(machine);
    if (!lease || req.headers['fly-machine-lease-nonce'] === lease.nonce) return undefined;
    const until = new Date(lease.expires_at * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      status: 409,
      json: {
        status: 'error',
        message: `machine ID ${machine.id} lease currently held by ${lease.owner}, expires at ${until}`,
        code: 'lease_conflict',
      },
    };
  }

  /** Registers a Machines API route, answering over its action's limit as Fly does (`rateLimits`). */
  function route(method: string, pattern: string, handler: Parameters<FakeServer['route']>[2]): void {
    server.route(method, pattern, (req) =>
      options.rateLimits && !withinLimit(method, pattern, req)
        ? { status: 429, json: flyRateLimited().json }
        : handler(req),
    );
  }

  function mutate(handler: (machine: FlyMachine, req: FakeRequest) => FakeResponse) {
    return (req: FakeRequest): FakeResponse => {
      const found = find(req);
      if (!isMachine(found)) return found;
      return leaseConflict(found, req) ?? handler(found, req);
    };
  }

  route('GET', base, (req) => {
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
    const answer = { status: 200, json: list.map(view) };
    for (const [id, ms] of stopAfterListing) {
      const machine = machines.get(id);
      stopAfterListing.delete(id);
      if (machine) stopFor(machine, ms);
    }
    return answer;
  });

  // Machines_create (contracts/fly CreateMachineRequest): the machine gets `config` in `region`,
  // boots unless `skip_launch` (then it is `stopped`), and with `skip_service_registration` the
  // proxy sends it nothing until it is uncordoned: flyctl creates blue-green's green machines so
  // and uncordons them once healthy (internal/command/deploy/strategy_bluegreen.go
  // `CreateGreenMachines`, `MarkGreenMachinesAsReadyForTraffic`; contracts/fly Machines_cordon:
  // "one set of Machines is started up with services disabled").
  route('POST', base, (req) => {
    if (!appExists(req.params.app!)) return { status: 404, json: { error: 'app not found' } };
    const body = req.json as {
      config?: FlyMachineConfig;
      region?: string;
      name?: string;
      skip_launch?: boolean;
      skip_service_registration?: boolean;
    };
    if (!body.config?.image) return { status: 400, json: { error: 'invalid config: image is required' } };
    const machine = addMachine({ app: req.params.app!, region: body.region ?? 'ams', state: 'created' });
    if (body.name) machine.name = body.name;
    machine.config = body.config;
    machine.digest = resolveDigest(body.config.image);
    machine.cordoned = body.skip_service_registration === true;
    machine.startedAt = undefined;
    createdIds.push(machine.id);
    if (body.skip_launch) setState(machine, 'stopped');
    else boot(machine, 'starting');
    return { status: 200, json: view(machine) };
  });

  // Machines_delete: `force` kills a running machine (contracts/fly: "with an optional force
  // parameter to force kill the Machine if it's running"); without it a running machine is
  // refused, as the platform refuses to destroy a machine that is not stopped
  // (flyctl internal/command/machine/destroy.go offers --force for exactly that). Once
  // destroyed, the machine answers 404 and leaves the listing.
  route(
    'DELETE',
    `${base}/:id`,
    mutate((machine, req) => {
      const force = req.query.get('force') === 'true';
      if (!force && (machine.state === 'started' || machine.state === 'starting')) {
        return {
          status: 412,
          json: { error: `unable to destroy machine, not currently stopped (state ${machine.state})` },
        };
      }
      setState(machine, 'destroyed');
      machine.lease = undefined;
      return { status: 200, json: { ok: true } };
    }),
  );

  route('GET', `${base}/:id`, (req) => {
    const found = find(req);
    return isMachine(found) ? { status: 200, json: view(found) } : found;
  });

  route(
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
      const transition = machine.state === 'stopping' || machine.state === 'suspending';
      machine.config = body.config;
      machine.instance_id = ulid();
      machine.digest = resolveDigest(body.config.image);
      if (!body.skip_launch) boot(machine, 'replacing');
      else if (transition) {
        // The new config lands, the stop under way finishes on its own timer (a snapshot of the old
        // config cannot be resumed, so the new version ends stopped either way).
        const version = machine.instance_id;
        const left = Math.max(0, (machine.transitionEndsAt ?? 0) - Date.now());
        later(left, () => version === machine.instance_id && setState(machine, 'stopped'));
      } else setState(machine, 'stopped');
      return { status: 200, json: view(machine) };
    }),
  );

  route(
    'POST',
    `${base}/:id/start`,
    mutate((machine) => {
      const previous = machine.state;
      if (CANNOT_START.has(previous)) {
        return { status: 412, json: { error: `unable to start machine from current state: ${previous}` } };
      }
      if (previous !== 'started' && previous !== 'starting') boot(machine, 'starting');
      return { status: 200, json: { previous_state: previous, migrated: false, new_host: '' } };
    }),
  );

  route(
    'POST',
    `${base}/:id/stop`,
    mutate((machine) => {
      if (machine.state === 'started' || machine.state === 'starting') stopFor(machine, startDelayMs);
      return { status: 200, json: { ok: true } };
    }),
  );

  for (const [action, cordoned] of [
    ['cordon', true],
    ['uncordon', false],
  ] as const) {
    route(
      'POST',
      `${base}/:id/${action}`,
      mutate((machine) => {
        machine.cordoned = cordoned;
        return { status: 200, json: { ok: true } };
      }),
    );
  }

  route('GET', `${base}/:id/lease`, (req) => {
    const found = find(req);
    if (!isMachine(found)) return found;
    const lease = activeLease(found);
    if (!lease) return { status: 404, json: { error: 'lease not found' } };
    return { status: 200, json: leaseJson({ ...lease, version: found.instance_id }) };
  });

  route('POST', `${base}/:id/lease`, (req) => {
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

  route('DELETE', `${base}/:id/lease`, (req) => {
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

  route('GET', `${base}/:id/wait`, async (req) => {
    const found = find(req);
    if (!isMachine(found)) return found;
    const timeout = Number(req.query.get('timeout') ?? 60);
    if (timeout < 1 || timeout > 60) {
      return { status: 400, json: { error: 'invalid_argument: timeout must be within [1s, 1m0s]' } };
    }
    const wanted = (req.query.get('state') ?? 'started').split(',');
    // `version`, or the deprecated `instance_id` naming the same thing (contracts/fly Machines_wait).
    const version = req.query.get('version') ?? req.query.get('instance_id');
    const stateOfVersion = () =>
      version && version !== found.instance_id ? TERMINAL_OF_OLD_VERSION : found.state;
    const deadline = Date.now() + timeout * waitSecondMs;
    while (!stopped) {
      const state = stateOfVersion();
      const settled = wanted.includes('settled') && SETTLED.includes(state);
      if (wanted.includes(state) || settled) {
        return { status: 200, json: { ok: true, state, version: version ?? found.instance_id } };
      }
      if (Date.now() >= deadline) break;
      await sleep(Math.min(10, deadline - Date.now()));
    }
    return {
      status: 408,
      json: { error: `deadline_exceeded: machine did not reach ${wanted.join(',')} within ${timeout}s` },
    };
  });

  /**
   * `stopping` for `ms`, then `stopped` (or `suspending`, then `suspended`), unless a newer version
   * came meanwhile (fly.io/docs/machines/machine-states: transient `stopping`/`suspending` lead
   * to the persistent `stopped`/`suspended`).
   */
  function stopFor(machine: FlyMachine, ms: number, to: 'stopped' | 'suspended' = 'stopped'): void {
    setState(machine, to === 'stopped' ? 'stopping' : 'suspending');
    machine.transitionEndsAt = Date.now() + ms;
    const version = machine.instance_id;
    later(ms, () => version === machine.instance_id && setState(machine, to));
  }

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
      // A cordoned machine gets no traffic (contracts/fly Machines_cordon).
      const serving = live.filter((m) => !m.cordoned);
      target = serving[roundRobin++ % Math.max(serving.length, 1)];
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
    /** Ids of the machines Machines_create made, in order. */
    get created(): string[] {
      return [...createdIds];
    },
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
    /** Versions running this image report at most `count` check results, however long they run. */
    reportOnlyChecks(image: string, count: number): void {
      checkLimits.set(image, count);
    },
    /** A version running this image ends `failed` instead of `started`. */
    failBootFor(image: string): void {
      failingBoots.add(image);
    },
    /** The digest a tag resolves to from now on, as after a push of the same tag. */
    pushTag(image: string, digest: string): void {
      tagDigests.set(image, digest);
    },
    /**
     * Right after the next machine listing, the machine starts stopping and is `stopping` for
     * `ms`, as when Fly Proxy stops an idle machine (fly.io/docs/launch/autostop-autostart).
     */
    stopAfterNextListing(machineId: string, ms: number): void {
      stopAfterListing.set(machineId, ms);
    },
    /**
     * The machine starts stopping (or suspending) now and gets there after `ms`, as Fly Proxy's
     * autostop does with `auto_stop_machines = "stop"` or `"suspend"`
     * (fly.io/docs/launch/autostop-autostart).
     */
    beginStop(machineId: string, ms: number, to: 'stopped' | 'suspended' = 'stopped'): void {
      const machine = machines.get(machineId);
      if (machine) stopFor(machine, ms, to);
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

/**
 * Fly Machines' 429 over a per-action limit (fly.io/docs/machines/api/working-with-machines-api/,
 * "Rate limits": 1 request a second per action and machine, bursting to 3; Get Machine 5 a
 * second, bursting to 10). The docs name no `Retry-After` or rate-limit headers, so none is
 * sent; the body is the API's `{ error }` shape (the contract's ErrorResponse).
 */
export function flyRateLimited(): Fault {
  return { status: 429, json: { error: 'rate limit exceeded' } };
}

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

/** `image_ref` as GET machine shows it (fly-go machine_types.go `MachineImageRef`). */
function imageRef(image: string, digest: string) {
  const name = image.split('@')[0]!;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const repository = colon > slash ? name.slice(0, colon) : name;
  const tag = colon > slash ? name.slice(colon + 1) : image.includes('@') ? '' : 'latest';
  const [registry, ...rest] = repository.split('/');
  return { registry, repository: rest.join('/'), tag, digest, labels: {} };
}

function digestIn(image: string): string | undefined {
  return /@(sha256:[a-f0-9]{64})$/.exec(image)?.[1];
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
