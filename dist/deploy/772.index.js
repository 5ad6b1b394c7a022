export const id = 772;
export const ids = [772];
export const modules = {

/***/ 9880:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   _: () => (/* binding */ mapConcurrent)
/* harmony export */ });
/* unused harmony export STARTS_PER_TURN */
/* harmony import */ var p_map__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(606);

/**
 * Tasks that may start in one event-loop turn. The first wave of a wide fan-out
 * (concurrency 256) would otherwise set up every connection before the event loop
 * gets to send the first request: measured at 256, the first request left 50-60 ms
 * after the fan-out began; started 16 a turn, the first ones are answered while the
 * later ones are still being set up.
 */
const STARTS_PER_TURN = 16;
/**
 * Every fan-out in the suite: at most `concurrency` tasks in flight, results in
 * input order (p-map), at most `STARTS_PER_TURN` of them started in one
 * event-loop turn (in input order). Tasks report their own failures as data; one
 * that throws rejects the whole with its error at once, and no task starts after
 * it. An aborted `signal` rejects the whole with its reason and starts nothing
 * more (the caller marks unstarted ones itself); tasks already started run on.
 */
function mapConcurrent(items, task, options) {
    const starts = new StartsPerTurn(STARTS_PER_TURN);
    let failed;
    const paced = async (item, index) => {
        await starts.take();
        // p-map has already rejected the whole; a task waiting for its turn must not start after that.
        if (failed)
            throw failed.error;
        options.signal?.throwIfAborted();
        try {
            return await task(item, index);
        }
        catch (error) {
            failed ??= { error };
            throw error;
        }
    };
    return (0,p_map__WEBPACK_IMPORTED_MODULE_0__/* ["default"] */ .Ay)(items, paced, { concurrency: Math.max(1, options.concurrency), signal: options.signal });
}
/** A count of starts that resets when the event loop next reaches its check phase (setImmediate). */
class StartsPerTurn {
    started = 0;
    turnEnd;
    limit;
    constructor(limit) {
        this.limit = limit;
    }
    /** Resolves when one more start fits in this turn, waiting for later turns while it does not; FIFO. */
    async take() {
        while (this.started >= this.limit)
            await this.endOfTurn();
        this.started++;
        void this.endOfTurn();
    }
    endOfTurn() {
        this.turnEnd ??= new Promise((resolve) => setImmediate(() => {
            this.started = 0;
            this.turnEnd = undefined;
            resolve();
        }));
        return this.turnEnd;
    }
}


/***/ }),

/***/ 4664:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   k: () => (/* binding */ Progress)
/* harmony export */ });
/* unused harmony export formatProgressLine */
/**
 * One line per finished unit, written the moment it finishes. Writes to stdout
 * are synchronous for pipes and files on Linux, so the runner (or a job reading
 * our stdout) sees each line as it happens, never batched at the end.
 */
class Progress {
    finished = 0;
    total;
    write;
    width;
    constructor(total, write) {
        this.total = total;
        this.write = write;
        this.width = String(total).length;
    }
    done(unit) {
        this.finished++;
        this.write(formatProgressLine(this.finished, this.total, unit, this.width));
    }
}
function formatProgressLine(position, total, unit, width = String(total).length) {
    const percent = total === 0 ? 100 : Math.floor((position / total) * 100);
    const where = unit.where ? ` (${unit.where})` : '';
    const parts = [
        `[${String(position).padStart(width)}/${total} ${String(percent).padStart(3)}%]`,
        `${unit.id}${where}`,
        unit.outcome,
    ];
    if (unit.status !== undefined)
        parts.push(`status=${unit.status}`);
    if (unit.attempts !== undefined)
        parts.push(`attempts=${unit.attempts}`);
    parts.push(`${Math.round(unit.ms)}ms`);
    if (unit.note)
        parts.push(`- ${unit.note}`);
    return parts.join(' ');
}


/***/ }),

/***/ 2772:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  connectFly: () => (/* binding */ connectFly)
});

// EXTERNAL MODULE: ./src/core/http.ts
var http = __webpack_require__(1983);
// EXTERNAL MODULE: ./src/core/rate-limit.ts
var rate_limit = __webpack_require__(2743);
;// CONCATENATED MODULE: ./src/providers/fly/rate-limit.ts

/**
 * Fly Machines' rate limits (fly.io/docs/machines/api/working-with-machines-api/, "Rate
 * limits"; community.fly.io/t/20636): per action and per machine, 1 request a second,
 * bursting to 3; Get Machine 5 a second, bursting to 10. A 429 carries no documented
 * `Retry-After`, so a refused request waits until its own action's limit refills — 1 s, or
 * 0.2 s for Get Machine — doubling up to 10 s for a limit that stays, spread up to 25 % later
 * so machines limited together do not all send again at once (never earlier than the refill).
 * A `Retry-After`, if one comes, is obeyed. The limit is named by the action it belongs to.
 */
const FLY_FIRST_WAIT_MS = 1000;
const FLY_GET_MACHINE_FIRST_WAIT_MS = 200;
const FLY_MAX_WAIT_MS = 10_000;
/** How much later than the refill a wait may be spread. */
const FLY_SPREAD = 0.25;
/** `GET /v1/apps/{app}/machines/{id}`: the one action with its own, higher limit. */
const GET_MACHINE = /^GET \/(?:.*\/)?apps\/[^/]+\/machines\/[^/]+$/;
function isGetMachine(request) {
    return request !== undefined && GET_MACHINE.test(request);
}
const flyRateLimit = {
    limited({ status, headers, request }, count, now, random) {
        if (status !== 429)
            return undefined;
        const after = (0,rate_limit/* retryAfterMs */.Vs)(headers, now);
        const getMachine = isGetMachine(request);
        const base = (0,rate_limit/* doubling */.Bf)(count, getMachine ? FLY_GET_MACHINE_FIRST_WAIT_MS : FLY_FIRST_WAIT_MS, FLY_MAX_WAIT_MS);
        const label = getMachine
            ? 'Get Machine limit of 5 requests a second per machine, bursts of 10'
            : 'per-action limit of 1 request a second per machine, bursts of 3';
        return {
            waitMs: after ?? Math.round(base * (1 + FLY_SPREAD * random())),
            limit: `HTTP 429, ${after === undefined ? label : `retry-after ${(0,rate_limit/* formatWait */.Du)(after)}`}`,
        };
    },
};

;// CONCATENATED MODULE: ./src/providers/fly/client.ts


/**
 * The one sender every Fly Machines resource client shares: base URL, token and
 * the core retry policy. Resource clients (machines.ts, and later leases or
 * updates) take the `HttpClient` this returns, so each stays a thin file.
 */
const FLY_API_URL = 'https://api.machines.dev/v1';
/**
 * The Authorization header fly-go sends to the Machines API (tokens/tokens.go `Parse`,
 * `StripAuthorizationScheme`, `FlapsHeader`): any `Bearer`/`FlyV1` schemes the user pasted are
 * stripped (repeatedly, any case), the value is split at commas; macaroon tokens (`fm1r_`,
 * `fm1a_`, `fm2_`) are sent alone with the `FlyV1` scheme, other tokens with `Bearer`.
 */
function flyAuthorization(token) {
    const tokens = stripSchemes(token)
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0);
    const macaroons = tokens.filter((t) => /^(?:fm1r|fm1a|fm2)_/.test(t));
    return macaroons.length > 0 ? `FlyV1 ${macaroons.join(',')}` : `Bearer ${tokens.join(',')}`;
}
function stripSchemes(token) {
    let rest = token.trim();
    for (;;) {
        const match = /^(?:bearer|flyv1)\s+(.*)$/is.exec(rest);
        if (!match)
            return rest;
        rest = match[1].trim();
    }
}
function createFlyClient(options) {
    return new http/* HttpClient */.Qq({
        provider: 'Fly Machines',
        credential: options.credential ?? 'fly-api-token',
        baseUrl: options.baseUrl ?? FLY_API_URL,
        headers: { authorization: flyAuthorization(options.token), accept: 'application/json' },
        redact: options.redact,
        rateLimit: flyRateLimit,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.retry ? { retry: options.retry } : {}),
        ...(options.onRetry ? { onRetry: options.onRetry } : {}),
        ...(options.waitBound ? { waitBound: options.waitBound } : {}),
        ...(options.log ? { log: options.log } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(options.random ? { random: options.random } : {}),
    });
}

// EXTERNAL MODULE: ./src/core/errors.ts
var core_errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
;// CONCATENATED MODULE: ./src/providers/fly/leases.ts


