export const id = 82;
export const ids = [82];
export const modules = {

/***/ 9880:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   _: () => (/* binding */ mapConcurrent)
/* harmony export */ });
/* harmony import */ var p_map__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(606);

/**
 * Every fan-out in the suite: at most `concurrency` tasks in flight, results in
 * input order. Tasks report their own failures as data; an `AbortSignal` stops
 * starting new tasks (the caller marks unstarted ones itself).
 */
function mapConcurrent(items, task, options) {
    return (0,p_map__WEBPACK_IMPORTED_MODULE_0__/* ["default"] */ .Ay)(items, task, { concurrency: Math.max(1, options.concurrency), signal: options.signal });
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

/***/ 7082:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  connectFly: () => (/* binding */ connectFly)
});

// EXTERNAL MODULE: ./src/core/http.ts + 1 modules
var http = __webpack_require__(8288);
;// CONCATENATED MODULE: ./src/providers/fly/client.ts

/**
 * The one sender every Fly Machines resource client shares: base URL, token and
 * the core retry policy. Resource clients (machines.ts, and later leases or
 * updates) take the `HttpClient` this returns, so each stays a thin file.
 */
const FLY_API_URL = 'https://api.machines.dev/v1';
/** Tokens from `fly tokens create` start with `FlyV1 ` and are sent as they are; others are bearer tokens. */
function flyAuthorization(token) {
    const trimmed = token.trim();
    return /^FlyV1\s/.test(trimmed) ? trimmed : `Bearer ${trimmed}`;
}
function createFlyClient(options) {
    return new http/* HttpClient */.Qq({
        provider: 'Fly Machines',
        baseUrl: options.baseUrl ?? FLY_API_URL,
        headers: { authorization: flyAuthorization(options.token), accept: 'application/json' },
        redact: options.redact,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.retry ? { retry: options.retry } : {}),
        ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });
}

// EXTERNAL MODULE: ./src/core/errors.ts
var core_errors = __webpack_require__(4296);
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
        throw new Error(`Fly Machines answered a lease for machine ${machineId} without a nonce`);
    return { machineId, nonce, expiresAt: f.expires_at };
}

;// CONCATENATED MODULE: ./src/providers/fly/machine-update.ts


class FlyMachineUpdates {
    http;
    app;
    constructor(http, app) {
        this.http = http;
        this.app = app;
    }
    path(id, suffix = '') {
        return `/apps/${encodeURIComponent(this.app)}/machines/${encodeURIComponent(id)}${suffix}`;
    }
    async get(id, signal) {
        const res = await this.http.request({
            operation: 'Machines_show',
            path: this.path(id),
            ...(signal ? { signal } : {}),
        });
        return res.data;
    }
    /** Not retried: the update may have been applied, and a second one restarts the machine again. */
    async update(id, input) {
        const res = await this.http.request({
            operation: 'Machines_update',
            method: 'POST',
            path: this.path(id),
            headers: { [LEASE_NONCE_HEADER]: input.nonce },
            json: { config: input.config, ...(input.skipLaunch ? { skip_launch: true } : {}) },
            ...(input.signal ? { signal: input.signal } : {}),
        });
        return res.data;
    }
    async waitFor(id, input) {
        const seconds = Math.min(60, Math.max(1, Math.ceil(input.timeoutSeconds)));
        const res = await this.http.request({
            operation: 'Machines_wait',
            path: this.path(id, '/wait'),
            query: { instance_id: input.instanceId, state: input.state, timeout: seconds },
            // 408 is the API saying "not yet": the caller decides whether to ask again.
            acceptStatus: [408],
            timeoutMs: seconds * 1000 + 10_000,
            ...(input.signal ? { signal: input.signal } : {}),
        });
        if (res.status === 408)
            return false;
        const state = res.data?.state;
        if (state && state !== input.state) {
            throw new core_errors/* ApiError */.hD({
                provider: 'Fly Machines',
                operation: 'Machines_wait',
                status: res.status,
                retryable: false,
                attempts: res.attempts,
                hint: `machine ${id} reached ${state} instead of ${input.state}`,
            });
        }
        return true;
    }
}

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
        if (!Array.isArray(res.data)) {
            throw new Error(`Fly Machines Machines_list for app ${this.app} did not answer with a JSON array`);
        }
        return res.data;
    }
    async get(id) {
        const res = await this.call(`machine ${id}`, () => this.http.request({ operation: 'Machines_show', path: this.path(`/${enc(id)}`) }));
        return res.data;
    }
    /** Starting a machine that is already starting or started changes nothing, so a retried start is harmless. */
    async start(id) {
        const res = await this.call(`machine ${id}`, () => this.http.request({
            operation: 'Machines_start',
            method: 'POST',
            path: this.path(`/${enc(id)}/start`),
            retrySafe: true,
        }));
        return { previousState: res.data?.previous_state };
    }
    /** Blocks server-side until the machine reaches `state`; the HTTP timeout leaves room beyond the API's own. */
    async wait(id, options) {
        const seconds = Math.min(60, Math.max(1, Math.ceil(options.timeoutSeconds ?? 60)));
        const res = await this.call(`machine ${id}`, () => this.http.request({
            operation: 'Machines_wait',
            path: this.path(`/${enc(id)}/wait`),
            query: { state: options.state, timeout: seconds, instance_id: options.instanceId },
            timeoutMs: seconds * 1000 + 10_000,
        }));
        return { state: res.data?.state ?? options.state };
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
        ? `check that the Fly API token may manage app ${app}`
        : error.status === 404
            ? `check that ${resource} exists`
            : undefined;
    if (!hint)
        return error;
    return new core_errors/* ApiError */.hD({
        provider: error.provider,
        operation: error.operation,
        status: error.status,
        requestId: error.requestId,
        body: error.body,
        providerMessage: error.providerMessage,
        retryable: error.retryable,
        attempts: error.attempts,
        hint,
        cause: error.cause,
    });
}