/**
 * Machine leases: while we hold one, nobody else (another deploy, `fly deploy`)
 * can change the machine, and every change we send carries its nonce. A lease
 * is refreshed by POSTing again with the nonce, and released with DELETE.
 *
 * A lease carries the description it was created with, and GET .../lease shows
 * the current one with its nonce (flyctl's `machine leases clear` works that
 * way). So a lease we created but never heard back about — the answer was lost,
 * in this attempt or an earlier attempt of the same workflow run — is found by
 * its description and adopted rather than waited out.
 */
const LEASE_NONCE_HEADER = 'fly-machine-lease-nonce';
class FlyLeases {
    http;
    app;
    constructor(http, app) {
        this.http = http;
        this.app = app;
    }
    path(id) {
        return `/apps/${encodeURIComponent(this.app)}/machines/${encodeURIComponent(id)}/lease`;
    }
    async acquire(machineId, options) {
        // Two rounds: the lease seen on 409 may expire before we read it, and then it is free again.
        for (let round = 1;; round++) {
            const res = await this.http.request({
                operation: 'Machines_create_lease',
                method: 'POST',
                path: this.path(machineId),
                json: { ttl: options.ttlSeconds, description: options.description },
                // Safe to send again (on 503, a timeout, a lost answer): a machine holds one lease at
                // most, so a repeat cannot make a second one; if the first attempt did create it, the
                // repeat gets 409 and the lease is adopted below by its description, never taken from
                // anyone else. Not retrying would leave that lease blocking every change until it expires.
                retrySafe: true,
                acceptStatus: [409],
            });
            if (res.status !== 409)
                return toLease(machineId, res.data);
            const held = await this.current(machineId);
            if (held?.nonce && held.description === options.description) {
                // Ours: extend it to a full TTL, since it may have been created a while ago.
                return this.refresh({ machineId, nonce: held.nonce, expiresAt: held.expiresAt }, options.ttlSeconds);
            }
            if (held || round >= 2) {
                throw new core_errors/* ApiError */.hD({
                    provider: this.http.provider,
                    operation: 'Machines_create_lease',
                    request: res.request,
                    status: 409,
                    retryable: false,
                    attempts: res.attempts,
                    ...(res.requestId ? { requestId: res.requestId } : {}),
                    providerMessage: held ? describeHolder(machineId, held) : `machine ${machineId} lease is held`,
                    hint: 'wait until that lease is released or expires, or clear it with `fly machine leases clear`',
                });
            }
        }
    }
    /** The machine's current lease, or undefined when it holds none (404). */
    async current(machineId, signal) {
        const res = await this.http.request({
            operation: 'Machines_show_lease',
            path: this.path(machineId),
            acceptStatus: [404],
            ...(signal ? { signal } : {}),
        });
        if (res.status === 404)
            return undefined;
        const f = fieldsOf(res.data);
        if (!f.nonce && !f.owner && f.expires_at === undefined)
            return undefined;
        return { nonce: f.nonce, owner: f.owner, description: f.description, expiresAt: f.expires_at };
    }
    /** With our nonce the POST extends our own lease, so sending it twice is harmless. */
    async refresh(lease, ttlSeconds) {
        const res = await this.http.request({
            operation: 'Machines_create_lease',
            method: 'POST',
            path: this.path(lease.machineId),
            headers: { [LEASE_NONCE_HEADER]: lease.nonce },
            json: { ttl: ttlSeconds },
            retrySafe: true,
        });
        return toLease(lease.machineId, res.data, lease.nonce);
    }
    /** A lease that already expired (404) counts as released. */
    async release(lease, signal) {
        await this.http.request({
            operation: 'Machines_release_lease',
            method: 'DELETE',
            path: this.path(lease.machineId),
            headers: { [LEASE_NONCE_HEADER]: lease.nonce },
            acceptStatus: [404],
            ...(signal ? { signal } : {}),
        });
    }
}
function fieldsOf(json) {
    return { ...(json ?? {}), ...(json?.data ?? {}) };
}
function describeHolder(machineId, held) {
    const until = held.expiresAt ? new Date(held.expiresAt * 1000).toISOString() : 'an unknown time';
    const what = held.description ? `"${held.description}"` : 'no description';
    return `machine ${machineId} lease currently held by ${held.owner ?? 'an unknown owner'} (${what}) until ${until}`;
}
function toLease(machineId, json, fallbackNonce) {
    const f = fieldsOf(json);
    const nonce = f.nonce ?? fallbackNonce;
    if (!nonce)
        throw new message/* ComposedError */.vf((0,message/* msg */.ab) `Fly Machines answered a lease for machine ${machineId} without a nonce`);
    return { machineId, nonce, expiresAt: f.expires_at };
}

// EXTERNAL MODULE: ./src/core/provider-list.ts
var provider_list = __webpack_require__(4023);
;// CONCATENATED MODULE: ./src/providers/fly/machines.ts



class FlyMachines {
    http;
    app;
    constructor(http, app) {
        this.http = http;
        this.app = app;
    }
    path(suffix = '') {
        return `/apps/${encodeURIComponent(this.app)}/machines${suffix}`;
    }
    async list(options = {}) {
        const query = {
            region: options.region,
            state: options.state?.join(','),
            include_deleted: options.includeDeleted,
        };
        for (const [key, value] of Object.entries(options.metadata ?? {}))
            query[`metadata.${key}`] = value;
        const res = await this.call(`app ${this.app}`, () => this.http.request({ operation: 'Machines_list', path: this.path(), query }));
        return (0,provider_list/* providerList */.M)(res.data, {
            provider: this.http.provider,
            operation: 'Machines_list',
            // What the fan-out and the rollout read of each machine (fly-go machine_types.go `Machine`).
            fields: { id: 'text', state: 'text', region: 'text', config: 'object?' },
            // One request, sent without `cursor` or `limit` (contracts/fly Machines_list): a machine
            // listed twice in it is a fault, and would be updated twice.
            unique: 'id',
            requestId: res.requestId,
            request: res.request,
        });
    }
    async get(id, signal) {
        const res = await this.call(`machine ${id}`, () => this.http.request({
            operation: 'Machines_show',
            path: this.path(`/${enc(id)}`),
            ...(signal ? { signal } : {}),
        }));
        return res.data;
    }
    /** Not retried: the update may have been applied, and a second one restarts the machine again. */
    async update(id, input) {
        const res = await this.call(`machine ${id}`, () => this.http.request({
            operation: 'Machines_update',
            method: 'POST',
            path: this.path(`/${enc(id)}`),
            headers: { [LEASE_NONCE_HEADER]: input.nonce },
            json: {
                config: input.config,
                ...(input.region ? { region: input.region } : {}),
                ...(input.minSecretsVersion !== undefined ? { min_secrets_version: input.minSecretsVersion } : {}),
                ...(input.skipLaunch ? { skip_launch: true } : {}),
            },
            ...(input.signal ? { signal: input.signal } : {}),
        }));
        return res.data;
    }
    /**
     * Starting a machine that is already starting or started changes nothing, so a retried start is
     * harmless. A machine under our lease is started with its nonce (fly-go flaps_machines.go `Start`).
     * 412 is answered as data (`refused`): the machine is in a transition it cannot be started from.
     */
    async start(id, nonce) {
        const res = await this.call(`machine ${id}`, () => this.http.request({
            operation: 'Machines_start',
            method: 'POST',
            path: this.path(`/${enc(id)}/start`),
            ...(nonce ? { headers: { [LEASE_NONCE_HEADER]: nonce } } : {}),
            retrySafe: true,
            acceptStatus: [412],
        }));
        if (res.status === 412)
            return {
                previousState: undefined,
                refused: res.data?.error ?? res.data?.message ?? 'precondition failed',
            };
        return { previousState: res.data?.previous_state };
    }
    /** Blocks server-side until the machine reaches `state`; a 408 (not yet, at the API's own timeout) fails the call. */
    async wait(id, options) {
        const res = await this.waitCall(id, { ...options, timeoutSeconds: options.timeoutSeconds ?? 60 }, []);
        return { state: res.data?.state ?? options.state };
    }
    async waitFor(id, input) {
        // 408 is the API saying "not yet": the caller decides whether to ask again.
        const res = await this.waitCall(id, input, [408]);
        if (res.status === 408)
            return { reached: false };
        return { reached: true, state: res.data?.state };
    }
    /**
     * GET /wait with `version`, not the deprecated `instance_id` (contracts/fly: Machines_wait
     * parameters; fly-go flaps/flaps_machines_wait.go sends `version`). The API allows 1-60 s; the
     * HTTP timeout leaves room beyond the API's own.
     */
    waitCall(id, input, acceptStatus) {
        const seconds = Math.min(60, Math.max(1, Math.ceil(input.timeoutSeconds)));
        return this.call(`machine ${id}`, () => this.http.request({
            operation: 'Machines_wait',
            path: this.path(`/${enc(id)}/wait`),
            query: { version: input.version, state: input.state, timeout: seconds },
            ...(acceptStatus.length > 0 ? { acceptStatus } : {}),
            timeoutMs: seconds * 1000 + 10_000,
            ...(input.signal ? { signal: input.signal } : {}),
        }));
    }
    /** Not retried: a second POST creates a second machine. */
    async create(input) {
        const res = await this.call(`app ${this.app}`, () => this.http.request({
            operation: 'Machines_create',
            method: 'POST',
            path: this.path(),
            json: {
                config: input.config,
                ...(input.region ? { region: input.region } : {}),
                ...(input.minSecretsVersion !== undefined ? { min_secrets_version: input.minSecretsVersion } : {}),
                ...(input.skipLaunch ? { skip_launch: true } : {}),
                ...(input.skipServiceRegistration ? { skip_service_registration: true } : {}),
            },
        }));
        return res.data;
    }
    async destroy(id, options) {
        await this.call(`machine ${id}`, () => this.http.request({
            operation: 'Machines_delete',
            method: 'DELETE',
            path: this.path(`/${enc(id)}`),
            query: { force: options.force },
            ...(options.nonce ? { headers: { [LEASE_NONCE_HEADER]: options.nonce } } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
        }));
    }
    /** Setting cordon twice changes nothing, so a retry is harmless (flyctl strategy_bluegreen.go). */
    async cordon(id, nonce, signal) {
        await this.toggle('cordon', id, nonce, signal);
    }
    async uncordon(id, nonce, signal) {
        await this.toggle('uncordon', id, nonce, signal);
    }
    async toggle(action, id, nonce, signal) {
        await this.call(`machine ${id}`, () => this.http.request({
            operation: action === 'cordon' ? 'Machines_cordon' : 'Machines_uncordon',
            method: 'POST',
            path: this.path(`/${enc(id)}/${action}`),
            ...(nonce ? { headers: { [LEASE_NONCE_HEADER]: nonce } } : {}),
            ...(signal ? { signal } : {}),
            retrySafe: true,
        }));
    }
    async call(resource, send) {
        try {
            return await send();
        }
        catch (error) {
            throw withHint(error, resource, this.app);
        }
    }
}
function enc(id) {
    return encodeURIComponent(id);
}
/** The usual causes of a 401/403/404 from the Machines API, said where the user reads the error. */
function withHint(error, resource, app) {
    if (!(error instanceof core_errors/* ApiError */.hD) || error.hint)
        return error;
    const hint = error.status === 401 || error.status === 403
        ? `Check that the Fly API token may manage app ${app}`
        : error.status === 404
            ? `Check that ${resource} exists`
            : undefined;
    if (!hint)
        return error;
    return new core_errors/* ApiError */.hD({
        provider: error.provider,
        operation: error.operation,
        request: error.request,
        status: error.status,
        requestId: error.requestId,
        body: error.body,
        providerMessage: error.providerMessage,
        retryable: error.retryable,
        attempts: error.attempts,
        hint,
        refusedCredential: error.refusedCredential,
        cause: error.cause,
    });
}

// EXTERNAL MODULE: ./src/core/fanout.ts
var fanout = __webpack_require__(9880);
// EXTERNAL MODULE: ./src/core/progress.ts
var core_progress = __webpack_require__(4664);
// EXTERNAL MODULE: ./src/core/summary.ts
var summary = __webpack_require__(1363);
;// CONCATENATED MODULE: ./src/deploy/fly-health.ts
const COMPAT_CHECK = /^bg_deployments_compat/;
/** Checks the config defines: keys of `config.checks` plus the length of each `services[].checks`. */
function definedCheckCount(config) {
    const top = config?.checks;
    let count = top && typeof top === 'object' ? Object.keys(top).length : 0;
    const services = config?.services;
    if (Array.isArray(services)) {
        for (const service of services) {
            const checks = service?.checks;
            if (Array.isArray(checks))
                count += checks.length;
        }
    }
    return count;
}
function healthOf(machine) {
    const expected = definedCheckCount(machine.config);
    const results = (machine.checks ?? []).filter((c) => !COMPAT_CHECK.test(c.name));
    if (machine.state !== 'started') {
        return { healthy: false, summary: `machine is ${machine.state}`, reported: results.length, expected };
    }
    if (expected === 0)
        return { healthy: true, summary: 'started; its config defines no checks' };
    const passing = results.filter((c) => c.status === 'passing').length;
    if (results.length >= expected && passing === results.length) {
        return { healthy: true, summary: `${passing}/${expected} checks passing` };
    }
    const summary = results.length === 0
        ? `no check results yet (${expected} defined)`
        : `${results.length} of ${expected} checks reported, ${passing} passing: ${results.map(describe).join(', ')}`;
    return { healthy: false, summary, reported: results.length, expected };
}
function describe(check) {
    return `${check.name}=${check.status}${check.status !== 'passing' && check.output ? ` (${check.output})` : ''}`;
}

// EXTERNAL MODULE: ./src/deploy/image.ts
var deploy_image = __webpack_require__(4870);
;// CONCATENATED MODULE: ./src/deploy/fly-machines.ts

/**
 * The process group of a machine: `fly_process_group` metadata, else the older `process_group`
 * key (fly-go machine_types.go `MachineConfig.ProcessGroup`).
 */
function processGroupOf(machine) {
    const metadata = machine.config?.metadata ?? {};
    return metadata.fly_process_group || metadata.process_group || '';
}
/**
 * The machines a deploy updates, as fly-go's active-machine listing keeps them
 * (flaps/flaps_machines.go `ListActive`, `ListFlyAppsMachines`; machine_types.go `IsActive`,
 * `IsFlyAppsPlatform`, `IsFlyAppsConsole`, `IsReleaseCommandMachine`): not destroyed or
 * destroying, a Fly Launch platform machine (`fly_platform_version: v2`), not a `fly console`
 * machine (`fly_app_console`) and not a release-command machine. `failed` machines stay in: a
 * deploy is how they get a working version (flyctl machines_launchinput.go `shouldSkipLaunch`
 * launches them). With `processGroup`, only machines of that group.
 */
function selectMachines(machines, processGroup) {
    const deploy = [];
    const excluded = [];
    for (const machine of machines) {
        const reason = exclusionOf(machine, processGroup);
        if (reason)
            excluded.push({ machine, reason });
        else
            deploy.push(machine);
    }
    return { deploy, excluded };
}
function exclusionOf(machine, processGroup) {
    if (machine.state === 'destroyed' || machine.state === 'destroying')
        return 'destroyed';
    const metadata = machine.config?.metadata ?? {};
    const group = processGroupOf(machine);
    if (group === 'fly_app_release_command' || metadata.process_group === 'release_command')
        return 'release command';
    if (metadata.fly_platform_version !== 'v2')
        return 'not a platform machine';
    if (group === 'fly_app_console')
        return 'console';
    if (processGroup !== undefined && group !== processGroup)
        return 'other group';
    return undefined;
}
/**
 * Whether an update starts the new version: only for a machine that runs or tries to (`started`,
 * `starting`, `failed`); `stopped`, `suspended`, `created` and the transitions into them
 * (`stopping`, `suspending`) get the new config without being launched (flyctl
 * internal/command/deploy/machines_launchinput.go `shouldSkipLaunch`).
 */
function launchesOnUpdate(state) {
    return state === 'started' || state === 'starting' || state === 'failed';
}
/** States in which POST /start answers 412: the machine is on its way somewhere else. */
const TRANSITIONAL_STATES = new Set([
    'stopping',
    'suspending',
    'replacing',
    'updating',
    'restarting',
    'creating',
    'destroying',
]);
/**
 * The digest the machine runs: what the platform resolved (`image_ref.digest`), else the digest
 * its config pins. Undefined when neither says.
 */
function runningDigest(machine) {
    const ref = machine.image_ref;
    const resolved = typeof ref?.digest === 'string' && ref.digest ? ref.digest : undefined;
    return resolved ?? (0,deploy_image/* digestOf */.ol)(machine.config?.image);
}
/**
 * "Already runs this version" by digest, never by name: a tag pushed again is a new version
 * under the same string, and the same digest under another name is the same version. Without a
 * digest on either side nothing is known, and the machine is deployed.
 */
function runsImage(machine, image) {
    const wanted = (0,deploy_image/* digestOf */.ol)(image);
    return wanted !== undefined && runningDigest(machine) === wanted;
}
/**
 * Rollout order. Machines that launch come first, in list order, so the first batch proves the
 * image on a running machine; machines updated without launching come last, since they prove
 * nothing. For `canary` the lone first machine is a started one when there is one (flyctl
 * internal/command/deploy/machines_deploymachinesapp.go, canary case of
 * `updateExistingMachinesWRecovery`).
 */
function rolloutOrder(machines, strategy) {
    const launching = machines.filter((m) => launchesOnUpdate(m.state));
    const cold = machines.filter((m) => !launchesOnUpdate(m.state));
    if (strategy === 'canary') {
        const canary = launching.findIndex((m) => m.state === 'started');
        if (canary > 0)
            launching.unshift(...launching.splice(canary, 1));
    }
    return [...launching, ...cold];
}

;// CONCATENATED MODULE: ./src/deploy/fly-update.ts
/**
 * The container of a multi-container config that runs the app's image: the one that runs the
 * machine's current top-level image, else the one named `app`, else the first — flyctl gives the
 * built image to the container the user named, else `app`, else the first
 * (internal/containerconfig/parse.go) and to every container whose image is `.`
 * (machines_launchinput.go `updateContainerImage`).
 */
function appContainerIndex(containers, currentImage) {
    if (containers.length === 0)
        return -1;
    const same = containers.findIndex((c) => currentImage !== undefined && c.image === currentImage);
    if (same >= 0)
        return same;
    const app = containers.findIndex((c) => c.name === 'app');
    return Math.max(app, 0);
}
function updateBody(machine, image, options) {
    const config = { ...(machine.config ?? {}), image };
    const containers = machine.config?.containers;
    if (Array.isArray(containers) && containers.length > 0) {
        const app = appContainerIndex(containers, machine.config?.image);
        config.containers = containers.map((c, i) => i === app || c.image === '.' ? { ...c, image } : c);
    }
    return {
        config,
        ...(machine.region ? { region: machine.region } : {}),
        ...(options.minSecretsVersion !== undefined ? { minSecretsVersion: options.minSecretsVersion } : {}),
        ...(options.launch ? {} : { skipLaunch: true }),
    };
}

;// CONCATENATED MODULE: ./src/deploy/fly-bluegreen.ts





/** Why flyctl would refuse this blue-green deploy, or undefined. */
function refusal(blue) {
    if (blue.some((m) => definedCheckCount(m.config) > 0))
        return undefined;
    return (0,message/* own */.ZV)('bluegreen needs at least one machine whose config defines a check (flyctl refuses it too)');
}
/**
 * Indexes of blue machines whose green is launched although the blue was not running: the first
 * of each process group whose machines define checks and none of which would start.
 */
function forcedStarts(blue, groupOf) {
    const willStart = new Set();
    const firstIdle = new Map();
    const withChecks = new Set();
    blue.forEach((m, i) => {
        const group = groupOf(m);
        if (definedCheckCount(m.config) > 0)
            withChecks.add(group);
        if (launchesOnUpdate(m.state))
            willStart.add(group);
        else if (!firstIdle.has(group))
            firstIdle.set(group, i);
    });
    const forced = new Set();
    for (const group of withChecks) {
        const idle = firstIdle.get(group);
        if (!willStart.has(group) && idle !== undefined)
            forced.add(idle);
    }
    return forced;
}
async function runBlueGreen(blue, image, request, kit, groupOf) {
    const units = blue.map((m) => ({
        id: m.id,
        where: m.region,
        previousImage: m.config?.image,
        newImage: image,
        outcome: 'skipped',
        batch: 1,
        startedMs: kit.since(),
        endedMs: kit.since(),
    }));
    const refused = refusal(blue);
    if (refused) {
        for (const u of units)
            u.outcome = 'failed';
        return { status: 'failed', units, error: refused };
    }
    const leases = await kit.acquire(blue);
    const green = new Map();
    /** Greens traffic moved to (uncordoned), by blue index. */
    const promoted = new Set();
    const cordoned = new Set();
    const destroyed = new Set();
    const unpromoted = () => [...green].filter(([i]) => !promoted.has(i)).map(([, g]) => g.id);
    const deadline = performance.now() + request.healthTimeoutMs;
    try {
        const forced = forcedStarts(blue, groupOf);
        const firstFailure = new AbortController();
        const signal = request.signal
            ? AbortSignal.any([request.signal, firstFailure.signal])
            : firstFailure.signal;
        // flyctl creates every green first, a third of them at once (CreateGreenMachines), then waits
        // for all to start, then for all to be healthy. Every task of a phase settles before the
        // phase is judged, so no green is still being created while greens are destroyed; the first
        // failure cuts the others.
        await allOrFirstFailure(blue, Math.ceil(blue.length / 3), firstFailure, async (m, i) => {
            signal.throwIfAborted();
            const current = await kit.read(m.id);
            const launched = launchesOnUpdate(m.state) || forced.has(i);
            const body = updateBody(current, image, { launch: launched, minSecretsVersion: kit.minSecretsVersion });
            const made = await kit.lifecycle.create({ ...body, skipServiceRegistration: true });
            green.set(i, { id: made.id, version: made.version ?? made.instance_id, launched });
            kit.onGreen?.(unpromoted());
            request.log((0,message/* msg */.ab) `${m.id}: green machine ${made.id} created in ${m.region} (no traffic yet)`);
            units[i].note = (0,message/* msg */.ab) `replaced by ${made.id}`;
        });
        const launched = [...green].filter(([, g]) => g.launched);
        await allOrFirstFailure(launched, launched.length, firstFailure, async ([i, g]) => {
            const state = await kit.waitSettled(g.id, g.version, deadline, signal);
            if (state !== 'started')
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `green machine ${g.id} settled ${state} instead of started`);
            const seen = await kit.waitHealthy(g.id, deadline, signal);
            const checked = definedCheckCount(blue[i].config) > 0;
            units[i].health = checked ? 'passing' : 'skipped';
            // flyctl waits for no check on a machine whose config defines none: started is enough.
            request.log((0,message/* msg */.ab) `${blue[i].id}: green ${g.id} ${checked ? (0,message/* msg */.ab) `started and healthy (${seen})` : (0,message/* own */.ZV)('started (no checks defined)')}`);
        });
        request.signal?.throwIfAborted();
        for (const [i, g] of green) {
            request.signal?.throwIfAborted();
            await kit.lifecycle.uncordon(g.id, undefined, request.signal);
            promoted.add(i);
            kit.onGreen?.(unpromoted());
            units[i].startedMs = kit.since();
        }
        request.log((0,message/* msg */.ab) `traffic moved: ${green.size} green machine(s) uncordoned`);
        await (0,fanout/* mapConcurrent */._)(blue, async (m, i) => {
            await kit.lifecycle.cordon(m.id, leases.get(m.id)?.nonce, request.signal);
            cordoned.add(i);
        }, { concurrency: 16, ...(request.signal ? { signal: request.signal } : {}) });
        await (0,fanout/* mapConcurrent */._)(blue, async (m, i) => {
            await kit.lifecycle.destroy(m.id, {
                nonce: leases.get(m.id)?.nonce,
                force: true,
                ...(request.signal ? { signal: request.signal } : {}),
            });
            destroyed.add(i);
            leases.delete(m.id);
        }, { concurrency: 16, ...(request.signal ? { signal: request.signal } : {}) });
        for (const u of units) {
            u.outcome = 'updated';
            u.health ??= 'skipped';
            u.endedMs = kit.since();
        }
        request.log((0,message/* msg */.ab) `blue machine(s) ${(0,message/* joinMessages */.hw)(blue.map((m) => m.id), ', ')} destroyed`);
        return { status: 'success', units };
    }
    catch (error) {
        const cancelled = request.signal?.aborted === true;
        const why = cancelled ? (0,message/* own */.ZV)('cancelled') : (0,message/* composedOf */.s5)(error);
        if (promoted.size > 0)
            return afterTrafficMoved(blue, units, { green, promoted, cordoned, destroyed }, why, request, kit, leases);
        await destroyGreen([...green.values()].map((g) => g.id), request, kit);
        for (const u of units) {
            u.outcome = 'failed';
            u.error = cancelled ? (0,message/* own */.ZV)('cancelled before traffic moved') : why;
            u.note = (0,message/* own */.ZV)('green destroyed; blue kept serving');
            u.endedMs = kit.since();
        }
        return {
            status: 'failed',
            units,
            error: (0,message/* msg */.ab) `${why}; green machine(s) destroyed, blue untouched`,
            ...(cancelled ? { cancelled: { changed: 0, restored: 0 } } : {}),
        };
    }
    finally {
        await kit.release(leases);
    }
}
/**
 * A failure or cancellation once traffic reached green. flyctl never destroys a green machine
 * traffic was moved to (strategy_bluegreen.go `CanDestroyGreenMachines`); with `auto-rollback`,
 * as for every target, the previous version is sent back where it still exists: its blue machine
 * is uncordoned, then its green destroyed. Every green without traffic is destroyed. The units,
 * the error and the cancellation detail all say which machines serve afterwards.
 */