// EXTERNAL MODULE: ./src/core/fanout.ts
var fanout = __webpack_require__(9880);
// EXTERNAL MODULE: ./src/core/progress.ts
var core_progress = __webpack_require__(4664);
// EXTERNAL MODULE: ./src/core/summary.ts
var summary = __webpack_require__(1363);
;// CONCATENATED MODULE: ./src/deploy/plan.ts
/** Units changed at once after the first: a fraction of all units rounded up, or a count; at least 1. */
function batchWidth(total, maxUnavailable) {
    const width = 'count' in maxUnavailable ? maxUnavailable.count : Math.ceil(total * maxUnavailable.fraction - 1e-9);
    return Math.max(1, Math.min(total, width));
}
function batchSizes(total, strategy, maxUnavailable) {
    if (total <= 0)
        return [];
    if (strategy === 'immediate')
        return [total];
    if (strategy === 'canary')
        return total === 1 ? [1] : [1, total - 1];
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
/** The plan a dry run prints and a real run records: one line per request that changes something. */
function describeFlyRollout(input) {
    const lines = [];
    const all = input.batches.flat();
    if (all.length === 0) {
        lines.push(`fly app ${input.app}: every machine already runs ${input.image}; nothing to change`);
        return lines;
    }
    lines.push(`fly app ${input.app}: ${all.length} machine(s) to ${input.image}, ${input.strategy}, ${input.batches.length} batch(es)`);
    lines.push(`lease ${all.length} machine(s): POST /apps/${input.app}/machines/{id}/lease`);
    input.batches.forEach((batch, i) => {
        const wait = input.healthWait ? ', wait for started and passing checks' : ', no health wait';
        lines.push(`batch ${i + 1}: update ${batch.map((u) => u.id).join(', ')}${wait}`);
        for (const unit of batch) {
            const where = unit.where ? ` (${unit.where})` : '';
            lines.push(`  POST /apps/${input.app}/machines/${unit.id}${where}: config.image ${unit.from ?? '?'} -> ${input.image}`);
        }
    });
    for (const unit of input.unchanged)
        lines.push(`unchanged: ${unit.id} already runs ${input.image}`);
    lines.push(`release ${all.length} lease(s): DELETE /apps/${input.app}/machines/{id}/lease`);
    return lines;
}

;// CONCATENATED MODULE: ./src/deploy/fly.ts






const GONE = new Set(['destroyed', 'destroying', 'failed', 'replacing-failed']);
const NOT_RUNNING = new Set(['stopped', 'suspended', 'created']);
function createFlyTarget(settings, deps) {
    const sleep = deps.sleep ?? http/* abortableSleep */.Mf;
    const poll = deps.checkPollMs ?? { min: 250, max: 2000 };
    const ttl = deps.leaseTtlSeconds ?? 120;
    let observed;
    const observeMachines = () => {
        observed ??= deps.machines
            .list(settings.processGroup ? { metadata: { fly_process_group: settings.processGroup } } : {})
            .then((list) => list.filter((m) => !GONE.has(m.state)))
            .catch((error) => {
            throw new core_errors/* StepError */.zg('fly.observe', `app ${settings.app}`, error);
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
            throw new core_errors/* StepError */.zg('fly.plan', `app ${settings.app}`, new Error('no image to deploy'));
        const machines = await observeMachines();
        if (machines.length === 0) {
            const group = settings.processGroup ? ` in process group ${settings.processGroup}` : '';
            throw new core_errors/* StepError */.zg('fly.observe', `app ${settings.app}`, new Error(`no machines${group} to deploy to`));
        }
        const toChange = machines.filter((m) => m.config?.image !== image);
        const unchanged = machines.filter((m) => m.config?.image === image);
        const batches = splitBatches(toChange, batchSizes(toChange.length, settings.strategy, settings.maxUnavailable));
        const planned = (m) => ({ id: m.id, where: m.region, from: m.config?.image });
        const plan = describeFlyRollout({
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
                throw new core_errors/* StepError */.zg('fly.read', `machine ${m.id}`, error);
            });
            read.catch(() => undefined);
            return [m.id, read];
        }));
        const refresher = setInterval(() => {
            for (const [id, lease] of leases) {
                deps.leases.refresh(lease, ttl).then((fresh) => leases.set(id, fresh), (error) => request.log(`warning: could not refresh the lease of ${id}: ${(0,core_errors/* messageOf */.bD)(error)}`));
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
                        note: unit.error,
                    });
                    return unit;
                }, { concurrency: batch.length });
                units.push(...results);
                const failed = results.filter((u) => u.outcome === 'failed');
                if (failed.length > 0)
                    failure = failed.map((u) => `${u.id}: ${u.error}`).join('; ');
            }
            const cancelled = request.signal?.aborted === true;
            if (cancelled) {
                // Only what was already changed is touched: the rollback is sent, not waited for, and
                // the leases are released, all within the runner's grace before SIGTERM.
                if (request.autoRollback && changed.length > 0)
                    request.log(`Cancelled: sending ${changed.length} changed machine(s) back to their previous image, not waiting for them`);
                else
                    request.log(`Cancelled: ${changed.length} machine(s) were changed; no further machine is started`);
            }
            if ((failure || cancelled) && request.autoRollback && changed.length > 0) {
                if (!cancelled)
                    request.log(`Rolling back ${changed.length} changed machine(s) to their previous image`);
                await (0,fanout/* mapConcurrent */._)(changed, (c) => restore(c, request, leases, since), {
                    concurrency: changed.length,
                });
                const restored = changed.filter((c) => c.unit.outcome === 'rolled-back').length;
                return {
                    ...base,
                    status: restored === changed.length ? 'rolled-back' : 'failed',
                    units: [...units, ...unchangedUnits],
                    error: cancelled ? 'cancelled' : failure,
                    ...(cancelled ? { cancelled: { changed: changed.length, restored } } : {}),
                };
            }
            if (cancelled)
                return {
                    ...base,
                    status: 'failed',
                    units: [...units, ...unchangedUnits],
                    error: 'cancelled',
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
                errors.push(`${m.id}: ${(0,core_errors/* messageOf */.bD)(error)}`);
            }
        }, { concurrency: 32 });
        if (errors.length > 0) {
            await releaseLeases(held, request);
            if (held.size === 0)
                deps.onLeases?.(undefined);
            throw new core_errors/* StepError */.zg('fly.lease', `app ${settings.app}`, new Error(errors.join('; ')));
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
                request.log(`warning: could not release the lease of ${lease.machineId} (it expires on its own): ${(0,core_errors/* messageOf */.bD)(error)}`);
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
            const stopped = NOT_RUNNING.has(current.state);
            const updated = await deps.updates
                .update(machine.id, {
                config: { ...current.config, image },
                nonce,
                skipLaunch: stopped,
            })
                .catch(async (error) => {
                if (previousImage !== undefined && outcomeUnknown(error))
                    await noteUnansweredUpdate(machine, image, previousImage, unit, changed, request);
                throw error;
            });
            changed.push({ machine, previousImage, unit });
            if (settings.strategy === 'immediate' || stopped) {
                unit.health = 'skipped';
                if (stopped)
                    unit.error = `was ${current.state}: updated without starting`;
            }
            else {
                await waitStarted(machine.id, updated.instance_id, deadline, request.signal);
                await waitChecks(machine.id, deadline, request.signal);
                unit.health = 'passing';
            }
        }
        catch (error) {
            unit.outcome = 'failed';
            unit.health = error instanceof HealthTimeout ? 'failing' : unit.health;
            unit.error = request.signal?.aborted ? 'cancelled before it was healthy' : (0,core_errors/* messageOf */.bD)(error);
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
            request.log(`${machine.id}: the update's answer was lost, but the machine runs the new image`);
        }
        catch (error) {
            request.log(`warning: could not read ${machine.id} after its update failed: ${(0,core_errors/* messageOf */.bD)(error)}`);
        }
    }
    /** Sends the previous image back; after a cancellation it does not wait for it to start. */
    async function restore(c, request, leases, since) {
        const started = since();
        const cancelled = request.signal?.aborted === true;
        const signal = cancelled ? request.cleanupSignal : undefined;
        try {
            const current = await deps.updates.get(c.machine.id, signal);
            const updated = await deps.updates.update(c.machine.id, {
                config: { ...current.config, image: c.previousImage },
                nonce: leases.get(c.machine.id).nonce,
                skipLaunch: NOT_RUNNING.has(current.state),
                ...(signal ? { signal } : {}),
            });
            if (!cancelled && !NOT_RUNNING.has(current.state)) {
                await waitStarted(c.machine.id, updated.instance_id, performance.now() + request.healthTimeoutMs, request.signal);
            }
            c.unit.outcome = 'rolled-back';
            c.unit.newImage = c.previousImage;
            request.log(`${c.machine.id} ${cancelled ? 'sent back' : 'rolled back'} to ${c.previousImage} in ${(0,summary/* formatMs */._V)(since() - started)}`);
        }
        catch (error) {
            c.unit.outcome = 'failed';
            c.unit.error = `${c.unit.error ? `${c.unit.error}; ` : ''}rollback failed: ${(0,core_errors/* messageOf */.bD)(error)}`;
            request.log(`${c.machine.id} could not be rolled back: ${(0,core_errors/* messageOf */.bD)(error)}`);
        }
        c.unit.endedMs = since();
    }
    async function waitStarted(id, instanceId, deadline, signal) {
        for (;;) {
            const left = deadline - performance.now();
            if (left <= 0)
                throw new HealthTimeout(`version ${instanceId} did not start within the health timeout`);
            if (await deps.updates.waitFor(id, { instanceId, state: 'started', timeoutSeconds: left / 1000, signal }))
                return;
        }
    }
    async function waitChecks(id, deadline, signal) {
        let delay = poll.min;
        let last;
        for (;;) {
            last = await deps.updates.get(id);
            const checks = last.checks ?? [];
            if (checks.every((c) => c.status === 'passing'))
                return;
            const left = deadline - performance.now();
            if (left <= 0) {
                const bad = checks.filter((c) => c.status !== 'passing');
                throw new HealthTimeout(`checks not passing within the health timeout: ${bad.map((c) => `${c.name}=${c.status}${c.output ? ` (${c.output})` : ''}`).join(', ')}`);
            }
            await sleep(Math.min(delay, left), signal);
            delay = Math.min(poll.max, Math.round(delay * 1.5));
        }
    }
    return { observe, run };
}
class HealthTimeout extends Error {
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
            return { machine, result: 'failed', detail: messageOf(error) };
        }
    }));
}

;// CONCATENATED MODULE: ./src/deploy/connect-fly.ts






/** The fly target on the real Machines API; main.ts loads this only for `target: fly`. */
function connectFly(settings, ctx) {
    const redact = (text) => ctx.secrets.redact(text);
    const http = createFlyClient({ baseUrl: settings.apiUrl, token: settings.apiToken, redact });
    return createFlyTarget(settings, {
        machines: new FlyMachines(http, settings.app),
        updates: new FlyMachineUpdates(http, settings.app),
        leases: new FlyLeases(http, settings.app),
        onLeases: (intent) => ctx.saveState(FLY_LEASES_STATE, serializeLeaseIntent(intent)),
    });
}


/***/ })

};