async function afterTrafficMoved(blue, units, done, why, request, kit, leases) {
    const cancelled = request.signal?.aborted === true;
    const signal = cancelled ? request.cleanupSignal : undefined;
    const unpromoted = [...done.green].filter(([i]) => !done.promoted.has(i));
    await destroyGreen(unpromoted.map(([, g]) => g.id), request, kit);
    const sendBack = request.autoRollback ? [...done.promoted].filter((i) => !done.destroyed.has(i)) : [];
    let restored = 0;
    await (0,fanout/* mapConcurrent */._)(sendBack, async (i) => {
        const b = blue[i];
        const g = done.green.get(i);
        try {
            await kit.lifecycle.uncordon(b.id, leases.get(b.id)?.nonce, signal);
            done.cordoned.delete(i);
            await kit.lifecycle.destroy(g.id, { force: true, ...(signal ? { signal } : {}) });
            done.promoted.delete(i);
            units[i].outcome = 'rolled-back';
            units[i].newImage = b.config?.image;
            units[i].note = (0,message/* msg */.ab) `${b.id} serves again; green ${g.id} destroyed`;
            restored++;
            request.log((0,message/* msg */.ab) `${b.id} uncordoned, serving the previous image again; green ${g.id} destroyed`);
        }
        catch (error) {
            request.log((0,message/* msg */.ab) `warning: could not send ${b.id} back: ${error}`);
        }
    }, { concurrency: 16 });
    for (const [i, u] of units.entries()) {
        u.endedMs = kit.since();
        if (u.outcome === 'rolled-back')
            continue;
        const g = done.green.get(i);
        if (g && done.promoted.has(i)) {
            u.outcome = 'updated';
            u.note = (0,message/* msg */.ab) `green ${g.id} serves; blue ${blue[i].id} ${(0,message/* own */.ZV)(done.destroyed.has(i) ? 'destroyed' : done.cordoned.has(i) ? 'kept, cordoned' : 'kept, still serving')}`;
        }
        else {
            u.outcome = 'failed';
            u.note = g
                ? (0,message/* msg */.ab) `green ${g.id} destroyed before traffic reached it; blue kept serving`
                : (0,message/* own */.ZV)('blue kept serving');
        }
        u.error = (0,message/* msg */.ab) `${why} after traffic moved to green`;
    }
    const serving = [...done.promoted].map((i) => done.green.get(i).id);
    const keptBlue = blue.filter((_, i) => !done.destroyed.has(i));
    const detail = serving.length === 0
        ? (0,message/* own */.ZV)('traffic is back on blue')
        : (0,message/* msg */.ab) `new version on green ${(0,message/* joinMessages */.hw)(serving, ', ')}${keptBlue.length > 0
            ? (0,message/* msg */.ab) `; blue ${(0,message/* joinMessages */.hw)(keptBlue.map((m) => m.id), ', ')} kept`
            : ''}`;
    return {
        status: serving.length === 0 && restored > 0 ? 'rolled-back' : 'failed',
        units,
        error: (0,message/* msg */.ab) `${why} after traffic moved to green: ${detail}`,
        ...(cancelled ? { cancelled: { changed: restored + serving.length, restored, detail } } : {}),
    };
}
async function destroyGreen(ids, request, kit) {
    const signal = request.signal?.aborted ? request.cleanupSignal : undefined;
    const left = new Set(ids);
    await (0,fanout/* mapConcurrent */._)(ids, async (id) => {
        try {
            await kit.lifecycle.destroy(id, { force: true, ...(signal ? { signal } : {}) });
            left.delete(id);
            request.log((0,message/* msg */.ab) `green machine ${id} destroyed`);
        }
        catch (error) {
            request.log((0,message/* msg */.ab) `warning: could not destroy green machine ${id}: ${error}`);
        }
    }, { concurrency: 16 });
    // What is still listed is left to the post step.
    kit.onGreen?.([...left]);
}
/** Runs `task` on every item; when one throws, aborts `cut` and throws the first error after all settled. */
async function allOrFirstFailure(items, concurrency, cut, task) {
    let failure;
    await (0,fanout/* mapConcurrent */._)(items, async (item, index) => {
        try {
            await task(item, index);
        }
        catch (error) {
            failure ??= { error };
            cut.abort(error);
        }
    }, { concurrency: Math.max(1, concurrency) });
    if (failure)
        throw failure.error;
}

;// CONCATENATED MODULE: ./src/deploy/plan.ts

/** Units changed at once after the first: a fraction of all units rounded up, or a count; at least 1. */
function batchWidth(total, maxUnavailable) {
    const width = 'count' in maxUnavailable ? maxUnavailable.count : Math.ceil(total * maxUnavailable.fraction - 1e-9);
    return Math.max(1, Math.min(total, width));
}
function batchSizes(total, strategy, maxUnavailable) {
    if (total <= 0)
        return [];
    if (strategy === 'immediate' || strategy === 'bluegreen')
        return [total];
    const width = batchWidth(total, maxUnavailable);
    const sizes = [1];
    for (let left = total - 1; left > 0; left -= width)
        sizes.push(Math.min(width, left));
    return sizes;
}
function splitBatches(items, sizes) {
    const out = [];
    let at = 0;
    for (const size of sizes) {
        out.push(items.slice(at, at + size));
        at += size;
    }
    return out;
}
/**
 * The plan a dry run prints and a real run records: one line per request that changes something.
 * Lines are messages (core/message.ts): the app, image and machine ids are values, counts and the
 * strategy our own words.
 */
function describeFlyRollout(input) {
    const lines = [];
    const all = input.batches.flat();
    if (all.length === 0) {
        lines.push((0,message/* msg */.ab) `fly app ${input.app}: every machine already runs ${input.image}; nothing to change`);
        return lines;
    }
    const count = (0,message/* own */.ZV)(all.length);
    lines.push((0,message/* msg */.ab) `fly app ${input.app}: ${count} machine(s) to ${input.image}, ${(0,message/* own */.ZV)(input.strategy)}, ${(0,message/* own */.ZV)(input.batches.length)} batch(es)`);
    lines.push((0,message/* msg */.ab) `lease ${count} machine(s): POST /apps/${input.app}/machines/{id}/lease`);
    input.batches.forEach((batch, i) => {
        const started = batch.filter((u) => u.notStarted === undefined);
        const wait = input.healthWait && started.length > 0
            ? (0,message/* msg */.ab) `, wait for ${started.length < batch.length ? (0,message/* msg */.ab) `${idsOf(started)} to start` : (0,message/* own */.ZV)('started')} and passing checks`
            : (0,message/* own */.ZV)(', no health wait');
        lines.push((0,message/* msg */.ab) `batch ${(0,message/* own */.ZV)(i + 1)}: update ${idsOf(batch)}${wait}`);
        for (const unit of batch) {
            const where = unit.where ? (0,message/* msg */.ab) ` (${unit.where})` : '';
            const cold = unit.notStarted === undefined
                ? ''
                : (0,message/* msg */.ab) `, skip_launch: ${unit.notStarted}, updated without starting, not health-checked`;
            lines.push((0,message/* msg */.ab) `  POST /apps/${input.app}/machines/${unit.id}${where}: config.image ${unit.from ?? (0,message/* own */.ZV)('?')} -> ${input.image}${cold}`);
        }
    });
    for (const unit of input.unchanged)
        lines.push((0,message/* msg */.ab) `unchanged: ${unit.id} already runs ${input.image}`);
    lines.push((0,message/* msg */.ab) `release ${count} lease(s): DELETE /apps/${input.app}/machines/{id}/lease`);
    return lines;
}
function idsOf(units) {
    return (0,message/* joinMessages */.hw)(units.map((u) => u.id), ', ');
}
/**
 * The plan of `strategy: bluegreen` (fly-bluegreen.ts): green machines beside the blue ones, traffic
 * moved only once every green is started and healthy, then blue destroyed.
 */
function describeBlueGreen(input) {
    if (input.blue.length === 0)
        return [(0,message/* msg */.ab) `fly app ${input.app}: every machine already runs ${input.image}; nothing to change`];
    const n = (0,message/* own */.ZV)(input.blue.length);
    const lines = [
        (0,message/* msg */.ab) `fly app ${input.app}: ${n} machine(s) to ${input.image}, bluegreen`,
        (0,message/* msg */.ab) `lease the ${n} blue machine(s) until the end: POST /apps/${input.app}/machines/{id}/lease`,
        ...input.blue.map((u) => (0,message/* msg */.ab) `create a green machine beside ${u.id}${u.where ? (0,message/* msg */.ab) ` in ${u.where}` : ''} (same config, new image, skip_service_registration${u.notStarted ? (0,message/* msg */.ab) `, not launched: blue is ${u.notStarted}` : ''}): POST /apps/${input.app}/machines`),
        (0,message/* msg */.ab) `wait until every launched green machine is started and passes every check its config defines`,
        (0,message/* msg */.ab) `move traffic: uncordon every green machine, then cordon every blue one`,
        (0,message/* msg */.ab) `destroy the ${n} blue machine(s): DELETE /apps/${input.app}/machines/{id}?force=true`,
        (0,message/* msg */.ab) `on any failure before traffic moved: destroy the green machines, blue untouched`,
    ];
    if (input.unchanged.length > 0)
        lines.push((0,message/* msg */.ab) `${(0,message/* own */.ZV)(input.unchanged.length)} machine(s) already run ${input.image}: left alone`);
    return lines;
}

;// CONCATENATED MODULE: ./src/deploy/fly.ts











function createFlyTarget(settings, deps) {
    const sleep = deps.sleep ?? http/* abortableSleep */.Mf;
    // Polls of one machine start 250 ms apart, under Fly's documented Get Machine rate of 5 a
    // second (providers/fly/rate-limit.ts), and slow down from there.
    const poll = deps.checkPollMs ?? { min: 250, max: 2000 };
    const ttl = deps.leaseTtlSeconds ?? 120;
    let observed;
    const observeMachines = () => {
        // The group is matched here, not by the list's metadata filter, so machines that still carry
        // the older `process_group` key are found too.
        observed ??= deps.machines
            .list()
            .then((list) => selectMachines(list, settings.processGroup).deploy)
            .catch((error) => {
            throw new core_errors/* StepError */.zg('fly.observe', (0,message/* msg */.ab) `list the machines of Fly app ${settings.app}`, error);
        });
        return observed;
    };
    async function observe() {
        const machines = await observeMachines();
        return { previousImage: machines[0]?.config?.image, url: `https://${settings.app}.fly.dev` };
    }
    async function run(request) {
        const image = request.image;
        if (!image)
            throw new core_errors/* StepError */.zg('fly.plan', (0,message/* msg */.ab) `deploy to Fly app ${settings.app}`, new Error('no image to deploy'));
        const machines = await observeMachines();
        if (machines.length === 0) {
            const group = settings.processGroup ? (0,message/* msg */.ab) ` in process group ${settings.processGroup}` : '';
            throw new core_errors/* StepError */.zg('fly.observe', (0,message/* msg */.ab) `deploy to Fly app ${settings.app}`, new message/* ComposedError */.vf((0,message/* msg */.ab) `no machines${group} to deploy to`));
        }
        const toChange = rolloutOrder(machines.filter((m) => !runsImage(m, image)), settings.strategy);
        const unchanged = machines.filter((m) => runsImage(m, image));
        const batches = splitBatches(toChange, batchSizes(toChange.length, settings.strategy, settings.maxUnavailable));
        const planned = (m) => ({
            id: m.id,
            where: m.region,
            from: m.config?.image,
            ...(launchesOnUpdate(m.state) ? {} : { notStarted: m.state }),
        });
        const plan = settings.strategy === 'bluegreen'
            ? describeBlueGreen({
                app: settings.app,
                image,
                blue: toChange.map(planned),
                unchanged: unchanged.map(planned),
            })
            : describeFlyRollout({
                app: settings.app,
                image,
                strategy: settings.strategy,
                batches: batches.map((b) => b.map(planned)),
                unchanged: unchanged.map(planned),
                healthWait: settings.strategy !== 'immediate',
            });
        const base = {
            previousImage: machines[0]?.config?.image,
            url: `https://${settings.app}.fly.dev`,
            plan,
        };
        const unchangedUnits = unchanged.map((m) => ({
            id: m.id,
            where: m.region,
            previousImage: m.config?.image,
            newImage: image,
            outcome: 'unchanged',
            health: 'skipped',
            batch: 0,
            startedMs: 0,
            endedMs: 0,
        }));
        if (request.dryRun) {
            const units = batches.flatMap((batch, i) => batch.map((m) => ({
                id: m.id,
                where: m.region,
                previousImage: m.config?.image,
                newImage: image,
                outcome: 'planned',
                batch: i + 1,
                startedMs: 0,
                endedMs: 0,
            })));
            return { ...base, status: 'success', units: [...units, ...unchangedUnits] };
        }
        if (toChange.length === 0)
            return { ...base, status: 'success', units: unchangedUnits };
        const t0 = performance.now();
        const since = () => performance.now() - t0;
        if (settings.strategy === 'bluegreen') {
            const lifecycle = deps.lifecycle;
            if (!lifecycle)
                throw new core_errors/* StepError */.zg('fly.plan', (0,message/* msg */.ab) `app ${settings.app}`, new Error('bluegreen needs the machine lifecycle calls'));
            const result = await runBlueGreen(toChange, image, request, {
                lifecycle,
                read: (id) => deps.updates.get(id),
                acquire: async (blue) => {
                    deps.onLeases?.({
                        app: settings.app,
                        description: leaseDescription(request),
                        machines: blue.map((m) => m.id),
                    });
                    return acquireLeases(blue, request);
                },
                release: async (leases) => {
                    await releaseLeases(leases, request);
                    if (leases.size === 0)
                        deps.onLeases?.(undefined);
                },
                waitSettled,
                waitHealthy,
                ...(deps.onGreen
                    ? {
                        onGreen: (ids) => deps.onGreen?.({ app: settings.app, machines: ids, blue: toChange.map((m) => m.id) }),
                    }
                    : {}),
                minSecretsVersion: settings.minSecretsVersion,
                since,
            }, processGroupOf);
            return { ...base, ...result, units: [...result.units, ...unchangedUnits] };
        }
        deps.onLeases?.({
            app: settings.app,
            description: leaseDescription(request),
            machines: toChange.map((m) => m.id),
        });
        const leases = await acquireLeases(toChange, request);
        // Under our leases nobody else changes these machines: every full config is read once, all
        // at once, and each machine's update waits only for its own read.
        const configs = new Map(toChange.map((m) => {
            const read = deps.updates.get(m.id).catch((error) => {
                throw new core_errors/* StepError */.zg('fly.read', (0,message/* msg */.ab) `read the config of machine ${m.id}`, error);
            });
            read.catch(() => undefined);
            return [m.id, read];
        }));
        const refresher = setInterval(() => {
            for (const [id, lease] of leases) {
                deps.leases.refresh(lease, ttl).then((fresh) => leases.set(id, fresh), (error) => request.log((0,message/* msg */.ab) `warning: could not refresh the lease of ${id}: ${error}`));
            }
        }, Math.max(1000, (ttl * 1000) / 3));
        refresher.unref();
        const progress = new core_progress/* Progress */.k(toChange.length, request.log);
        const changed = [];
        const units = [];
        let failure;
        try {
            for (const [index, batch] of batches.entries()) {
                if (failure || request.signal?.aborted) {
                    for (const m of batch)
                        units.push(skippedUnit(m, image, index + 1, since()));
                    continue;
                }
                const results = await (0,fanout/* mapConcurrent */._)(batch, async (machine) => {
                    const unit = await rollOne(machine, configs.get(machine.id), image, index + 1, request, leases, since, changed);
                    progress.done({
                        id: unit.id,
                        where: unit.where,
                        outcome: unit.outcome,
                        status: unit.health,
                        ms: unit.endedMs - unit.startedMs,
                        note: (0,message/* lineText */.oZ)(unit.error ?? unit.note),
                    });
                    return unit;
                }, { concurrency: batch.length });
                units.push(...results);
                const failed = results.filter((u) => u.outcome === 'failed');
                if (failed.length > 0)
                    failure = (0,message/* joinMessages */.hw)(failed.map((u) => (0,message/* msg */.ab) `${u.id}: ${u.error}`), '; ');
            }
            const cancelled = request.signal?.aborted === true;
            if (cancelled) {
                // Only what was already changed is touched: the rollback is sent, not waited for, and
                // the leases are released, all within the runner's grace before SIGTERM.
                if (request.autoRollback && changed.length > 0)
                    request.log((0,message/* msg */.ab) `Cancelled: sending ${changed.length} changed machine(s) back to their previous image, not waiting for them`);
                else
                    request.log((0,message/* msg */.ab) `Cancelled: ${changed.length} machine(s) were changed; no further machine is started`);
            }
            if ((failure || cancelled) && request.autoRollback && changed.length > 0) {
                if (!cancelled)
                    request.log((0,message/* msg */.ab) `Rolling back ${changed.length} changed machine(s) to their previous image`);
                await (0,fanout/* mapConcurrent */._)(changed, (c) => restore(c, request, leases, since), {
                    concurrency: changed.length,
                });
                const restored = changed.filter((c) => c.unit.outcome === 'rolled-back').length;
                return {
                    ...base,
                    status: restored === changed.length ? 'rolled-back' : 'failed',
                    units: [...units, ...unchangedUnits],
                    error: cancelled ? (0,message/* own */.ZV)('cancelled') : failure,
                    ...(cancelled ? { cancelled: { changed: changed.length, restored } } : {}),
                };
            }
            if (cancelled)
                return {
                    ...base,
                    status: 'failed',
                    units: [...units, ...unchangedUnits],
                    error: (0,message/* own */.ZV)('cancelled'),
                    cancelled: { changed: changed.length, restored: 0 },
                };
        }
        finally {
            clearInterval(refresher);
            await releaseLeases(leases, request);
            if (leases.size === 0)
                deps.onLeases?.(undefined);
        }
        return failure
            ? { ...base, status: 'failed', units: [...units, ...unchangedUnits], error: failure }
            : { ...base, status: 'success', units: [...units, ...unchangedUnits] };
    }
    async function acquireLeases(machines, request) {
        const held = new Map();
        const errors = [];
        await (0,fanout/* mapConcurrent */._)(machines, async (m) => {
            try {
                held.set(m.id, await deps.leases.acquire(m.id, {
                    ttlSeconds: ttl,
                    description: leaseDescription(request),
                }));
            }
            catch (error) {
                errors.push((0,message/* msg */.ab) `${m.id}: ${error}`);
            }
        }, { concurrency: 32 });
        if (errors.length > 0) {
            await releaseLeases(held, request);
            if (held.size === 0)
                deps.onLeases?.(undefined);
            throw new core_errors/* StepError */.zg('fly.lease', (0,message/* msg */.ab) `take the leases on the machines of Fly app ${settings.app}`, new message/* ComposedError */.vf((0,message/* joinMessages */.hw)(errors, '; ')));
        }
        return held;
    }
    async function releaseLeases(leases, request) {
        await (0,fanout/* mapConcurrent */._)([...leases.values()], async (lease) => {
            try {
                await deps.leases.release(lease, request.cleanupSignal);
                leases.delete(lease.machineId);
            }
            catch (error) {
                request.log((0,message/* msg */.ab) `warning: could not release the lease of ${lease.machineId} (it expires on its own): ${error}`);
            }
        }, { concurrency: 32 });
    }
    async function rollOne(listed, read, image, batch, request, leases, since, changed) {
        const startedMs = since();
        const machine = listed;
        const unit = {
            id: machine.id,
            where: machine.region,
            previousImage: machine.config?.image,
            newImage: image,
            outcome: 'updated',
            batch,
            startedMs,
            endedMs: startedMs,
        };
        const deadline = performance.now() + request.healthTimeoutMs;
        let previousImage;
        try {
            const current = await read;
            previousImage = String(current.config?.image ?? machine.config?.image ?? '');
            unit.previousImage = previousImage;
            const nonce = leases.get(machine.id).nonce;
            // Running (or meant to run) when listed or now: the new version is launched, as flyctl does.
            const launch = launchesOnUpdate(machine.state) || launchesOnUpdate(current.state);
            // A machine on its way to stopped or suspended cannot be launched by the update: it gets
            // the config without launching and is started under our lease once the transition is over.
            const startAfter = launch && TRANSITIONAL_STATES.has(current.state);
            const updated = await deps.updates
                .update(machine.id, {
                ...updateBody(current, image, {
                    launch: launch && !startAfter,
                    minSecretsVersion: settings.minSecretsVersion,
                }),
                nonce,
            })
                .catch(async (error) => {
                if (previousImage !== undefined && outcomeUnknown(error))
                    await noteUnansweredUpdate(machine, image, previousImage, unit, changed, request);
                throw error;
            });
            changed.push({ machine, previousImage, unit });
            if (!launch) {
                unit.health = 'skipped';
                unit.note = (0,message/* msg */.ab) `was ${current.state}: updated without starting, not health-checked`;
            }
            else if (settings.strategy === 'immediate') {
                unit.health = 'skipped';
                if (startAfter)
                    await startUnderLease(machine.id, nonce, deadline, request.signal);
            }
            else {
                const version = versionOf(updated);
                if (startAfter)
                    await startUnderLease(machine.id, nonce, deadline, request.signal);
                await waitRunning(machine.id, version, nonce, deadline, request.signal);
                await waitHealthy(machine.id, deadline, request.signal);
                unit.health = 'passing';
            }
        }
        catch (error) {
            unit.outcome = 'failed';
            unit.health = error instanceof HealthTimeout ? 'failing' : unit.health;
            unit.error = request.signal?.aborted ? (0,message/* own */.ZV)('cancelled before it was healthy') : (0,message/* composedOf */.s5)(error);
        }
        unit.endedMs = since();
        return unit;
    }
    /**
     * An update whose answer never came (timeout, dropped connection, 5xx) may have been applied:
     * the machine is read again, and if it runs the new image it counts as changed, so an
     * auto-rollback puts it back too instead of leaving it half-deployed.
     */
    async function noteUnansweredUpdate(machine, image, previousImage, unit, changed, request) {
        try {
            const now = await deps.updates.get(machine.id);
            if (now.config?.image !== image)
                return;
            changed.push({ machine, previousImage, unit });
            request.log((0,message/* msg */.ab) `${machine.id}: the update's answer was lost, but the machine runs the new image`);
        }
        catch (error) {
            request.log((0,message/* msg */.ab) `warning: could not read ${machine.id} after its update failed: ${error}`);
        }
    }
    /** Sends the previous image back; after a cancellation it does not wait for it to start. */
    async function restore(c, request, leases, since) {
        const started = since();
        const cancelled = request.signal?.aborted === true;
        const signal = cancelled ? request.cleanupSignal : undefined;
        try {
            const current = await deps.updates.get(c.machine.id, signal);
            const nonce = leases.get(c.machine.id).nonce;
            const launch = launchesOnUpdate(c.machine.state) || launchesOnUpdate(current.state);
            const updated = await deps.updates.update(c.machine.id, {
                ...updateBody(current, c.previousImage, { launch, minSecretsVersion: settings.minSecretsVersion }),
                nonce,
                ...(signal ? { signal } : {}),
            });
            if (!cancelled && launch) {
                await waitRunning(c.machine.id, versionOf(updated), nonce, performance.now() + request.healthTimeoutMs, request.signal);
            }
            c.unit.outcome = 'rolled-back';
            c.unit.newImage = c.previousImage;
            request.log((0,message/* msg */.ab) `${c.machine.id} ${cancelled ? (0,message/* own */.ZV)('sent back') : (0,message/* own */.ZV)('rolled back')} to ${c.previousImage} in ${(0,summary/* formatMs */._V)(since() - started)}`);
        }
        catch (error) {
            c.unit.outcome = 'failed';
            c.unit.error = (0,message/* msg */.ab) `${c.unit.error ? (0,message/* msg */.ab) `${c.unit.error}; ` : ''}rollback failed: ${error}`;
            request.log((0,message/* msg */.ab) `${c.machine.id} could not be rolled back: ${error}`);
        }
        c.unit.endedMs = since();
    }
    /**
     * POST /start under our lease. 412 means the machine is in a state it cannot start from (a
     * transition such as stopping): asked again until the deadline, then reported with the
     * platform's reason.
     */
    async function startUnderLease(id, nonce, deadline, signal) {
        let delay = poll.min;
        for (;;) {
            const answer = await deps.updates.start(id, nonce);
            if (answer.refused === undefined)
                return;
            const left = deadline - performance.now();
            if (left <= 0)
                throw new HealthTimeout(`could not be started within the health timeout: the Machines API kept refusing the start with 412 (${answer.refused})`);
            await sleep(Math.min(delay, left), signal);
            delay = Math.min(poll.max, Math.round(delay * 1.5));
        }
    }
    /**
     * Waits until the new version settles (flyctl internal/machine/update.go waits for `settled`
     * and fails on `failed`). A version that settles stopped or suspended is started under our
     * lease, then waited for again; `replaced` means someone else changed the machine meanwhile.
     */
    async function waitRunning(id, version, nonce, deadline, signal) {
        let startedOnce = false;
        for (;;) {
            const state = await waitSettled(id, version, deadline, signal);
            if (state === 'started')
                return;
            if (state === 'failed')
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `version ${version} failed to start (machine state failed)`);
            if (state === 'replaced' || state === 'destroyed')
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `version ${version} was ${state} by another change while this deploy held the lease`);
            if (startedOnce)
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `version ${version} stopped again after it was started (machine state ${state})`);
            startedOnce = true;
            await startUnderLease(id, nonce, deadline, signal);
        }
    }
    /**
     * Waits until version `version` of `id` settles (flyctl internal/machine/update.go waits for
     * `settled`) and returns where: started, stopped, suspended, failed, or replaced/destroyed when
     * another change overtook it. Any other answer is not settled yet and is asked again; at the
     * deadline it throws, naming the state the machine is in.
     */
    async function waitSettled(id, version, deadline, signal) {
        for (;;) {
            const left = deadline - performance.now();
            if (left <= 0) {
                const now = await deps.updates.get(id).catch(() => undefined);
                throw new HealthTimeout(`version ${version} of ${id} did not start within the health timeout${now ? ` (machine is ${now.state})` : ''}`);
            }
            const answer = await deps.updates.waitFor(id, {
                version,
                state: 'settled',
                timeoutSeconds: left / 1000,
                ...(signal ? { signal } : {}),
            });
            if (!answer.reached)
                continue;
            const state = answer.state ?? (await deps.updates.get(id)).state;
            if (SETTLED.has(state))
                return state;
            await sleep(Math.min(poll.min, Math.max(0, deadline - performance.now())), signal);
        }
    }
    async function waitHealthy(id, deadline, signal) {
        let delay = poll.min;
        for (;;) {
            const verdict = healthOf(await deps.updates.get(id));
            if (verdict.healthy)
                return verdict.summary;
            const left = deadline - performance.now();
            if (left <= 0)
                throw new HealthTimeout(`checks not passing within the health timeout: ${verdict.summary}`);
            await sleep(Math.min(delay, left), signal);
            delay = Math.min(poll.max, Math.round(delay * 1.5));
        }
    }
    return { observe, run };
}
class HealthTimeout extends Error {
}
/** Where a version ends up (fly.io/docs/machines/machine-states); `replaced`/`destroyed`: overtaken. */
const SETTLED = new Set(['started', 'stopped', 'suspended', 'failed', 'replaced', 'destroyed']);
/** The version an update created: `version`, or the deprecated `instance_id` it equals. */
function versionOf(machine) {
    return machine.version ?? machine.instance_id;
}
/** No answer, or a server error: the request may or may not have been carried out. */
function outcomeUnknown(error) {
    return error instanceof core_errors/* ApiError */.hD && (error.status === undefined || error.status >= 500);
}
/**
 * What our leases say: the workflow run (the same in every attempt), so a lease whose answer was
 * lost — in this attempt, or in an earlier one of the run that failed — is adopted, not waited out.
 */
function leaseDescription(request) {
    return `ops-actions deploy ${request.runLabel ?? request.deployId}`;
}
function skippedUnit(m, image, batch, at) {
    return {
        id: m.id,
        where: m.region,
        previousImage: m.config?.image,
        newImage: image,
        outcome: 'skipped',
        batch,
        startedMs: at,
        endedMs: at,
    };
}

;// CONCATENATED MODULE: ./src/deploy/fly-green-state.ts


/**
 * The green machines of a blue-green deploy that traffic has not moved to yet, and the blue
 * machines they are to replace, saved as step state each time the green list changes (a green
 * created, destroyed or uncordoned). A step killed before it could destroy them (SIGKILL, or the
 * runner's SIGTERM after a cancellation) leaves them running, cordoned, billed: the post step
 * (`post-if: always()`) destroys them. A green that was uncordoned is taken off the list first,
 * but a kill between the uncordon and the state write leaves a listed green that may serve, so
 * the post step reads every listed green and blue first ({@link destroyLeftoverGreen}).
 */
const FLY_GREEN_STATE = 'fly-green';
function serializeGreen(state) {
    return state.machines.length > 0 ? JSON.stringify(state) : '';
}
const ids = (v) => Array.isArray(v) ? v.filter((m) => typeof m === 'string') : undefined;
/** Undefined for an empty or unreadable state value. */
function parseGreen(raw) {
    if (!raw.trim())
        return undefined;
    try {
        const v = JSON.parse(raw);
        const machines = ids(v.machines);
        if (typeof v.app !== 'string' || !machines)
            return undefined;
        const blue = ids(v.blue);
        return { app: v.app, machines, ...(blue ? { blue } : {}) };
    }
    catch {
        return undefined;
    }
}
/** The machine, or undefined when it is gone (404); other errors are thrown. */
async function readMachine(api, id) {
    try {
        const m = await api.get(id);
        return m.state === 'destroyed' ? undefined : m;
    }
    catch (error) {
        if (error instanceof ApiError && error.status === 404)
            return undefined;
        throw error;
    }
}
/**
 * Destroys (force) the listed green machines that no traffic depends on. Each listed green and
 * blue machine is read first: `cordoned` (contracts/fly `Machine.cordoned`; Machines_cordon: the
 * proxy routes nothing to a cordoned machine) tells which may serve. A cordoned green is
 * destroyed. An uncordoned green is cordoned, then destroyed, only while at least one blue
 * machine exists uncordoned; otherwise it is kept, so the only machines that may serve are never
 * destroyed. A green that cannot be read is kept. A 404 means it is gone already.
 */
async function destroyLeftoverGreen(machines, state, signal) {
    const opts = signal ? { signal } : {};
    const blueServing = (await Promise.all((state.blue ?? []).map((id) => readMachine(machines, id).then((m) => (m && m.cordoned !== true ? id : undefined), () => undefined)))).filter((id) => id !== undefined);
    return Promise.all(state.machines.map(async (machine) => {
        try {
            const green = await readMachine(machines, machine);
            if (!green)
                return { machine, result: 'already gone' };
            const serving = green.cordoned !== true;
            if (serving && blueServing.length === 0) {
                return {
                    machine,
                    result: 'kept',
                    detail: msg `it is uncordoned and ${own(state.blue ? 'every blue machine is cordoned or gone' : 'no blue machine is known')}, so it may be all that serves`,
                };
            }
            if (serving)
                await machines.cordon(machine, undefined, signal);
            await machines.destroy(machine, { force: true, ...opts });
            return {
                machine,
                result: 'destroyed',
                ...(serving ? { detail: msg `cordoned first; blue ${joinMessages(blueServing, ', ')} serves` } : {}),
            };
        }
        catch (error) {
            if (error instanceof ApiError && error.status === 404)
                return { machine, result: 'already gone' };
            return { machine, result: 'failed', detail: composedOf(error) };
        }
    }));
}

;// CONCATENATED MODULE: ./src/deploy/fly-lease-state.ts

/**
 * The Fly leases a deploy is about to take, saved as step state before the
 * first one is asked for. A lease's nonce is only known once it is granted,
 * so the post step finds each lease again with GET .../lease (as flyctl's
 * `machine leases clear` does) and releases it only when its description is
 * this run's — a lease somebody else took since is never touched.
 */
const FLY_LEASES_STATE = 'fly-leases';
function serializeLeaseIntent(intent) {
    return intent ? JSON.stringify(intent) : '';
}
/** Undefined for an empty or unreadable state value. */
function parseLeaseIntent(raw) {
    if (!raw.trim())
        return undefined;
    try {
        const v = JSON.parse(raw);
        if (typeof v.app !== 'string' || typeof v.description !== 'string' || !Array.isArray(v.machines))
            return undefined;
        const machines = v.machines.filter((m) => typeof m === 'string');
        return { app: v.app, description: v.description, machines };
    }
    catch {
        return undefined;
    }
}
/** Releases every lease of `intent` that a machine still holds under our description. */
async function releaseLeftoverLeases(leases, intent, signal) {
    return Promise.all(intent.machines.map(async (machine) => {
        try {
            const held = await leases.current(machine, signal);
            if (!held?.nonce)
                return { machine, result: 'not held' };
            if (held.description !== intent.description)
                return { machine, result: 'held by another', detail: held.description ?? '' };
            await leases.release({ machineId: machine, nonce: held.nonce, expiresAt: held.expiresAt }, signal);
            return { machine, result: 'released' };
        }
        catch (error) {
            return { machine, result: 'failed', detail: composedOf(error) };
        }
    }));
}

// EXTERNAL MODULE: ./src/deploy/rate-limit-waits.ts
var rate_limit_waits = __webpack_require__(7680);
;// CONCATENATED MODULE: ./src/deploy/connect-fly.ts







/** The fly target on the real Machines API; main.ts loads this only for `target: fly`. */
function connectFly(settings, deploy, ctx, 
/** Epoch ms of the step's start: rate-limit waits end by it + health-timeout. */
startedAt) {
    const redact = (text) => ctx.secrets.redact(text);
    const http = createFlyClient({
        baseUrl: settings.apiUrl,
        token: settings.apiToken,
        redact,
        ...(0,rate_limit_waits/* rateLimitWaits */.Q)(deploy, ctx, startedAt),
    });
    const machines = new FlyMachines(http, settings.app);
    return createFlyTarget(settings, {
        machines,
        updates: machines,
        leases: new FlyLeases(http, settings.app),
        lifecycle: machines,
        onLeases: (intent) => ctx.saveState(FLY_LEASES_STATE, serializeLeaseIntent(intent)),
        onGreen: (state) => ctx.saveState(FLY_GREEN_STATE, serializeGreen(state)),
    });
}


/***/ })

};
