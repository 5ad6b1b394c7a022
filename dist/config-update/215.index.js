export const id = 215;
export const ids = [215];
export const modules = {

/***/ 3524:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  l: () => (/* binding */ runConfigUpdate)
});

// EXTERNAL MODULE: ./src/core/cancellation.ts
var cancellation = __webpack_require__(3948);
// EXTERNAL MODULE: ./src/core/message.ts
var core_message = __webpack_require__(3252);
;// CONCATENATED MODULE: ./src/core/progress.ts
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

;// CONCATENATED MODULE: ./src/core/redacted-data.ts

/**
 * Data from outside, redacted field by field before it is rendered into text
 * of ours. A rendered summary or evidence file is our fixed wording (headings,
 * field names, status words) around values from outside (inputs, the checks
 * file, the environment, command output, provider bodies). Redacting the
 * rendered text would also rewrite our wording wherever a short secret the
 * user named occurs in it (`redact: on` turns `Milestone` into
 * `Milest[REDACTED:secret]e`); redacting the data instead leaves the wording
 * as written and still reaches every value, whichever field it is in: every
 * string in `data` (in objects and arrays, at any depth) goes through
 * `redact`; numbers, booleans, dates and absent values are kept.
 *
 * `ours` names the fields whose string values are words of our own (a status,
 * an outcome, a step kind: one of a fixed set the code compares against),
 * kept as they are at any depth: `redact: ss` must not turn a check's status
 * `passed` into `pa[REDACTED:secret]ed`, which would also change what the
 * rendering counts and shows.
 *
 * `ownValues` are values of our own making (a deploy id, the tag made from it)
 * kept whole wherever they occur inside a string (`unless a build of deploy_1a2b
 * is already under way`): the text between them is redacted piece by piece.
 *
 * A `Message` in `data` (an error, a note, a plan line: our words around
 * values, core/message.ts) becomes one of our own words already redacted:
 * its values redacted one by one, `ownValues` inside them kept, our words whole.
 */
function redactedData(data, redactor, ours = [], ownValues = []) {
    const kept = ownValues.filter((v) => v !== '').sort((a, b) => b.length - a.length);
    const pieces = (text, i = 0) => {
        const value = kept[i];
        if (value === undefined)
            return [{ text, ours: false }];
        return text
            .split(value)
            .flatMap((piece, j) => [...(j > 0 ? [{ text: value, ours: true }] : []), ...pieces(piece, i + 1)]);
    };
    const around = (text) => pieces(text)
        .map((p) => (p.ours ? p.text : redactor.redact(p.text)))
        .join('');
    const message = (m) => (0,core_message/* own */.ZV)((0,core_message/* redactMessage */.b6)(new core_message/* Message */.QB(m.segments.flatMap((s) => (s.ours ? [s] : pieces(s.text)))), redactor));
    const walk = (value, key) => {
        if (value instanceof core_message/* Message */.QB)
            return message(value);
        if (typeof value === 'string')
            return key !== undefined && ours.includes(key) ? value : around(value);
        if (Array.isArray(value))
            return value.map((item) => walk(item, undefined));
        if (value === null || typeof value !== 'object' || value instanceof Date)
            return value;
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    };
    return walk(data, undefined);
}

;// CONCATENATED MODULE: ./src/core/stdout-batch.ts
/**
 * Lines written to stdout within one turn of the event loop leave in one write.
 * A fan-out at concurrency 256 finishes many targets per turn; one synchronous
 * pipe write per progress line was a tenth of its CPU time (bench/config-update.ts).
 * The stream is corked at the first line of a turn and uncorked by `setImmediate`,
 * right after the turn's I/O callbacks: lines still reach the runner as targets
 * finish (within a millisecond), in the order they were written, whichever code
 * wrote them.
 */
class StdoutBatch {
    stream;
    corked = false;
    constructor(stream = process.stdout) {
        this.stream = stream;
    }
    /** Call before writing a line: holds this turn's lines until the turn is over. */
    hold() {
        if (this.corked)
            return;
        this.corked = true;
        this.stream.cork();
        setImmediate(() => this.flush());
    }
    /** Writes what is held now (at the end of a fan-out, before anything may exit). */
    flush() {
        if (!this.corked)
            return;
        this.corked = false;
        this.stream.uncork();
    }
}

// EXTERNAL MODULE: ./src/core/undici.ts + 1 modules
var undici = __webpack_require__(1263);
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
var errors = __webpack_require__(1915);
;// CONCATENATED MODULE: ./src/core/provider-list.ts

/**
 * Pure. `field` names where the list sits when the answer is an object
 * (`droplets`, `rrsets`, `artifacts`); without it the answer itself is the list.
 * A missing list is refused like a wrong one: every API read here documents it.
 * `problem` completes "<provider> <operation> failed: …"; it names kinds and
 * fields, never values, so no part of an answer reaches a message.
 */
function checkList(body, field, rules = {}, unique) {
    let list = body;
    let what = 'a list';
    if (field !== undefined) {
        if (!isEntry(body))
            return {
                ok: false,
                problem: `answered ${kindOf(body)} where the API documents an object with a "${field}" list`,
            };
        list = body[field];
        what = `a "${field}" list`;
    }
    if (!Array.isArray(list)) {
        const said = field === undefined ? `answered ${kindOf(list)}` : `answered "${field}" as ${kindOf(list)}`;
        return { ok: false, problem: `${said} where the API documents a list` };
    }
    const bad = [];
    list.forEach((entry, i) => {
        if (!isEntry(entry))
            bad.push(i);
    });
    const first = bad[0];
    if (first !== undefined) {
        const others = bad.length > 1 ? ` (${bad.length} of its entries are not objects)` : '';
        return {
            ok: false,
            problem: `answered ${what} whose entry ${first + 1} of ${list.length} is ${kindOf(list[first])}, not an object${others}`,
        };
    }
    for (let i = 0; i < list.length; i++) {
        const entry = list[i];
        for (const [name, rule] of Object.entries(rules)) {
            if (fits(entry[name], rule))
                continue;
            const has = name in entry ? `has "${name}" as ${kindOf(entry[name])}` : `has no "${name}"`;
            return {
                ok: false,
                problem: `answered ${what} whose entry ${i + 1} of ${list.length} ${has} where the API documents ${documented(rule)}`,
            };
        }
    }
    if (unique !== undefined) {
        const firstAt = new Map();
        for (let i = 0; i < list.length; i++) {
            const key = list[i][unique];
            const first = firstAt.get(key);
            if (first !== undefined)
                return {
                    ok: false,
                    problem: `answered ${what} whose entries ${first + 1} and ${i + 1} of ${list.length} have the same "${unique}"; each must appear once, or one of them would be acted on twice`,
                };
            firstAt.set(key, i);
        }
    }
    return { ok: true, entries: list };
}
/**
 * The entries of a provider's list, typed as the caller documents them.
 * @throws ApiError (not retryable) naming `source.provider` and `source.request`
 *   when `checkList` refuses the answer.
 */
function providerList(body, source) {
    const checked = checkList(body, source.field, source.fields, source.unique);
    if (checked.ok)
        return checked.entries;
    throw new errors/* ApiError */.hD({
        provider: source.provider,
        operation: source.operation,
        request: source.request,
        requestId: source.requestId,
        retryable: false,
        attempts: 1,
        cause: new Error(checked.problem),
    });
}
function fits(value, rule) {
    const optional = rule.endsWith('?');
    if (value === undefined || value === null)
        return optional;
    switch (rule.replace('?', '')) {
        case 'text':
            return typeof value === 'string' && value !== '';
        case 'string':
            return typeof value === 'string';
        case 'number':
            return typeof value === 'number' && Number.isFinite(value);
        case 'boolean':
            return typeof value === 'boolean';
        case 'object':
            return isEntry(value);
        case 'list':
            return Array.isArray(value);
    }
}
const DOCUMENTED = {
    text: 'a non-empty string',
    string: 'a string',
    number: 'a number',
    boolean: 'true or false',
    object: 'an object',
    list: 'a list',
};
function documented(rule) {
    const kind = DOCUMENTED[rule.replace('?', '')];
    return rule.endsWith('?') ? `${kind}, or none` : kind;
}
function isEntry(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function kindOf(value) {
    if (value === undefined)
        return 'nothing';
    if (value === null)
        return 'null';
    if (Array.isArray(value))
        return 'a list';
    if (value === '')
        return 'an empty string';
    return `${/^[aeiou]/.test(typeof value) ? 'an' : 'a'} ${typeof value}`;
}

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
                throw new ApiError({
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
        throw new ComposedError(msg `Fly Machines answered a lease for machine ${machineId} without a nonce`);
    return { machineId, nonce, expiresAt: f.expires_at };
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
        return providerList(res.data, {
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
    if (!(error instanceof errors/* ApiError */.hD) || error.hint)
        return error;
    const hint = error.status === 401 || error.status === 403
        ? `Check that the Fly API token may manage app ${app}`
        : error.status === 404
            ? `Check that ${resource} exists`
            : undefined;
    if (!hint)
        return error;
    return new errors/* ApiError */.hD({
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

// EXTERNAL MODULE: ./src/core/summary.ts
var summary = __webpack_require__(1363);
// EXTERNAL MODULE: ./src/config-update/targets.ts
var targets = __webpack_require__(7874);
;// CONCATENATED MODULE: ./src/config-update/observe.ts




async function observeTargets(settings, machinesFor) {
    const target = settings.target;
    if (target.kind === 'kamal') {
        return {
            selected: (0,targets/* selectKamalTargets */.r9)(target.urls, target.lines),
            notes: [`${target.urls.length} Kamal hosts from ${target.listedIn}`],
        };
    }
    let machines;
    try {
        machines = await machinesFor(target).list();
    }
    catch (error) {
        throw new errors/* StepError */.zg('discover', (0,core_message/* msg */.ab) `list the machines of Fly app ${target.app}`, error);
    }
    const selection = (0,targets/* selectFlyTargets */.s5)(machines, target.url, target);
    const filters = [
        target.regions.length > 0 ? `regions ${target.regions.join(', ')}` : undefined,
        target.processGroup !== undefined ? `process group ${target.processGroup}` : undefined,
    ].filter(Boolean);
    const states = (0,summary/* countsLine */.J7)(selection.selected.map((s) => s.target.state ?? 'unknown'));
    const note = `Fly app ${target.app}: ${selection.listed} machines listed` +
        (filters.length > 0 ? `, ${selection.selected.length} match ${filters.join(' and ')}` : '') +
        (states ? ` (${states})` : '');
    return { selected: selection.selected, notes: [note] };
}

// EXTERNAL MODULE: ./src/config-update/plan.ts
var config_update_plan = __webpack_require__(241);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
;// CONCATENATED MODULE: ./src/config-update/results-file.ts


/**
 * Redacts each text field of a result, once per target, value by value (core/redacted-data.ts):
 * our `outcome` word and the numbers are kept as they are, and a short secret redacted
 * in the keys or the JSON syntax cannot leave a line no one can parse. A field the
 * redaction leaves as it was keeps its own string, so a 3 KB URL is not held twice.
 */
function shownResult(result, redact) {
    const same = (text) => {
        const out = redact(text);
        return out === text ? text : out;
    };
    return {
        ...result,
        id: same(result.id),
        region: result.region === null ? null : same(result.region),
        url: same(result.url),
        error: result.error === null ? null : same(result.error),
    };
}
/**
 * The `results-file` output: every target's result as one JSON line, appended the
 * moment the target finishes, so the file is complete for any fleet size while the
 * `results` output has to stay under the runner's 1 MB per output. It takes only
 * redacted results (`ShownResult`): the reusable workflow uploads the file as an
 * artifact, which the runner's masking never sees.
 */
class ResultsFile {
    path;
    /** Open for the whole run (closed when the process exits): not open-write-close per target. */
    fd;
    /** The lines of this turn of the event loop, written together when it is over. */
    held = '';
    constructor(logPath) {
        this.path = `${logPath.replace(/\.jsonl$/, '')}-results.jsonl`;
        (0,external_node_fs_.mkdirSync)((0,external_node_path_.dirname)(this.path), { recursive: true });
        this.fd = (0,external_node_fs_.openSync)(this.path, 'a');
        process.once('exit', () => this.flush());
    }
    /**
     * Appends the target's line. Lines of targets finishing in one turn of the event loop are
     * written at its end (`setImmediate`, well under a millisecond later; at exit at the latest):
     * one write a turn instead of one per target, which was a tenth of the fan-out's CPU time
     * at 10 000 targets (bench/config-update.ts).
     */
    add(result) {
        if (this.held === '')
            setImmediate(() => this.flush());
        this.held += `${JSON.stringify(resultEntry(result))}\n`;
    }
    /** Writes what is held now. */
    flush() {
        if (this.held === '')
            return;
        const text = this.held;
        this.held = '';
        (0,external_node_fs_.writeSync)(this.fd, text);
    }
}
/** One `results` entry: `{id, region, url, outcome, status, attempts, ms, error}`. */
function resultEntry({ id, region, url, outcome, status, attempts, ms, error }) {
    return { id, region, url, outcome, status, attempts, ms, error };
}

;// CONCATENATED MODULE: ./src/config-update/report.ts




function totalsOf(results) {
    const count = (o) => results.filter((r) => r.outcome === o).length;
    return {
        total: results.length,
        succeeded: count('ok'),
        failed: count('failed'),
        skipped: count('skipped'),
        planned: count('planned'),
    };
}
function progressUnit(result, listedAt) {
    return {
        id: progressName(result.id, listedAt),
        where: result.region ?? undefined,
        outcome: result.woken ? 'ok (woken)' : result.outcome,
        status: result.status ?? undefined,
        attempts: result.attempts,
        ms: result.ms,
        note: result.error ?? undefined,
    };
}
/** Past this many characters a target's name in its progress line is shortened (`progressName`). */
const PROGRESS_NAME_CHARS = 120;
const HEAD_CHARS = 80;
const TAIL_CHARS = 24;
const MARKER = /\[REDACTED:[a-z0-9-]+\]/g;
/**
 * A target's name as its progress line shows it: the id as it is, or, past PROGRESS_NAME_CHARS,
 * its head (the origin and the start of the path) and its tail around `…`, followed by where
 * the user listed it (`urls-file line 12`), which names the target whatever the cut left out.
 * 10 000 targets with URLs of 3 KB then log about 1.5 MB of progress, not 31 MB; the whole
 * id and URL of each are in `results-file`. `id` must be redacted already, so a cut never
 * leaves a part of a secret that redaction would no longer recognise; nor does it split a
 * `[REDACTED:…]` marker or a UTF-16 surrogate pair. Without `listedAt` (a Fly machine id,
 * never that long) the id is kept whole.
 */
function progressName(id, listedAt) {
    if (id.length <= PROGRESS_NAME_CHARS || listedAt === undefined)
        return id;
    let head = HEAD_CHARS;
    let tail = id.length - TAIL_CHARS;
    for (const m of id.matchAll(MARKER)) {
        const end = m.index + m[0].length;
        if (m.index < head && head < end)
            head = m.index;
        if (m.index < tail && tail < end)
            tail = end;
    }
    if (isLowSurrogate(id.charCodeAt(head)))
        head--;
    if (isLowSurrogate(id.charCodeAt(tail)))
        tail++;
    return `${id.slice(0, head)}…${id.slice(tail)} (${listedAt})`;
}
function isLowSurrogate(code) {
    return code >= 0xdc00 && code <= 0xdfff;
}
/**
 * What a cancel left: `3 of 10 target(s) updated before the cancellation, 5 not, 2 skipped`.
 * Targets the policy skipped (stopped machines) are counted apart: they were never to be
 * updated, and are not among those a re-run has to reach.
 */
function cancelledNote(results) {
    const { total, succeeded, skipped } = totalsOf(results);
    const not = total - succeeded - skipped;
    return `${succeeded} of ${total} target(s) updated before the cancellation, ${not} not${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}
function totalsLine(totals, wallMs) {
    return `Done in ${(0,summary/* formatMs */._V)(wallMs)}: ${totals.succeeded} ok, ${totals.failed} failed, ${totals.skipped} skipped of ${totals.total}`;
}
/** Targets the policy settles without sending anything: skipped, or failed because `stopped-machines` is fail. */
function settledWithoutSending(unit) {
    const failed = unit.disposition === 'fail';
    return {
        id: unit.target.id,
        region: unit.target.region ?? null,
        url: unit.call.url,
        outcome: failed ? 'failed' : 'skipped',
        status: null,
        attempts: 0,
        ms: 0,
        error: failed ? `${unit.reason ?? 'not started'} (stopped-machines: fail)` : (unit.reason ?? null),
        startMs: 0,
        endMs: 0,
    };
}
/**
 * A dry run's result for a target: `planned` (no error) when a real run would
 * send it the update, otherwise `skipped` with the reason the policy gives.
 */
function plannedOnly(unit) {
    if (unit.disposition === 'skip' || unit.disposition === 'fail') {
        const what = `${unit.reason ?? 'not started'} (stopped-machines: ${unit.disposition})`;
        return { ...settledWithoutSending(unit), outcome: 'skipped', error: what };
    }
    return { ...settledWithoutSending(unit), outcome: 'planned', error: null };
}
/** Past this many targets the `results` output lists only those that did not succeed. */
const RESULTS_OUTPUT_ALL_UP_TO = 500;
/** Under the runner's 1 MB per output, with room for the redaction of a long secret. */
const RESULTS_OUTPUT_BYTES = 900_000;
/**
 * The `results` output, sorted by id. Up to RESULTS_OUTPUT_ALL_UP_TO targets it lists
 * every one; past that only the failed and skipped ones, as action.yml says: neither
 * those updated nor, in a dry run, those planned (the counts are the `total`,
 * `succeeded`, `failed` and `skipped` outputs; every target is in `results-file`). It
 * stops before RESULTS_OUTPUT_BYTES, so that even 10 000 failures stay under the
 * runner's 1 MB per output; `listed < due` then, and the summary says so.
 */
function resultsOutput(results) {
    const shown = results.length <= RESULTS_OUTPUT_ALL_UP_TO
        ? results
        : results.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
    const byId = [...shown].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const entries = [];
    let bytes = 2;
    for (const r of byId) {
        const entry = JSON.stringify(resultEntry(r));
        bytes += Buffer.byteLength(entry) + 1;
        if (bytes > RESULTS_OUTPUT_BYTES)
            break;
        entries.push(entry);
    }
    return { json: `[${entries.join(',')}]`, listed: entries.length, due: byId.length };
}
const LISTED_IN_ERROR = 10;
/** The first LISTED_IN_ERROR failed targets, each named as its progress line names it, and how many more. */
function namedFailures(failed, listedAt) {
    const named = failed
        .slice(0, LISTED_IN_ERROR)
        .map((r) => `${progressName(r.id, listedAt?.(r))}${r.error ? ` (${r.error})` : ''}`)
        .join('; ');
    const more = failed.length > LISTED_IN_ERROR ? `; and ${failed.length - LISTED_IN_ERROR} more` : '';
    return { named, more };
}
/** Undefined when the step succeeds; otherwise the error naming how many targets failed and which. */
function failureOf(results, maxFailures, listedAt) {
    const failed = results.filter((r) => r.outcome === 'failed');
    if (failed.length <= maxFailures)
        return undefined;
    const { named, more } = namedFailures(failed, listedAt);
    return new errors/* StepError */.zg('update', (0,core_message/* msg */.ab) `update ${failed.length} of ${results.length} targets`, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `more than max-failures (${maxFailures}) failed: ${named}${more}`));
}
/**
 * The `::warning::` for failures `max-failures` tolerates: the step succeeds,
 * so without it a failed target would only show in the table. Undefined when
 * nothing failed or when the step fails anyway (its error names them).
 */
function toleratedFailures(results, maxFailures, listedAt) {
    const failed = results.filter((r) => r.outcome === 'failed');
    if (failed.length === 0 || failed.length > maxFailures)
        return undefined;
    const { named, more } = namedFailures(failed, listedAt);
    return `${failed.length} of ${results.length} targets failed, within max-failures (${maxFailures}): ${named}${more}`;
}

// EXTERNAL MODULE: ./node_modules/p-map/index.js
var p_map = __webpack_require__(606);
;// CONCATENATED MODULE: ./src/core/fanout.ts

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
    return (0,p_map/* default */.Ay)(items, paced, { concurrency: Math.max(1, options.concurrency), signal: options.signal });
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

;// CONCATENATED MODULE: ./src/config-update/wake.ts




/**
 * Wakes a stopped or suspended Fly machine before its update call, as `fly machine start` and
 * flyctl's wait do it (flyctl internal/command/machine/start.go; internal/machine/
 * leasable_machine.go `WaitForState`: the wait is asked again, 500 ms to 2 s apart, until its own
 * deadline). POST /start resumes a suspended machine as it starts a stopped one
 * (fly.io/docs/machines/machine-states). A machine still on its way to stopped or suspended
 * (`stopping`, `suspending`, as autostop leaves it) refuses the start with 412: the start is asked
 * again on the same backoff until the transition is over, within `timeoutMs` in all.
 *
 * Throws an Error naming the state the machine was stuck in, or what the wait last said.
 */
async function wakeMachine(machines, id, options) {
    const sleep = options.sleep ?? http/* abortableSleep */.Mf;
    const deadline = performance.now() + options.timeoutMs;
    const left = () => deadline - performance.now();
    let delay = 500;
    for (;;) {
        const answer = await machines.start(id);
        if (answer.refused === undefined)
            break;
        if (left() <= 0)
            throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `POST /start still answered 412 after ${(0,summary/* formatMs */._V)(options.timeoutMs)}: ${answer.refused}`);
        await sleep(Math.min(delay, left()), options.signal);
        delay = Math.min(2000, delay * 2);
    }
    for (;;) {
        try {
            await machines.wait(id, { state: 'started', timeoutSeconds: Math.ceil(Math.max(left(), 1) / 1000) });
            return;
        }
        catch (error) {
            // 408: the API's own wait ended first; asked again while time is left.
            if (!(error instanceof errors/* ApiError */.hD && error.status === 408) || left() <= 0)
                throw error;
        }
    }
}

;// CONCATENATED MODULE: ./src/config-update/update.ts




const ERROR_CHARS = 120;
async function runFanout(units, options, deps) {
    const now = deps.now ?? (() => performance.now());
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error('deadline')), Math.max(0, options.deadlineMs - (options.spentMs ?? 0)));
    const signal = options.cancel ? AbortSignal.any([deadline.signal, options.cancel]) : deadline.signal;
    const waitBound = {
        budgetMs: options.deadlineMs,
        deadlineAt: Date.now() + Math.max(0, options.deadlineMs - (options.spentMs ?? 0)),
        name: 'the input deadline',
    };
    const machines = units.some((u) => u.disposition === 'wake') ? deps.machines?.(signal) : undefined;
    const sendOptions = {
        timeoutMs: options.timeoutMs,
        retries: options.retries,
        signal,
        waitBound,
    };
    const t0 = now();
    const passedDeadline = `the deadline of ${formatSeconds(options.deadlineMs)} passed`;
    const cutBy = () => (options.cancel?.aborted ? (0,errors/* messageOf */.bD)(options.cancel.reason) : passedDeadline);
    // Reports the target the moment it is over (`onFinish`), then hands its result to mapConcurrent.
    const one = async (unit, index) => {
        const startMs = now() - t0;
        const finish = (fields) => {
            const endMs = now() - t0;
            const result = {
                id: unit.target.id,
                region: unit.target.region ?? null,
                url: unit.call.url,
                ...fields,
                ms: Math.round(endMs - startMs),
                startMs,
                endMs,
            };
            if (unit.disposition === 'wake')
                result.woken = fields.outcome === 'ok';
            deps.onFinish?.(result, index);
            return result;
        };
        // Given the signal, mapConcurrent would reject as a whole; a target that never started is failed as data instead.
        if (signal.aborted) {
            return finish({ outcome: 'failed', status: null, attempts: 0, error: `not started: ${cutBy()}` });
        }
        let stage = 'update';
        try {
            if (unit.disposition === 'wake') {
                stage = 'wake';
                if (!machines)
                    throw new Error('no Fly Machines client to wake the machine with');
                await wakeMachine(machines, unit.target.id, { timeoutMs: options.timeoutMs, signal });
                stage = 'update';
            }
            const res = await deps.send(unit.call, sendOptions, (event) => deps.onRetry?.(unit, event));
            return finish({ outcome: 'ok', status: res.status, attempts: res.attempts, error: null });
        }
        catch (error) {
            const api = error instanceof errors/* ApiError */.hD ? error : undefined;
            const prefix = stage === 'wake' ? 'waking the machine: ' : '';
            const reason = signal.aborted ? cutByDeadline(cutBy(), api) : describeFailure(error);
            return finish({
                outcome: 'failed',
                status: stage === 'update' ? (api?.status ?? null) : null,
                attempts: stage === 'update' ? (api?.attempts ?? 0) : 0,
                error: `${prefix}${reason}`,
            });
        }
    };
    try {
        return await mapConcurrent(units, one, { concurrency: options.concurrency });
    }
    finally {
        clearTimeout(timer);
    }
}
function cutByDeadline(deadlineText, api) {
    const attempts = api?.attempts ?? 0;
    const status = api?.status === undefined ? '' : ` (last answer HTTP ${api.status})`;
    return `cut: ${deadlineText} after ${attempts} attempt${attempts === 1 ? '' : 's'}${status}`;
}
/** A short, single-line reason: status and the endpoint's own message, never its whole body. */
function describeFailure(error) {
    if (error instanceof errors/* ApiError */.hD) {
        const said = error.providerMessage ?? error.body;
        const cause = error.cause instanceof Error ? error.cause.message : undefined;
        // A retry not waited for says why first: the endpoint's own words may be cut.
        const why = error.hint ? ` (${error.hint.replace(/\.$/, '').replace(/^Not/, 'not')})` : '';
        const text = error.status !== undefined
            ? `HTTP ${error.status}${why}${said ? `: ${said}` : ''}`
            : (cause ?? error.message);
        return shorten(text);
    }
    return shorten((0,errors/* messageOf */.bD)(error));
}
function shorten(text, max = ERROR_CHARS) {
    const oneLine = text.replace(/\s+/g, ' ').trim();
    return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
function formatSeconds(ms) {
    return `${Number((ms / 1000).toFixed(3))} s`;
}
/**
 * The real sender: the user's own endpoint through the core HTTP client. The
 * call is retried even when it is a POST: regenerating configuration is
 * idempotent (a second call rebuilds the same files), and the spec retries
 * every target on network errors, 408, 425, 429 and 5xx.
 */
function createEndpointSender(redact) {
    // One client per fan-out (per `options`), not one per target: every call of a run shares them.
    let clients;
    const clientsFor = (options) => {
        if (clients?.options !== options) {
            const client = (credential) => new http/* HttpClient */.Qq({
                provider: 'Update endpoint',
                ...(credential ? { credential } : {}),
                baseUrl: '',
                redact,
                timeoutMs: options.timeoutMs,
                retry: { retries: options.retries },
                signal: options.signal,
                waitBound: options.waitBound,
            });
            // The endpoint's 401/403 is about the Bearer token action-config-update sends as `auth-token`.
            clients = { options, plain: client(), withToken: client('auth-token') };
        }
        return clients;
    };
    return async (call, options, onRetry) => {
        const { plain, withToken } = clientsFor(options);
        const res = await (call.headers.authorization ? withToken : plain).request({
            operation: 'update',
            method: call.method,
            path: call.url,
            headers: call.headers,
            ...(call.body !== undefined ? { body: call.body } : {}),
            retrySafe: true,
            onRetry,
        });
        return { status: res.status, attempts: res.attempts };
    };
}

;// CONCATENATED MODULE: ./src/config-update/summary.ts



/** Up to this many targets, one table row each, and the gantt chart. */
const FULL_TABLE_UP_TO = 60;
/** The chart has one bar per target sent; past this many it is not readable and is left out. */
const GANTT_BARS = FULL_TABLE_UP_TO;
const NOT_UPDATED_ROWS = 200;
const SLOWEST_ROWS = 20;
const REGION_ROWS = 40;
const REASON_ROWS = 20;
/** Ids are host names or machine ids; a Kamal id can be a whole URL. */
const ID_CHARS = 200;
/** Errors are already one short line (update.ts); the cap keeps every row's size bounded here too. */
const TEXT_CHARS = 160;
const TARGET_HEADERS = ['target', 'region', 'outcome', 'status', 'attempts', 'time', 'error'];
function renderSummary(input) {
    const { results } = input;
    const totals = totalsOf(results);
    const parts = [`## ${input.title}`, ''];
    if (input.dryRun)
        parts.push('**Dry run**: nothing was sent to the targets.', '');
    parts.push(input.dryRun
        ? `${totals.total} targets: **${totals.planned} planned**, ${totals.skipped} skipped.`
        : `${totals.total} targets: **${totals.succeeded} ok**, **${totals.failed} failed**, ${totals.skipped} skipped in ${(0,summary/* formatMs */._V)(input.wallMs)} at concurrency ${input.concurrency}.`);
    for (const note of input.notes ?? [])
        parts.push('', note);
    if (results.length <= FULL_TABLE_UP_TO) {
        parts.push('', targetTable(worstFirst(results)));
        const bars = ganttBars(results);
        if (!input.dryRun && bars.length > 0)
            parts.push('', (0,summary/* mermaidGantt */.g6)('Fan-out', bars));
    }
    else {
        parts.push(...aggregated(input));
    }
    if (input.output && input.output.listed < results.length)
        parts.push('', outputNote(input.output, results.length, input.dryRun));
    return `${parts.join('\n')}\n`;
}
function aggregated(input) {
    const { results } = input;
    const parts = ['', '### By outcome', '', outcomeTable(results)];
    if (results.some((r) => r.region !== null))
        parts.push('', '### By region', '', regionTable(results));
    const failed = results.filter((r) => r.outcome === 'failed');
    if (failed.length > 0)
        parts.push('', '### Failure reasons', '', ...reasonTable(failed));
    const notUpdated = worstFirst(results.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped'));
    if (notUpdated.length > 0) {
        const shown = notUpdated.slice(0, NOT_UPDATED_ROWS);
        parts.push('', `### Failed and skipped targets`, '', targetTable(shown));
        if (shown.length < notUpdated.length)
            parts.push('', `_${notUpdated.length - shown.length} more failed or skipped targets are in \`results-file\`._`);
    }
    const ok = worstFirst(results.filter((r) => r.outcome === 'ok'));
    if (ok.length > 0) {
        parts.push('', `### The ${Math.min(SLOWEST_ROWS, ok.length)} slowest of ${ok.length} updated`, '');
        parts.push(targetTable(ok.slice(0, SLOWEST_ROWS)));
    }
    if (!input.dryRun) {
        parts.push('', `_No fan-out chart: ${results.length} targets are more than its ${GANTT_BARS} readable bars; every target's times are in \`results-file\`._`);
    }
    return parts;
}
function outputNote(output, total, dryRun) {
    const which = total <= RESULTS_OUTPUT_ALL_UP_TO
        ? `${output.listed} of ${total} targets`
        : `${output.listed} of the ${output.due} failed and skipped targets (of ${total}; past ${RESULTS_OUTPUT_ALL_UP_TO} it leaves out those ${dryRun ? 'planned' : 'updated'})`;
    return `_The \`results\` output lists ${which}, under the 1 MB an output may hold; \`results-file\` has every target._`;
}
function targetTable(rows) {
    return (0,summary/* summaryTable */.jb)(TARGET_HEADERS, rows.map((r) => [
        shorten(r.id, ID_CHARS),
        shorten(r.region ?? '', TEXT_CHARS),
        outcomeCell(r),
        r.status ?? '',
        r.attempts,
        r.outcome === 'skipped' || r.outcome === 'planned' ? '' : (0,summary/* formatMs */._V)(r.ms),
        shorten(r.error ?? '', TEXT_CHARS),
    ]));
}
const OUTCOMES = ['ok', 'failed', 'skipped', 'planned'];
function outcomeTable(results) {
    const rows = OUTCOMES.flatMap((outcome) => {
        const members = results.filter((r) => r.outcome === outcome);
        if (members.length === 0)
            return [];
        const woken = members.filter((r) => r.woken).length;
        const label = `${outcomeCell(members[0], false)}${woken > 0 ? ` (${woken} woken)` : ''}`;
        return [[label, members.length, ...timeCells(members)]];
    });
    return (0,summary/* summaryTable */.jb)(['outcome', 'targets', 'median', 'p95', 'slowest'], rows);
}
function regionTable(results) {
    const byRegion = groupBy(results, (r) => r.region ?? '');
    const regions = [...byRegion].sort(([a, x], [b, y]) => failures(y) - failures(x) || y.length - x.length || (a < b ? -1 : 1));
    const row = (name, members) => [
        name,
        members.length,
        count(members, 'ok'),
        count(members, 'failed'),
        count(members, 'skipped'),
        ...timeCells(members),
    ];
    const rows = regions
        .slice(0, REGION_ROWS)
        .map(([name, members]) => row(shorten(name, TEXT_CHARS) || '-', members));
    const rest = regions.slice(REGION_ROWS);
    if (rest.length > 0)
        rows.push(row(`${rest.length} more regions`, rest.flatMap(([, members]) => members)));
    return (0,summary/* summaryTable */.jb)(['region', 'targets', 'ok', 'failed', 'skipped', 'median', 'p95', 'slowest'], rows);
}
function reasonTable(failed) {
    const byReason = [...groupBy(failed, (r) => r.error ?? '')].sort(([a, x], [b, y]) => y.length - x.length || (a < b ? -1 : 1));
    const rows = byReason.slice(0, REASON_ROWS).map(([reason, members]) => [
        shorten(reason, TEXT_CHARS) || '(no reason given)',
        members.length,
        members
            .slice(0, 3)
            .map((r) => shorten(r.id, 60))
            .join(', ') + (members.length > 3 ? ', …' : ''),
    ]);
    const table = (0,summary/* summaryTable */.jb)(['reason', 'targets', 'for example'], rows);
    const more = byReason.length - rows.length;
    return more > 0 ? [table, '', `_${more} more reasons, each in \`results-file\`._`] : [table];
}
/** Median, 95th percentile and slowest time of the targets that were sent the call. */
function timeCells(members) {
    const times = members
        .filter((r) => r.outcome === 'ok' || r.outcome === 'failed')
        .map((r) => r.ms)
        .sort((a, b) => a - b);
    if (times.length === 0)
        return ['', '', ''];
    const at = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
    return [(0,summary/* formatMs */._V)(at(0.5)), (0,summary/* formatMs */._V)(at(0.95)), (0,summary/* formatMs */._V)(times.at(-1))];
}
function count(members, outcome) {
    return members.filter((r) => r.outcome === outcome).length;
}
function failures(members) {
    return count(members, 'failed');
}
function groupBy(items, key) {
    const groups = new Map();
    for (const item of items) {
        const k = key(item);
        const group = groups.get(k);
        if (group)
            group.push(item);
        else
            groups.set(k, [item]);
    }
    return groups;
}
function outcomeCell(r, showWoken = true) {
    if (r.outcome === 'failed')
        return '❌ failed';
    if (r.outcome === 'skipped')
        return '⏭️ skipped';
    if (r.outcome === 'planned')
        return '📝 planned';
    return r.woken && showWoken ? '✅ ok (woken)' : '✅ ok';
}
/** Failures first, then the slowest: what a reader came to the summary for. */
function worstFirst(results) {
    const rank = (o) => (o === 'failed' ? 0 : o === 'ok' ? 1 : o === 'planned' ? 2 : 3);
    return [...results].sort((a, b) => rank(a.outcome) - rank(b.outcome) || b.ms - a.ms || (a.id < b.id ? -1 : 1));
}
/** One bar per target that was sent, failures marked `crit`, chronological. */
function ganttBars(results) {
    return results
        .filter((r) => (r.outcome === 'ok' || r.outcome === 'failed') && r.endMs > 0)
        .sort((a, b) => a.startMs - b.startMs)
        .map((r) => ({
        section: r.outcome === 'failed' ? 'failed' : 'ok',
        label: `${shorten(r.id, 60)}${r.region ? ` ${r.region}` : ''} ${r.status ?? '-'} x${r.attempts}`,
        startMs: r.startMs,
        endMs: r.endMs,
        ...(r.outcome === 'failed' ? { status: 'crit' } : {}),
    }));
}

;// CONCATENATED MODULE: ./src/config-update/flow.ts















/** Observe the targets, plan one call per target, fan the calls out and report. */
async function runConfigUpdate(settings, ctx) {
    const kind = settings.target.kind;
    // One deadline for the run: discovery's rate-limit waits count against it as the fan-out does.
    const startedAt = Date.now();
    const machinesFor = (signal) => {
        const fly = settings.target.kind === 'fly' ? settings.target : undefined;
        if (!fly)
            throw new Error('Fly Machines are only used when target is fly');
        const http = createFlyClient({
            baseUrl: fly.apiUrl,
            token: fly.apiToken,
            redact: (t) => ctx.secrets.redact(t),
            // `retries` holds for every request of the run: the listing and the wake calls as the updates.
            retry: { retries: settings.retries },
            ...(signal ? { signal } : {}),
            waitBound: {
                budgetMs: settings.deadlineMs,
                deadlineAt: startedAt + settings.deadlineMs,
                name: 'the input deadline',
            },
            log: (line) => ctx.info(line),
        });
        return new FlyMachines(http, fly.app);
    };
    // observe → plan
    const cancel = ctx.cancellation.signal;
    const observed = await ctx.log.step('discover', { target: kind }, () => observeTargets(settings, () => machinesFor(cancel)));
    cancel.throwIfAborted();
    for (const note of observed.notes)
        ctx.info(note);
    const plan = (0,config_update_plan/* buildPlan */.Gg)(settings.request, (0,targets/* shardOf */.IS)(observed.selected, settings.shard));
    if (settings.shard) {
        ctx.info((0,core_message/* msg */.ab) `Shard ${settings.shard.index}/${settings.shard.count}: ${plan.length} of ${observed.selected.length} targets`);
    }
    if (observed.selected.length === 0)
        ctx.warning((0,core_message/* msg */.ab) `No ${(0,targets/* noun */.jB)(kind, 0)} to update: ${observed.notes.join('; ')}`);
    const title = settings.target.kind === 'fly'
        ? `Config update: Fly app ${ctx.secrets.redact(settings.target.app)}`
        : 'Config update: Kamal hosts';
    const notes = [
        ...observed.notes,
        ...(settings.shard ? [`Shard ${settings.shard.index}/${settings.shard.count}.`] : []),
    ];
    const redact = (text) => ctx.secrets.redact(text);
    const resultsFile = new ResultsFile(ctx.log.path);
    ctx.setOwnOutput('results-file', resultsFile.path);
    const listName = settings.target.kind === 'kamal' ? settings.target.list : undefined;
    const listedAtOf = (unit) => unit.target.line ? `${listName} line ${unit.target.line}` : undefined;
    if (settings.dryRun) {
        // Redacted before it is shortened, as progress lines are: a cut never leaves part of a secret.
        const show = (text, unit) => progressName(redact(text), listedAtOf(unit));
        for (const line of (0,config_update_plan/* describePlan */.df)(kind, plan, show))
            ctx.info(line);
        const results = plan.map((u) => shownResult(plannedOnly(u), redact));
        for (const r of results)
            resultsFile.add(r);
        resultsFile.flush();
        ctx.log.write({ step: 'plan', outcome: 'planned', ids: { targets: plan.length } });
        await publish(ctx, { title, results, wallMs: 0, concurrency: settings.concurrency, dryRun: true, notes });
        return;
    }
    // execute
    const settled = plan
        .filter((u) => u.disposition === 'skip' || u.disposition === 'fail')
        .map((u) => shownResult(settledWithoutSending(u), redact));
    for (const r of settled) {
        resultsFile.add(r);
        ctx.info((0,core_message/* msg */.ab) `${r.outcome === 'failed' ? (0,core_message/* own */.ZV)('Failed') : (0,core_message/* own */.ZV)('Skipped')} ${r.id}${r.region ? (0,core_message/* msg */.ab) ` (${r.region})` : ''}: ${r.error}`);
        ctx.log.write({
            step: 'update',
            outcome: r.outcome,
            ids: { target: r.id, region: r.region ?? undefined },
            detail: r.error ?? undefined,
        });
    }
    const sending = (0,config_update_plan/* toSend */.y5)(plan);
    // The HTTP client's modules are loaded before the fan-out starts: start-up, not the targets' time.
    if (sending.length > 0)
        await (0,undici/* loadUndici */.b7)();
    const wakes = sending.filter((u) => u.disposition === 'wake').length;
    ctx.info((0,core_message/* msg */.ab) `Will update ${sending.length} ${(0,targets/* noun */.jB)(kind, sending.length)}${wakes > 0 ? (0,core_message/* msg */.ab) ` (${wakes} to wake first)` : ''}`);
    const batch = new StdoutBatch();
    const logged = ctx.log.batchTurns();
    const progress = new Progress(sending.length, (line) => {
        batch.hold();
        ctx.info(line);
    });
    const started = performance.now();
    // Each result is redacted once, as it finishes; every output after that shows this copy.
    const sent = [];
    const listedAt = new Map();
    await runFanout(sending, {
        concurrency: settings.concurrency,
        retries: settings.retries,
        timeoutMs: settings.timeoutMs,
        deadlineMs: settings.deadlineMs,
        spentMs: Date.now() - startedAt,
        cancel,
    }, {
        send: createEndpointSender((t) => ctx.secrets.redact(t)),
        machines: (signal) => machinesFor(signal),
        onFinish: (result, index) => {
            const shown = shownResult(result, redact);
            sent[index] = shown;
            resultsFile.add(shown);
            const unit = sending[index];
            const where = unit ? listedAtOf(unit) : undefined;
            if (where)
                listedAt.set(shown, where);
            progress.done(progressUnit(shown, where));
            logResult(ctx, shown);
        },
        onRetry: (unit, event) => {
            ctx.log.write({
                step: 'update',
                outcome: 'retried',
                ids: { target: unit.target.id, attempt: event.attempt },
                detail: `${event.reason}; next attempt in ${event.delayMs} ms`,
            });
        },
    }).finally(() => {
        batch.flush();
        resultsFile.flush();
        logged();
    });
    const wallMs = performance.now() - started;
    const results = [...settled, ...sent];
    ctx.info(totalsLine(totalsOf(results), wallMs));
    // report
    const cancelled = cancel.aborted ? cancelledNote(results) : undefined;
    await publish(ctx, {
        title: cancelled ? `${title}: cancelled` : title,
        results,
        wallMs,
        concurrency: settings.concurrency,
        dryRun: false,
        notes: cancelled ? [`Cancelled: ${cancelled}.`, ...notes] : notes,
    });
    if (cancelled)
        throw new cancellation/* CancelledError */.cc((0,cancellation/* cancelSignalName */.EJ)(cancel), cancelled);
    const failure = failureOf(results, settings.maxFailures, (r) => listedAt.get(r));
    if (failure)
        throw failure;
    const tolerated = toleratedFailures(results, settings.maxFailures, (r) => listedAt.get(r));
    if (tolerated)
        ctx.warning(tolerated);
}
function logResult(ctx, r) {
    ctx.log.write({
        step: 'update',
        outcome: r.outcome,
        durationMs: r.ms,
        ids: { target: r.id, region: r.region ?? undefined, status: r.status ?? undefined, attempts: r.attempts },
        ...(r.error ? { detail: r.error } : {}),
    });
}
/**
 * The outputs and the job summary: our wording as written, around values (ids, URLs, errors,
 * notes) redacted one by one (core/redacted-data.ts; the results already are, `shownResult`).
 * The title is ours, with the app's name in it redacted already.
 */
async function publish(ctx, summary) {
    const shown = { ...summary, notes: redactedData(summary.notes ?? [], ctx.secrets.redactor) };
    const totals = totalsOf(shown.results);
    ctx.setOwnOutput('total', String(totals.total));
    ctx.setOwnOutput('succeeded', String(totals.succeeded));
    ctx.setOwnOutput('failed', String(totals.failed));
    ctx.setOwnOutput('skipped', String(totals.skipped));
    const output = resultsOutput(shown.results);
    ctx.setOwnOutput('results', output.json);
    await ctx.writeSummary(renderSummary({ ...shown, output }), { fromRedactedData: true });
}


/***/ }),

/***/ 715:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   TL: () => (/* binding */ parseInputs),
/* harmony export */   pH: () => (/* binding */ SECRET_INPUTS)
/* harmony export */ });
/* unused harmony export parseShard */
/* harmony import */ var _core_errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1915);
/* harmony import */ var _core_inputs_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(9114);
/* harmony import */ var _core_message_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3252);



const SECRET_INPUTS = ['auth-token', 'fly-api-token'];
const METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];
function parseInputs(inputs) {
    const kind = inputs.choice('target', ['fly', 'kamal'], 'fly');
    const method = inputs.raw('method').toUpperCase() || 'POST';
    if (!METHODS.includes(method)) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('method', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `must be one of ${METHODS.join(', ')}; got ${JSON.stringify(method)}`);
    }
    const request = {
        method,
        headers: inputs.headers('headers'),
        body: inputs.optional('body'),
        authToken: inputs.optional('auth-token'),
    };
    return {
        target: kind === 'fly' ? parseFly(inputs) : parseKamal(inputs),
        request,
        concurrency: inputs.integer('concurrency', 8, { min: 1, max: 256 }),
        retries: inputs.integer('retries', 3, { min: 0, max: 10 }),
        timeoutMs: inputs.seconds('timeout', 30, { max: 3600 }),
        deadlineMs: inputs.seconds('deadline', 600, { max: 6 * 3600 }),
        maxFailures: inputs.integer('max-failures', 0, { min: 0 }),
        shard: parseShard(inputs.optional('shard')),
        dryRun: inputs.boolean('dry-run', false),
    };
}
function parseFly(inputs) {
    // `target: kamal` forgotten (fly is the default): say so rather than only that `url` is missing.
    // Given together with `url`, a list is ignored: the example workflow passes both, whatever the target.
    const list = ['urls', 'urls-file'].find((name) => inputs.raw(name) !== '');
    if (list && inputs.raw('url') === '')
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('url', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `is required when target is fly (the default); ${list} is read only when target is kamal`);
    return {
        kind: 'fly',
        url: inputs.url('url', { required: true }),
        app: flyAppName(inputs.required('fly-app', 'is required when target is fly: the Fly app name')),
        apiToken: inputs.required('fly-api-token', 'is required when target is fly'),
        apiUrl: inputs.url('fly-api-url', { fallback: 'https://api.machines.dev/v1' }),
        regions: inputs.list('regions').map((r) => r.toLowerCase()),
        processGroup: inputs.optional('process-group'),
        stoppedMachines: inputs.choice('stopped-machines', ['skip', 'wake', 'fail'], 'skip'),
    };
}
/**
 * The endpoints from `urls` or `urls-file` (one of them). Two entries the
 * server would see as one URL (see `serverView`) are refused like exact
 * duplicates: they would update one host twice.
 */
function parseKamal(inputs) {
    const fromFile = inputs.fileLines('urls-file', (value) => (0,_core_inputs_js__WEBPACK_IMPORTED_MODULE_1__/* .checkUrl */ .CU)('urls-file', value));
    const entries = inputs.entries('urls');
    if (fromFile && entries.length > 0)
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('urls', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `and urls-file exclude each other; give one`);
    if (fromFile) {
        if (fromFile.entries.length === 0)
            throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('urls-file', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `names ${JSON.stringify(fromFile.file)}, which lists no URL`);
        const seen = new Map();
        for (const { line, parsed } of fromFile.entries) {
            const key = (0,_core_inputs_js__WEBPACK_IMPORTED_MODULE_1__/* .serverView */ .lP)(parsed);
            const first = seen.get(key);
            if (first !== undefined) {
                (0,_core_inputs_js__WEBPACK_IMPORTED_MODULE_1__/* .atLine */ .sU)('urls-file', fromFile.file, line, () => {
                    throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('urls-file', duplicateProblem(key, `line ${first}`));
                });
            }
            seen.set(key, line);
        }
        return {
            kind: 'kamal',
            urls: fromFile.entries.map((e) => e.parsed),
            lines: fromFile.entries.map((e) => e.line),
            list: 'urls-file',
            listedIn: `\`urls-file\` ${fromFile.file}`,
        };
    }
    if (entries.length === 0)
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('urls', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `or urls-file is required when target is kamal: one endpoint URL per line`);
    const urls = entries.map((e) => (0,_core_inputs_js__WEBPACK_IMPORTED_MODULE_1__/* .checkUrl */ .CU)('urls', e.value));
    const seen = new Set();
    for (const url of urls) {
        const key = (0,_core_inputs_js__WEBPACK_IMPORTED_MODULE_1__/* .serverView */ .lP)(url);
        if (seen.has(key))
            throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('urls', duplicateProblem(key, 'another line'));
        seen.add(key);
    }
    return { kind: 'kamal', urls, lines: entries.map((e) => e.line), list: 'urls', listedIn: '`urls`' };
}
function duplicateProblem(key, where) {
    return `lists ${key} twice (${where} has it too; a fragment, the default port, an empty ?, a trailing slash, the case of scheme and host, a trailing dot of the host and escaped letters, digits, - . _ ~ do not make another endpoint); each endpoint must appear once`;
}
function flyAppName(value) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(value)) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('fly-app', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `must be a Fly app name (lowercase letters, digits, dashes); got ${JSON.stringify(value)}`);
    }
    return value;
}
function parseShard(value) {
    if (value === undefined)
        return undefined;
    const m = /^(\d+)\s*\/\s*(\d+)$/.exec(value);
    const index = m ? Number(m[1]) : Number.NaN;
    const count = m ? Number(m[2]) : Number.NaN;
    if (!(count >= 1 && index >= 1 && index <= count)) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('shard', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `must be i/n with 1 <= i <= n, e.g. 2/3; got ${JSON.stringify(value)}`);
    }
    return { index, count };
}


/***/ }),

/***/ 3215:
/***/ ((module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
__webpack_require__.r(__webpack_exports__);
/* harmony import */ var _core_action_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(59);
/* harmony import */ var _core_errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1915);
/* harmony import */ var _core_message_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3252);
/* harmony import */ var _flow_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(3524);
/* harmony import */ var _inputs_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(715);
/* harmony import */ var _plan_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(241);






await (0,_core_action_js__WEBPACK_IMPORTED_MODULE_0__/* .runAction */ .Cs)({
    action: 'config-update',
    secretInputs: _inputs_js__WEBPACK_IMPORTED_MODULE_4__/* .SECRET_INPUTS */ .pH,
    parseInputs: (inputs) => {
        const settings = (0,_inputs_js__WEBPACK_IMPORTED_MODULE_4__/* .parseInputs */ .TL)(inputs);
        if (settings.request.authToken && (0,_plan_js__WEBPACK_IMPORTED_MODULE_5__/* .hasHeader */ .ou)(settings.request.headers, 'authorization')) {
            throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz('headers', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `sets Authorization while auth-token is given too; use one of them`);
        }
        return settings;
    },
    derivedSecrets: (settings) => (0,_plan_js__WEBPACK_IMPORTED_MODULE_5__/* .credentialHeaderValues */ .Lw)(settings.request.headers),
    run: _flow_js__WEBPACK_IMPORTED_MODULE_3__/* .runConfigUpdate */ .l,
});

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 241:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Gg: () => (/* binding */ buildPlan),
/* harmony export */   Lw: () => (/* binding */ credentialHeaderValues),
/* harmony export */   df: () => (/* binding */ describePlan),
/* harmony export */   ou: () => (/* binding */ hasHeader),
/* harmony export */   y5: () => (/* binding */ toSend)
/* harmony export */ });
/* unused harmony exports buildCall, describeHeader, describeCall, describeUnit */
/* harmony import */ var _core_message_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3252);
/* harmony import */ var _targets_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(7874);


function buildCall(request, target) {
    const headers = { ...request.headers };
    if (request.body !== undefined && !hasHeader(headers, 'content-type') && looksLikeJson(request.body)) {
        headers['content-type'] = 'application/json';
    }
    if (request.authToken)
        headers.authorization = `Bearer ${request.authToken}`;
    if (target.machineId)
        headers['fly-force-instance-id'] = target.machineId;
    return { method: request.method, url: target.url, headers, body: request.body };
}
function buildPlan(request, selected) {
    return selected.map((s) => ({ ...s, call: buildCall(request, s.target) }));
}
/** Units that send the update call, in the order the fan-out starts them. */
function toSend(plan) {
    return plan.filter((u) => u.disposition === 'update' || u.disposition === 'wake');
}
function hasHeader(headers, name) {
    return Object.keys(headers).some((k) => k.toLowerCase() === name);
}
function looksLikeJson(body) {
    const t = body.trim();
    if (!(t.startsWith('{') || t.startsWith('[')))
        return false;
    try {
        JSON.parse(t);
        return true;
    }
    catch {
        return false;
    }
}
/** Header names whose values are credentials, whoever set them. */
const SENSITIVE_HEADER = /authorization|token|secret|password|passwd|api-?key|cookie|signature|credential/i;
/** Values of credential headers from the `headers` input: secrets too, though no secret input holds them. */
function credentialHeaderValues(headers) {
    return Object.entries(headers)
        .filter(([name]) => SENSITIVE_HEADER.test(name))
        .flatMap(([, value]) => [value, value.replace(/^(Bearer|Basic|Token|FlyV1)\s+/i, '')]);
}
function describeHeader(name, value) {
    if (!SENSITIVE_HEADER.test(name))
        return `${name}: ${value}`;
    const scheme = /^(Bearer|Basic|Token|FlyV1)\s/i.exec(value)?.[1];
    return `${name}: ${scheme ? `${scheme} ` : ''}[REDACTED]`;
}
const BODY_PREVIEW_CHARS = 200;
/** The request as lines for the log: method and URL, headers with credentials hidden, body preview. */
function describeCall(call) {
    const lines = [`${call.method} ${call.url}`];
    for (const [name, value] of Object.entries(call.headers))
        lines.push(`  ${describeHeader(name, value)}`);
    if (call.body !== undefined) {
        const oneLine = call.body.replace(/\s+/g, ' ').trim();
        const preview = oneLine.length > BODY_PREVIEW_CHARS
            ? `${oneLine.slice(0, BODY_PREVIEW_CHARS)}… (${call.body.length} bytes)`
            : oneLine;
        lines.push(`  body: ${preview}`);
    }
    return lines;
}
/** One target's plan line; its id, region, URL and reason are values (core/message.ts), our words kept whole. */
function describeUnit(unit, show = (text) => text) {
    const where = unit.target.region ? (0,_core_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) ` (${unit.target.region})` : '';
    const name = (0,_core_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${show(unit.target.id, unit)}${where}`;
    const url = show(unit.call.url, unit);
    const reason = unit.reason ?? 'not started';
    switch (unit.disposition) {
        case 'update':
            return (0,_core_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${name}: ${unit.call.method} ${url}`;
        case 'wake':
            return (0,_core_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${name}: start machine, wait until started, then ${unit.call.method} ${url}`;
        case 'skip':
            return (0,_core_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${name}: skipped (${reason}; stopped-machines is skip)`;
        case 'fail':
            return (0,_core_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${name}: counted as failed (${reason}; stopped-machines is fail)`;
    }
}
/**
 * The dry-run's whole output: the request once (it differs per target only in the Fly header),
 * then every target, its id and URL as `show` gives them.
 */
function describePlan(kind, plan, show = (text) => text) {
    const sending = toSend(plan);
    const lines = [
        `Dry run: would update ${sending.length} ${(0,_targets_js__WEBPACK_IMPORTED_MODULE_1__/* .noun */ .jB)(kind, sending.length)}; nothing is sent to them.`,
    ];
    const first = sending[0];
    if (first) {
        lines.push('Request:');
        const perTargetUrl = sending.some((u) => u.call.url !== first.call.url);
        const call = describeCall(first.call).map((l, i) => {
            if (i === 0 && perTargetUrl)
                return `${first.call.method} <the URL of each target>`;
            return kind === 'fly' ? l.replace(/^( {2}fly-force-instance-id: ).*$/, '$1<machine id>') : l;
        });
        lines.push(...call.map((l) => `  ${l}`));
    }
    lines.push('Targets:');
    for (const unit of plan)
        lines.push((0,_core_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `  ${describeUnit(unit, show)}`);
    return lines;
}


/***/ }),

/***/ 7874:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   IS: () => (/* binding */ shardOf),
/* harmony export */   jB: () => (/* binding */ noun),
/* harmony export */   r9: () => (/* binding */ selectKamalTargets),
/* harmony export */   s5: () => (/* binding */ selectFlyTargets)
/* harmony export */ });
/* unused harmony exports processGroupOf, matchesFilters, dispositionOf, sortById */
/* harmony import */ var _core_inputs_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(9114);

/** Machines that are gone or going are no longer instances of the app, whatever the policy. */
const GONE = new Set(['destroying', 'destroyed']);
function processGroupOf(machine) {
    return machine.config?.metadata?.fly_process_group;
}
function matchesFilters(machine, filters) {
    if (filters.regions.length > 0 && !filters.regions.includes(machine.region.toLowerCase()))
        return false;
    if (filters.processGroup !== undefined && processGroupOf(machine) !== filters.processGroup)
        return false;
    return true;
}
function dispositionOf(state, policy) {
    if (state === 'started')
        return 'update';
    if (policy === 'wake')
        return 'wake';
    return policy === 'fail' ? 'fail' : 'skip';
}
function selectFlyTargets(machines, url, filters) {
    const selected = machines
        .filter((m) => !GONE.has(m.state) && matchesFilters(m, filters))
        .map((m) => {
        const disposition = dispositionOf(m.state, filters.stoppedMachines);
        const target = { id: m.id, region: m.region, url, machineId: m.id, state: m.state };
        if (disposition === 'update')
            return { target, disposition };
        const reason = disposition === 'wake'
            ? `machine is ${m.state}: start it, wait until started, then update`
            : `machine is ${m.state}`;
        return { target, disposition, reason };
    });
    return { listed: machines.length, selected: sortById(selected) };
}
/**
 * Kamal hosts are named by host (with port when given); when two URLs share a
 * host, the path is part of the name too, so names stay unique.
 */
/**
 * One target per URL, its id the host; where hosts repeat, host, path and
 * query; where even those repeat (http and https of one host), the whole URL.
 */
function selectKamalTargets(urls, lines = []) {
    const parsed = urls.map((url) => ({ url, parts: new URL(url) }));
    const hostCounts = countsOf(parsed.map((p) => p.parts.host));
    const pathIds = parsed.map(({ parts }) => `${parts.host}${parts.pathname}${parts.search}`);
    const pathCounts = countsOf(pathIds);
    const selected = parsed.map(({ url, parts }, i) => {
        const id = hostCounts.get(parts.host) === 1
            ? parts.host
            : pathCounts.get(pathIds[i]) === 1
                ? pathIds[i]
                : (0,_core_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .serverView */ .lP)(url);
        const line = lines[i];
        return {
            target: {
                id,
                region: undefined,
                url,
                machineId: undefined,
                state: undefined,
                ...(line ? { line } : {}),
            },
            disposition: 'update',
        };
    });
    return sortById(selected);
}
function countsOf(keys) {
    const counts = new Map();
    for (const key of keys)
        counts.set(key, (counts.get(key) ?? 0) + 1);
    return counts;
}
/** Code-point order: the same on every runner, so matrix jobs agree on who owns which target. */
function sortById(items) {
    return [...items].sort((a, b) => (a.target.id < b.target.id ? -1 : a.target.id > b.target.id ? 1 : 0));
}
/** Shard i of n takes every n-th target of the id-sorted list, starting at the i-th. */
function shardOf(items, shard) {
    const sorted = sortById(items);
    if (!shard)
        return sorted;
    return sorted.filter((_, position) => position % shard.count === shard.index - 1);
}
function noun(kind, count) {
    const word = kind === 'fly' ? 'machine' : 'host';
    return count === 1 ? word : `${word}s`;
}


/***/ }),

/***/ 59:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  Cs: () => (/* binding */ runAction)
});

// UNUSED EXPORTS: createContext, runPost

// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 14 modules
var lib_core = __webpack_require__(6421);
// EXTERNAL MODULE: ./src/core/cancellation.ts
var core_cancellation = __webpack_require__(3948);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./src/core/command-guard.ts

/**
 * Text we print but did not write (build output, check output, ssh output,
 * provider error bodies) must never act as a workflow command. The runner
 * (actions/runner src/Runner.Worker/ActionCommandManager.cs and
 * src/Runner.Common/ActionCommand.cs) reads every line of a step's stdout,
 * splitting at `\n`, `\r\n` and a lone `\r` (.NET `StreamReader.ReadLine`),
 * and obeys `::name::data` after trimming leading white space, or a legacy
 * `##[name]data` anywhere in the line. Between `::stop-commands::<token>` and
 * `::<token>::` it obeys nothing but that resume line.
 */
/**
 * Whether the runner could take some line of `text` as a command. Wider than
 * the runner's own test on purpose: any leading character outside visible
 * ASCII counts as white space here.
 */
function couldBeCommand(text) {
    return /(?:^|[\r\n])[^!-~\r\n]*::|##\[/.test(text);
}
/**
 * `text` as it must be printed: unchanged when no line of it could be a
 * command, else wrapped between `::stop-commands::<token>` and `::<token>::`.
 * The token is 128 random bits drawn for each wrap (the runner masks it in
 * the log), never derived from the text, and never one the text contains,
 * so the text cannot end the pause early.
 */
function guardCommands(text) {
    if (!couldBeCommand(text))
        return text;
    let token = randomToken();
    const lower = text.toLowerCase();
    while (lower.includes(token))
        token = randomToken();
    return `::stop-commands::${token}\n${text}\n::${token}::`;
}
function randomToken() {
    return `ops-${(0,external_node_crypto_.randomBytes)(16).toString('hex')}`;
}

// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/summary.ts
var summary = __webpack_require__(1363);
;// CONCATENATED MODULE: ./src/core/failure-summary.ts

/** A summary must stay short: a failed fan-out logs one event a target, shown as counts a step. */
const MAX_STEPS = 20;
const MAX_ERROR_CHARS = 2000;
/** Markdown with HTML tables; every value in it was redacted by the caller, the rest is our wording. */
function renderFailureSummary(report) {
    const error = report.error.length > MAX_ERROR_CHARS ? `${headOf(report.error)}…` : report.error;
    const parts = [
        // The title holds the user's values (an environment may be `prod <!--`): text, never markup.
        `## ${(0,summary/* escapeHtml */.ZD)(report.title)}: ${report.cancelled ? 'cancelled, ' : ''}failed`,
        '',
        (0,summary/* summaryTable */.jb)([], [['error', error]]),
        '',
    ];
    // The inputs step says only that the inputs were read; it is no work done.
    const steps = report.steps.filter((s) => s.step !== 'inputs');
    if (report.atInputs)
        parts.push('Nothing was sent or changed: the run stopped at its inputs.');
    else if (steps.length === 0)
        parts.push('No step had finished when the run failed.');
    else {
        parts.push('Steps before the failure, from the operations log (output `log-file`):', '', (0,summary/* summaryTable */.jb)(['step', 'outcome'], steps.slice(0, MAX_STEPS).map((s) => [s.step, describeOutcomes(s.outcomes)])));
        if (steps.length > MAX_STEPS)
            parts.push('', `… and ${steps.length - MAX_STEPS} more steps in the log.`);
    }
    parts.push('');
    return parts.join('\n');
}
/** `ok`, or with counts when a step logged several events: `9998 ok, 2 failed`. */
function describeOutcomes(outcomes) {
    const entries = Object.entries(outcomes);
    if (entries.length === 1 && entries[0]?.[1] === 1)
        return entries[0][0];
    return entries.map(([outcome, count]) => `${count} ${outcome}`).join(', ');
}
/**
 * The error's first MAX_ERROR_CHARS, cut before a `[REDACTED:…]` marker the cut would split (a
 * half marker reads as a value) and never between the two halves of a UTF-16 surrogate pair.
 */
function headOf(error) {
    let end = MAX_ERROR_CHARS;
    for (const m of error.matchAll(/\[REDACTED:[a-z0-9-]+\]/g))
        if (m.index < end && end < m.index + m[0].length)
            end = m.index;
    const code = error.charCodeAt(end);
    if (code >= 0xdc00 && code <= 0xdfff)
        end--;
    return error.slice(0, end);
}

// EXTERNAL MODULE: ./src/core/http.ts
var http = __webpack_require__(1983);
// EXTERNAL MODULE: ./src/core/inputs.ts
var inputs = __webpack_require__(9114);
// EXTERNAL MODULE: ./src/core/message.ts
var core_message = __webpack_require__(3252);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
;// CONCATENATED MODULE: ./src/core/oplog.ts



/** Fields whose values are the action's own words (a step name, an outcome), never third-party text. */
const OWN_WORDS = new Set(['step', 'outcome']);
class OpLog {
    path;
    action;
    redact;
    now;
    fd;
    /** Lines of this turn of the event loop while `batchTurns` is on; '' when none is held. */
    held = '';
    batching = false;
    /** Events so far by step and outcome, in the order each step first appeared. */
    counts = new Map();
    constructor(options) {
        this.path = options.path;
        this.action = options.action;
        this.redact = options.redact;
        this.now = options.now ?? (() => new Date());
        (0,external_node_fs_.mkdirSync)((0,external_node_path_.dirname)(this.path), { recursive: true });
    }
    /**
     * Appends one JSON line. The event's string values (but the step and outcome words)
     * are redacted before they are serialised, never the line: a secret the user named
     * (`e`, `"`) redacted inside the keys or the JSON syntax would leave a line no one can parse.
     */
    write(event) {
        const outcomes = this.counts.get(event.step) ?? new Map();
        outcomes.set(event.outcome, (outcomes.get(event.outcome) ?? 0) + 1);
        this.counts.set(event.step, outcomes);
        const head = JSON.stringify({ time: this.now().toISOString(), action: this.action });
        const fields = JSON.stringify(event, (key, value) => (typeof value === 'string' && !OWN_WORDS.has(key)) || value instanceof core_message/* Message */.QB
            ? this.redact(value)
            : value);
        const line = `${fields === '{}' ? head : `${head.slice(0, -1)},${fields.slice(1)}`}\n`;
        if (!this.batching) {
            this.append(line);
            return;
        }
        if (this.held === '')
            setImmediate(() => this.flush());
        this.held += line;
    }
    /**
     * From now until the returned function is called, the lines of one turn of the event
     * loop are appended together when the turn is over (`setImmediate`, well under a
     * millisecond later; at exit at the latest) instead of one write each: a fan-out logs
     * an event per target, and at 10 000 targets one write each was a fifteenth of its CPU
     * time (bench/config-update.ts). The returned function writes what is held and ends it.
     */
    batchTurns() {
        this.batching = true;
        const atExit = () => this.flush();
        process.once('exit', atExit);
        return () => {
            this.batching = false;
            this.flush();
            process.removeListener('exit', atExit);
        };
    }
    flush() {
        if (this.held === '')
            return;
        const text = this.held;
        this.held = '';
        this.append(text);
    }
    append(text) {
        // Opened once, on the first event, and kept (closed when the process exits): a fan-out
        // logs one event per target, and open-write-close each time was most of their cost.
        this.fd ??= (0,external_node_fs_.openSync)(this.path, 'a');
        (0,external_node_fs_.writeSync)(this.fd, text);
    }
    /**
     * What the run has logged so far, one entry a step in the order the step first appeared,
     * with how many of its events had each outcome (a fan-out logs one event a target).
     */
    tally() {
        return [...this.counts].map(([step, outcomes]) => ({ step, outcomes: Object.fromEntries(outcomes) }));
    }
    /** Runs one step and logs it with its outcome and duration, whether it returns or throws. */
    async step(step, ids, work) {
        const started = performance.now();
        try {
            const result = await work();
            this.write({ step, outcome: 'ok', durationMs: Math.round(performance.now() - started), ids });
            return result;
        }
        catch (error) {
            const detail = (0,core_message/* composedOf */.s5)(error);
            this.write({
                step,
                outcome: 'failed',
                durationMs: Math.round(performance.now() - started),
                ids,
                detail,
            });
            throw error;
        }
    }
}
function logFilePath(env, action, now = new Date()) {
    const dir = env.RUNNER_TEMP || env.TMPDIR || '/tmp';
    const stamp = now.toISOString().replace(/[:.]/g, '-');
    const run = [env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT].filter(Boolean).join('-') || String(process.pid);
    return `${dir}/ops-actions/${action}-${run}-${stamp}.jsonl`;
}

// EXTERNAL MODULE: ./src/core/redact.ts
var redact = __webpack_require__(2258);
;// CONCATENATED MODULE: ./src/core/secrets.ts

/**
 * Every secret input and every credential derived from one goes through here
 * before anything prints: the runner is told to mask it (core.setSecret), and
 * our own redactor removes it from what we write to files, summaries and errors,
 * which the runner's masking does not reach.
 *
 * The runner masks any non-empty value and registers each of its lines and its
 * base64, JSON and URI encodings itself (actions/runner
 * src/Runner.Worker/Handlers/OutputManager.cs and HostContext's SecretMasker
 * value encoders), so each value is sent to it once, as is: an encoded fragment
 * sent as a mask of its own would hide ordinary text in every later line of the
 * job. The encoded forms stay with our own redactor (`encodedForms`).
 */
class Secrets {
    redactor;
    mask;
    masked = new Set();
    constructor(mask, redactor = new redact/* Redactor */.pO()) {
        this.mask = mask;
        this.redactor = redactor;
    }
    /**
     * A value the user named a secret (a secret input, a `redact` line, a
     * `redact.env` variable, a credential in a URL input): masked and redacted
     * whatever its length or look. Only the whole value goes to the runner;
     * its encodings (`encodedForms`) and `spellings` (texts that carry it in
     * another form, e.g. a URL password as typed, percent-encoded) go to our
     * own redactor only.
     */
    add(value, kind = 'secret', spellings = []) {
        if (!value)
            return;
        this.redactor.addLiteral(value, kind, spellings);
        if (this.masked.has(value))
            return;
        this.masked.add(value);
        // The runner masks each line of a multi-line value on its own: those need no mask of their own.
        for (const line of value.split(/\r?\n/))
            this.masked.add(line);
        this.mask(value);
    }
    /**
     * A value guessed to be secret from where it was found (a variable whose name
     * says so): added unless it is trivial (`isTrivialValue`), since masking
     * `true` or `3` would shred every later line of the job.
     */
    addGuessed(value, kind = 'secret') {
        if (value && !isTrivialValue(value))
            this.add(value, kind);
    }
    redact(text) {
        return this.redactor.redact(text);
    }
}
/** Variable names that say their value is a secret. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|DSN/i;
/**
 * Values too common to be secrets, even under a secret-looking name (`API_KEY=true`,
 * `MAX_KEYS=10`): masking them would shred every log line that mentions them. A
 * number of four digits or more under such a name may well be a PIN and is kept.
 */
function isTrivialValue(value) {
    const v = value.trim();
    return v.length < 4 || /^(?:true|false|yes|no|on|off|null|none|undefined)$/i.test(v);
}
/**
 * Plain values carry nothing secret: a word or a number (`production`, `eu`,
 * `3`, `1.5`), a host name (`tati.shibari.photo`), or an http(s) URL without
 * userinfo and without a secret query parameter (`https://tati.shibari.photo/a`).
 */
function isPlainValue(value) {
    const v = value.trim();
    if (/^[A-Za-z]+(?:[-_.][A-Za-z]+)*$/.test(v) || /^\d+(?:\.\d+)?$/.test(v))
        return true;
    if (/^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(v))
        return true;
    if (!/^https?:\/\/[^\s]+$/i.test(v))
        return false;
    try {
        const url = new URL(v);
        return url.username === '' && url.password === '' && urlSecrets(v).length === 0;
    }
    catch {
        return false;
    }
}
/**
 * Whether a config value found on an app is guessed to be a secret: a
 * non-trivial value of a secret-named variable, and any other value unless it
 * is trivial or plain (`isPlainValue`). Masking `production` or an asset host
 * would make the runner hide that word in every later line of the job,
 * outputs of ours included.
 */
function isSecretConfigValue(name, value) {
    if (isTrivialValue(value))
        return false;
    return SECRET_NAME.test(name) || !isPlainValue(value);
}
/**
 * Whether a config value the user gave (a `config` override line) is a secret:
 * under a secret-named key the user named it one, so any value but a yes/no
 * word counts, whatever its length (`DB_PASSWORD=54321`); under any other key
 * it is guessed as for values found on an app (`isSecretConfigValue`).
 */
function isSecretOverride(name, value) {
    const v = value.trim();
    if (SECRET_NAME.test(name))
        return v !== '' && !/^(?:true|false|yes|no|on|off|null|none)$/i.test(v);
    return isSecretConfigValue(name, value);
}
/** Query parameters whose value is a credential: presigned-URL signatures and tokens. */
const SECRET_PARAM = /^(?:x-amz-signature|x-amz-security-token|x-goog-signature|signature|sig|token|access_token|refresh_token|id_token|api[_-]?key|apikey|client_secret|secret|password|passwd)$/i;
/**
 * The credentials a URL carries, decoded: its userinfo password (spelled too
 * as typed, and as `user:password` in base64, as Basic auth sends it; a
 * username alone when there is no password), and the values of secret query
 * parameters (`SECRET_PARAM`, spelled too as typed). Empty for a URL that does
 * not parse.
 */
function urlSecrets(value) {
    let url;
    try {
        url = new URL(value.trim());
    }
    catch {
        return [];
    }
    const out = [];
    const others = (decoded, typed) => typed.filter((t) => t !== decoded);
    if (url.password) {
        const user = safeDecode(url.username);
        const password = safeDecode(url.password);
        out.push({
            value: password,
            spellings: [...others(password, [url.password]), Buffer.from(`${user}:${password}`).toString('base64')],
        });
    }
    else if (url.username) {
        const user = safeDecode(url.username);
        out.push({ value: user, spellings: others(user, [url.username]) });
    }
    for (const pair of url.search.slice(1).split('&')) {
        const at = pair.indexOf('=');
        if (at <= 0)
            continue;
        const name = safeDecode(pair.slice(0, at).replace(/\+/g, ' '));
        const typed = pair.slice(at + 1);
        const decoded = safeDecode(typed.replace(/\+/g, ' '));
        if (decoded && SECRET_PARAM.test(name))
            out.push({ value: decoded, spellings: others(decoded, [typed]) });
    }
    return out;
}
function safeDecode(text) {
    try {
        return decodeURIComponent(text);
    }
    catch {
        return text;
    }
}

// EXTERNAL MODULE: ./src/core/undici.ts + 1 modules
var undici = __webpack_require__(1263);
;// CONCATENATED MODULE: ./src/core/action.ts











async function runAction(definition, env = process.env, toolkit = lib_core) {
    const ctx = createContext(definition.action, env, toolkit);
    let settings;
    let running = false;
    try {
        for (const name of definition.secretInputs)
            ctx.secrets.add(ctx.inputs.raw(name), 'secret');
        // A proxy URL's credentials (HTTPS_PROXY=http://user:password@host:port) never reach what we
        // write; the runner set them, so masking them in its log is its own business.
        for (const name of undici/* PROXY_VARIABLES */.bD)
            for (const { value, spellings } of urlSecrets(env[name] ?? ''))
                ctx.secrets.redactor.addLiteral(value, 'proxy', spellings);
        ctx.setOwnOutput('log-file', ctx.log.path);
        let parsed;
        try {
            // Checked up front so a bad value fails the step before any request, like a bad input.
            (0,http/* requestTimeoutFromEnv */.Mb)(env);
            parsed = definition.parseInputs(ctx.inputs);
            for (const secret of definition.derivedSecrets?.(parsed) ?? [])
                if (typeof secret === 'object')
                    ctx.secrets.add(secret.value, 'secret', secret.spellings);
                else
                    ctx.secrets.add(secret, 'secret');
            settings = parsed;
        }
        finally {
            // The runner's cancel wins over a bad input: the user stopped the run, whatever its inputs.
            await stopIfCancelled(ctx.cancellation);
        }
        ctx.log.write({ step: 'inputs', outcome: 'ok' });
        running = true;
        await definition.run(parsed, ctx);
    }
    catch (error) {
        // Our words whole, each value redacted (core/message.ts).
        const message = (0,core_message/* redactMessage */.b6)((0,core_message/* composedOf */.s5)(error), ctx.secrets.redactor);
        // A failed run sets them even when it wrote its own summary (evidence cancelled mid-checks).
        for (const [name, value] of Object.entries(definition.failureOutputs ?? {}))
            if (!ctx.hasSetOutput(name))
                ctx.setOwnOutput(name, value);
        if (!ctx.hasWrittenSummary())
            await summarizeFailure(definition, ctx, settings, running, error, message);
        failWith(ctx, error, message);
    }
    finally {
        await (0,undici/* closeUndici */.HS)();
    }
}
/**
 * Throws a `CancelledError` when SIGINT or SIGTERM came before the run sent anything: while the
 * bundle loaded (core/received-signals.ts) or while the inputs were read. A signal that came
 * during that synchronous work is handed to its listener on the event loop's next turn only,
 * hence the wait for one.
 */
async function stopIfCancelled(cancellation) {
    await new Promise((resolve) => setImmediate(resolve));
    if (cancellation.signal.aborted)
        throw new core_cancellation/* CancelledError */.cc((0,core_cancellation/* cancelSignalName */.EJ)(cancellation.signal), (0,core_message/* own */.ZV)('before anything was sent or changed'));
}
/** A `post:` entry: failures there become warnings, as the main step already reported. */
async function runPost(action, work, env = process.env, toolkit = core) {
    const ctx = createContext(`${action}-post`, env, toolkit);
    try {
        await work(ctx);
    }
    catch (error) {
        ctx.warning(msg `post step: ${error}`);
    }
}
/** `env` is where the run reads its own settings (RUNNER_TEMP, GITHUB_*); the toolkit reads the process's. */
function createContext(action, env, toolkit = lib_core, cancellation = (0,core_cancellation/* processCancellation */.xo)()) {
    const secrets = new Secrets((value) => toolkit.setSecret(value));
    const redact = (line) => (0,core_message/* redactMessage */.b6)(line, secrets.redactor);
    const log = new OpLog({ path: logFilePath(env, action), action, redact });
    let summaryWritten = false;
    const outputsSet = new Set();
    return {
        action,
        inputs: new inputs/* InputReader */.i_((name) => toolkit.getInput(name), (0,inputs/* workspaceFiles */.PZ)(env.GITHUB_WORKSPACE)),
        secrets,
        log,
        env,
        toolkit,
        // Every line we print may carry third-party text: it is shown, never obeyed as a command.
        info: (line) => toolkit.info(guardCommands(redact(line))),
        warning: (line) => toolkit.warning(redact(line)),
        notice: (line) => toolkit.notice(redact(line)),
        setOutput: (name, value) => {
            outputsSet.add(name);
            toolkit.setOutput(name, redact(typeof value === 'string' || value instanceof core_message/* Message */.QB ? value : JSON.stringify(value)));
        },
        setOwnOutput: (name, value) => {
            outputsSet.add(name);
            toolkit.setOutput(name, value);
        },
        writeSummary: async (markdown, options) => {
            summaryWritten = true;
            if (!env.GITHUB_STEP_SUMMARY)
                return;
            // The summary only reports the run: a file that cannot be written neither fails a run
            // that worked nor replaces the error of one that did not.
            try {
                await toolkit.summary.addRaw(options?.fromRedactedData ? markdown : redact(markdown), true).write();
            }
            catch (error) {
                toolkit.warning(redact((0,core_message/* msg */.ab) `job summary not written: ${error}`));
            }
        },
        hasWrittenSummary: () => summaryWritten,
        hasSetOutput: (name) => outputsSet.has(name),
        saveState: (name, value) => toolkit.saveState(name, value),
        getState: (name) => toolkit.getState(name),
        cancellation,
    };
}
/** The one summary of a run that failed before writing its own. */
async function summarizeFailure(definition, ctx, settings, running, error, message) {
    const redact = (text) => ctx.secrets.redact(text);
    const title = settings !== undefined && definition.failureTitle
        ? definition.failureTitle(settings, redact)
        : definition.action;
    const markdown = renderFailureSummary({
        title,
        cancelled: (0,core_cancellation/* isCancelled */.mm)(error),
        error: message,
        atInputs: !running,
        steps: ctx.log.tally(),
    });
    await ctx.writeSummary(markdown, { fromRedactedData: true });
}
function failWith(ctx, error, message) {
    // Already redacted: redacting it again whole would cut the words the first pass kept.
    ctx.log.write({ step: failedStep(error), outcome: 'failed', detail: (0,core_message/* own */.ZV)(message) });
    if (!(0,errors/* isExpectedError */.BI)(error) && error instanceof Error && error.stack) {
        ctx.toolkit.debug(ctx.secrets.redact(error.stack));
    }
    ctx.toolkit.setFailed(message);
}
function failedStep(error) {
    if (error instanceof errors/* InputError */.dz || error instanceof errors/* EnvironmentError */.eG)
        return 'inputs';
    if (error instanceof core_cancellation/* CancelledError */.cc)
        return 'cancelled';
    if (error instanceof errors/* StepError */.zg)
        return error.step;
    if (error instanceof errors/* ApiError */.hD)
        return error.operation;
    return 'run';
}


/***/ }),

/***/ 3948:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   EJ: () => (/* binding */ cancelSignalName),
/* harmony export */   cc: () => (/* binding */ CancelledError),
/* harmony export */   mm: () => (/* binding */ isCancelled),
/* harmony export */   xo: () => (/* binding */ processCancellation)
/* harmony export */ });
/* unused harmony exports RUNNER_SIGINT_GRACE_MS, CLEANUP_BUDGET_MS, RECORD_BUDGET_MS, FORCED_EXIT_MS, watchCancellation, untilAborted, manualCancellation */
/* harmony import */ var _message_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3252);
/* harmony import */ var _received_signals_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(5340);


/**
 * Cancellation as the GitHub runner does it: "Cancel workflow" sends SIGINT to
 * `node`; a step still running 7.5 s later gets SIGTERM, and 2.5 s after that
 * the process tree is killed (actions/runner, src/Runner.Sdk/ProcessInvoker.cs,
 * `CancelAndKillProcessTree`: `_sigintTimeout` 7.5 s, `_sigtermTimeout` 2.5 s).
 * Post steps with `post-if: always()` still run afterwards.
 *
 * The first SIGINT or SIGTERM aborts `signal`: every action stops starting new
 * work, and its clean-up (releasing leases and locks, sending back the
 * previous version, recording the outcome) runs under `cleanupSignal`, which
 * ends well inside the runner's 7.5 s. Whatever is not done by then is left to
 * the post step; at `FORCED_EXIT_MS` the process exits non-zero on its own.
 * A signal that came while the bundle was still loading counts from when it
 * came (core/received-signals.ts): the run then starts cancelled.
 */
/** What the runner allows between SIGINT and SIGTERM, in ms. */
const RUNNER_SIGINT_GRACE_MS = 7500;
/** Clean-up that changes things (restores, lease and lock releases) ends this long after the signal. */
const CLEANUP_BUDGET_MS = 4500;
/** Recording the outcome (deployment status, summary) ends this long after the signal. */
const RECORD_BUDGET_MS = 6500;
/** Last resort: the process exits non-zero this long after the signal, before the runner's SIGTERM. */
const FORCED_EXIT_MS = 7100;
class CancelledError extends Error {
    signalName;
    /** What was done before stopping, as given. */
    detail;
    composed;
    /**
     * `detail` says what was done before stopping, e.g. `2 unit(s) changed, 2 sent back`; a
     * `Message` keeps our words apart from its values, a plain string is redacted whole.
     */
    constructor(signalName, detail) {
        const given = detail ? (typeof detail === 'string' ? (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .outside */ .qY)(detail) : detail) : undefined;
        const composed = (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `cancelled (${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(signalName)})${given ? (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `: ${given}` : ''}`;
        super(String(composed));
        this.name = 'CancelledError';
        this.signalName = signalName;
        this.detail = given;
        this.composed = composed;
    }
}
/** `SIGINT` or `SIGTERM` for an aborted cancellation signal, `signal` otherwise. */
function cancelSignalName(signal) {
    return signal.reason instanceof CancelledError ? signal.reason.signalName : 'signal';
}
/** True for a `CancelledError`, or an error caused (at any depth) by one. */
function isCancelled(error) {
    for (let e = error, depth = 0; e && depth < 8; e = e.cause, depth++)
        if (e instanceof CancelledError)
            return true;
    return false;
}
/**
 * Listens for SIGINT and SIGTERM on `source` (this process's, those received while the bundle
 * loaded included, by default). `onForcedExit` runs `FORCED_EXIT_MS` after the first signal
 * arrived when the process is still alive (unref'd timer).
 */
function watchCancellation(source = _received_signals_js__WEBPACK_IMPORTED_MODULE_1__/* .receivedSignals */ .j, onForcedExit = () => process.exit(process.exitCode || 1)) {
    const controller = new AbortController();
    let at;
    const cancel = (name, receivedAt = performance.now()) => {
        if (at !== undefined)
            return;
        at = receivedAt;
        controller.abort(new CancelledError(name));
        setTimeout(onForcedExit, Math.max(0, FORCED_EXIT_MS - (performance.now() - at))).unref();
    };
    source.once('SIGINT', (receivedAt) => cancel('SIGINT', receivedAt));
    source.once('SIGTERM', (receivedAt) => cancel('SIGTERM', receivedAt));
    return fromController(controller, () => at);
}
/**
 * Settles as `work` does, or rejects with the signal's reason once it aborts — the work itself is
 * left to finish or not (for calls that take no signal of their own).
 */
function untilAborted(work, signal) {
    if (!signal)
        return work;
    if (signal.aborted)
        return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
}
let ofProcess;
/**
 * The one cancellation of this process: its SIGINT/SIGTERM listeners are installed once, by the
 * bundle's entry; already aborted when a signal came before.
 */
function processCancellation() {
    ofProcess ??= watchCancellation();
    return ofProcess;
}
/** A cancellation that only `cancel()` triggers: for tests and for code run outside a step. */
function manualCancellation() {
    const controller = new AbortController();
    let at;
    return {
        ...fromController(controller, () => at),
        cancel(name = 'SIGINT') {
            if (at !== undefined)
                return;
            at = performance.now();
            controller.abort(new CancelledError(name));
        },
    };
}
function fromController(controller, at) {
    const signal = controller.signal;
    return {
        signal,
        within: (ms) => AbortSignal.any([signal, AbortSignal.timeout(ms)]),
        cleanupSignal(budgetMs = CLEANUP_BUDGET_MS) {
            const cleanup = new AbortController();
            const arm = () => {
                const left = budgetMs - (performance.now() - at());
                if (left <= 0)
                    cleanup.abort(signal.reason);
                else
                    setTimeout(() => cleanup.abort(signal.reason), left).unref();
            };
            if (signal.aborted)
                arm();
            else
                signal.addEventListener('abort', arm, { once: true });
            return cleanup.signal;
        },
        elapsedMs: () => {
            const t = at();
            return t === undefined ? undefined : performance.now() - t;
        },
    };
}


/***/ }),

/***/ 1915:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   BI: () => (/* binding */ isExpectedError),
/* harmony export */   bD: () => (/* binding */ messageOf),
/* harmony export */   dz: () => (/* binding */ InputError),
/* harmony export */   eG: () => (/* binding */ EnvironmentError),
/* harmony export */   hD: () => (/* binding */ ApiError),
/* harmony export */   zg: () => (/* binding */ StepError)
/* harmony export */ });
/* harmony import */ var _message_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3252);

/**
 * The three kinds of failure every action reports, and the one place that turns
 * any thrown value into the single `::error::` line a user reads. Each message is
 * composed as a `Message` (`composed`): our words apart from the values, which
 * are redacted one by one when it is shown (core/message.ts).
 */
function asMessage(line) {
    return typeof line === 'string' ? (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .outside */ .qY)(line) : line;
}
/** A bad or missing input, raised before any request is sent. */
class InputError extends Error {
    input;
    /** The message without the input's name: what is wrong and what is allowed. */
    problem;
    composed;
    /** `problem`: a `Message` keeps our words apart from the values; a plain string is redacted whole. */
    constructor(input, problem) {
        const composed = (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `Input '${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(input)}' ${asMessage(problem)}`;
        super(String(composed));
        this.name = 'InputError';
        this.input = input;
        this.problem = String(problem);
        this.composed = composed;
    }
}
/** A bad value in an environment variable that tunes every action, raised before any request. */
class EnvironmentError extends Error {
    variable;
    composed;
    constructor(variable, problem) {
        const composed = (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `Environment variable ${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(variable)} ${asMessage(problem)}`;
        super(String(composed));
        this.name = 'EnvironmentError';
        this.variable = variable;
        this.composed = composed;
    }
}
/** A provider request that failed after the retries it was allowed. */
class ApiError extends Error {
    provider;
    operation;
    request;
    status;
    requestId;
    body;
    providerMessage;
    retryable;
    attempts;
    hint;
    refusedCredential;
    composed;
    constructor(details) {
        const composed = describeApiError(details);
        super(String(composed), details.cause === undefined ? undefined : { cause: details.cause });
        this.composed = composed;
        this.name = 'ApiError';
        this.provider = details.provider;
        this.operation = details.operation;
        this.request = details.request;
        this.status = details.status;
        this.requestId = details.requestId;
        this.body = details.body;
        this.providerMessage =
            details.providerMessage === undefined ? undefined : String(details.providerMessage);
        this.retryable = details.retryable;
        this.attempts = details.attempts;
        this.hint = details.hint === undefined ? undefined : String(details.hint);
        this.refusedCredential = details.refusedCredential;
    }
}
function describeApiError(d) {
    if (d.refusedCredential)
        return describeRefusal(d, d.refusedCredential);
    const provider = (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(d.provider);
    const parts = [
        d.status === undefined
            ? (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${provider} ${d.request} failed`
            : (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${provider} answered ${d.request} with HTTP ${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(d.status)}`,
    ];
    const reason = d.providerMessage ?? d.body ?? (d.cause instanceof Error ? (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .composedOf */ .s5)(d.cause) : undefined);
    if (reason)
        parts.push((0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `: ${reason}`);
    const extra = [];
    if (d.attempts > 1)
        extra.push((0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(d.attempts)} attempts`);
    if (d.requestId)
        extra.push((0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `request id ${d.requestId}`);
    if (extra.length > 0)
        parts.push((0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) ` (${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .joinMessages */ .hw)(extra, ', ')})`);
    if (d.hint)
        parts.push((0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `. ${d.hint}`);
    return (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .joinMessages */ .hw)(parts, '');
}
/** `heroku-api-key was refused by Heroku (401: Invalid credentials provided)`. */
function describeRefusal(d, credential) {
    const reason = d.providerMessage ?? d.body;
    const status = d.status === undefined ? (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `` : (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(d.status)}${reason ? (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(': ') : ''}`;
    const detail = (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${status}${reason ?? ''}`;
    const parts = [
        (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(credential)} was refused by ${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)(d.provider)}${String(detail) ? (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) ` (${detail})` : ''}`,
    ];
    if (d.requestId)
        parts.push((0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `; request id ${d.requestId}`);
    if (d.hint)
        parts.push((0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `. ${d.hint}`);
    return (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .joinMessages */ .hw)(parts, '');
}
/**
 * A step of an action's plan that failed. The message says, in the user's terms, what was
 * being done to which resource (`doing`: "create Heroku app tati", read as "Could not create
 * Heroku app tati: …"); the step's id (`app.create`) goes only to the operations log.
 */
class StepError extends Error {
    step;
    /** What was being done, composed (`msg\`create Heroku app ${name}\``); a plain string is redacted whole. */
    doing;
    composed;
    constructor(step, doing, cause) {
        const composed = (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .msg */ .ab) `Could not ${asMessage(doing)}: ${(0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .composedOf */ .s5)(cause)}`;
        super(String(composed), { cause });
        this.name = 'StepError';
        this.step = step;
        this.doing = doing;
        this.composed = composed;
    }
}
/** The message of anything thrown, as plain text (not redacted); `composedOf` keeps its pieces. */
function messageOf(error) {
    return String((0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .composedOf */ .s5)(error));
}
/** Errors the action itself raised on purpose, as opposed to programming errors. */
function isExpectedError(error) {
    return (error instanceof InputError ||
        error instanceof ApiError ||
        error instanceof StepError ||
        error instanceof EnvironmentError);
}


/***/ }),

/***/ 1983:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Mb: () => (/* binding */ requestTimeoutFromEnv),
/* harmony export */   Mf: () => (/* binding */ abortableSleep),
/* harmony export */   Qq: () => (/* binding */ HttpClient)
/* harmony export */ });
/* unused harmony exports REQUEST_TIMEOUT_VARIABLE, DEFAULT_REQUEST_TIMEOUT_MS, isRefusal, requestLine, buildUrl, providerMessage, excerpt, errorCode, attemptSignal */
/* harmony import */ var _cancellation_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3948);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1915);
/* harmony import */ var _message_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3252);
/* harmony import */ var _rate_limit_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(2743);
/* harmony import */ var _retry_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(7253);
/* harmony import */ var _undici_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(1263);






const REQUEST_ID_HEADERS = [
    'request-id',
    'x-request-id',
    'fly-request-id',
    'x-github-request-id',
    'cf-ray',
    'x-correlation-id',
];
const BODY_EXCERPT_CHARS = 300;
/**
 * Per-attempt timeout, in seconds, of every provider API call of every action
 * that does not set its own (a long poll does): a run whose provider answers
 * slowly or not at all gives up on an attempt sooner, or later, than 30 s.
 */
const REQUEST_TIMEOUT_VARIABLE = 'OPS_ACTIONS_REQUEST_TIMEOUT';
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const MAX_REQUEST_TIMEOUT_SECONDS = 3600;
/** The default per-attempt timeout in ms: `OPS_ACTIONS_REQUEST_TIMEOUT` seconds, else 30 s. */
function requestTimeoutFromEnv(env = process.env) {
    const raw = env[REQUEST_TIMEOUT_VARIABLE]?.trim();
    if (!raw)
        return DEFAULT_REQUEST_TIMEOUT_MS;
    const seconds = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(seconds > 0 && seconds <= MAX_REQUEST_TIMEOUT_SECONDS))
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .EnvironmentError */ .eG(REQUEST_TIMEOUT_VARIABLE, `must be a number of seconds above 0 and at most ${MAX_REQUEST_TIMEOUT_SECONDS} (the per-attempt timeout of provider API calls), not "${raw}"`);
    return Math.round(seconds * 1000);
}
const USER_AGENT = 'ops-actions/0.1';
const UTF8 = new TextDecoder();
class HttpClient {
    provider;
    options;
    policy;
    defaultTimeoutMs;
    waitScale;
    /** The last answer's headers, for pacing a shared key (`RateLimit-Remaining`). */
    lastHeaders;
    pacingLogged = false;
    constructor(options) {
        this.options = options;
        this.provider = options.provider;
        this.policy = { ..._retry_js__WEBPACK_IMPORTED_MODULE_4__/* .DEFAULT_RETRY_POLICY */ .cO, ...options.retry };
        this.defaultTimeoutMs = options.timeoutMs ?? requestTimeoutFromEnv(options.env);
        this.waitScale = (0,_rate_limit_js__WEBPACK_IMPORTED_MODULE_3__/* .waitScaleFromEnv */ .Bi)(options.env);
    }
    async request(req) {
        const method = (req.method ?? 'GET').toUpperCase();
        const url = buildUrl(this.options.baseUrl, req.path, req.query);
        const policy = req.retries === undefined ? this.policy : { ...this.policy, retries: req.retries };
        const { body, headers } = this.prepare(req);
        const sleep = this.options.sleep ?? abortableSleep;
        const outer = req.signal ?? this.options.signal;
        const named = { operation: req.operation, request: this.options.redact(requestLine(method, url)) };
        const waits = { slept: 0, limited: 0 };
        let failures = 0;
        for (let attempt = 1;; attempt++) {
            throwIfCancelled(outer, this.provider, named, attempt - 1);
            if (this.lastHeaders)
                await this.pace(named, attempt, waits, outer, sleep);
            let outcome;
            let failure;
            try {
                const res = await this.attempt(method, url, headers, body, req.timeoutMs, outer, req.binary);
                if (this.options.rateLimit?.pace)
                    this.lastHeaders = res.headers;
                const accepted = (res.status >= 200 && res.status < 300) || req.acceptStatus?.includes(res.status);
                if (accepted)
                    return { ...res, attempts: attempt, request: named.request };
                const limit = this.options.rateLimit?.limited({ status: res.status, headers: res.headers, body: res.data, request: named.request }, waits.limited + 1, Date.now(), this.options.random ?? Math.random);
                if (limit) {
                    waits.limited++;
                    // The wait refills the key more than pacing would: no pause on top of it.
                    this.lastHeaders = undefined;
                    await this.rateLimitWait(limit, named, attempt, waits, res, outer, sleep);
                    continue;
                }
                outcome = {
                    kind: 'status',
                    status: res.status,
                    retryAfter: res.headers['retry-after'],
                    refusedRetryable: this.options.isRefusedRetryable?.(res.status, res.data),
                };
                if (this.options.isRetryable &&
                    !this.options.isRetryable(res.status, res.data) &&
                    !outcome.refusedRetryable)
                    throw this.apiError(named, attempt, { status: res.status, text: res.text, headers: res.headers }, outcome);
                failure = { status: res.status, text: res.text, headers: res.headers };
            }
            catch (error) {
                if (error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ApiError */ .hD)
                    throw error;
                throwIfCancelled(outer, this.provider, named, attempt);
                outcome = isTimeout(error) ? { kind: 'timeout' } : { kind: 'network', code: errorCode(error) };
                failure = {
                    cause: outcome.kind === 'timeout'
                        ? new _message_js__WEBPACK_IMPORTED_MODULE_2__/* .ComposedError */ .vf((0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `no answer within ${(0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .own */ .ZV)(this.timeoutOf(req))} ms`)
                        : error,
                };
            }
            failures++;
            const decision = (0,_retry_js__WEBPACK_IMPORTED_MODULE_4__/* .decideRetry */ .tE)({
                attempt: failures,
                method,
                retrySafe: req.retrySafe,
                outcome,
                policy,
                random: this.options.random ?? Math.random,
            });
            if (!decision.retry)
                throw this.apiError(named, attempt, failure, outcome);
            const backoff = {
                waitMs: decision.delayMs,
                limit: (0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `${describeOutcome(outcome)} (retry ${(0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .own */ .ZV)(failures)} of ${(0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .own */ .ZV)(policy.retries)})`,
            };
            const verdict = this.judge(backoff, waits);
            if (!verdict.wait)
                throw this.apiError(named, attempt, failure, outcome, (0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `Not retried: ${verdict.over}.`);
            (req.onRetry ?? this.options.onRetry)?.({
                provider: this.provider,
                ...named,
                attempt,
                delayMs: decision.delayMs,
                reason: describeOutcome(outcome),
            });
            this.options.log?.((0,_rate_limit_js__WEBPACK_IMPORTED_MODULE_3__/* .retryLine */ .Rn)(this.provider, named.request, backoff));
            await this.sleepFor(backoff, verdict.sleepMs, waits, outer, sleep);
        }
    }
    /** Every wait of a request is judged against the one bound: the action's deadline or wait budget. */
    judge(wait, waits) {
        return (0,_rate_limit_js__WEBPACK_IMPORTED_MODULE_3__/* .judgeWait */ .vV)({
            provider: this.provider,
            wait,
            sleptMs: waits.slept,
            bound: this.options.waitBound ?? _rate_limit_js__WEBPACK_IMPORTED_MODULE_3__/* .DEFAULT_WAIT_BOUND */ .h4,
            now: Date.now(),
            scale: this.waitScale,
        });
    }
    /** Sleeps a judged wait; the request's signal (cancellation, deadline) cuts it, and the loop then stops. */
    async sleepFor(wait, sleepMs, waits, outer, sleep) {
        waits.slept += wait.waitMs;
        await sleep(sleepMs, outer).catch(() => undefined);
    }
    /** Waits out one rate-limited answer, or fails at once when the wait would pass the bound. */
    async rateLimitWait(limit, named, attempts, waits, failed, outer, sleep) {
        const most = this.options.rateLimit?.maxLimited ?? _rate_limit_js__WEBPACK_IMPORTED_MODULE_3__/* .MAX_LIMITED_ANSWERS */ .Un;
        const verdict = waits.limited >= most
            ? {
                wait: false,
                reason: (0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `rate limited by ${(0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .own */ .ZV)(this.provider)} ${(0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .own */ .ZV)(waits.limited)} times in a row (${limit.limit})`,
            }
            : this.judge(limit, waits);
        if (!verdict.wait) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ApiError */ .hD({
                provider: this.provider,
                ...named,
                status: failed.status,
                requestId: requestIdOf(failed.headers),
                providerMessage: verdict.reason,
                retryable: true,
                attempts,
            });
        }
        this.options.log?.((0,_rate_limit_js__WEBPACK_IMPORTED_MODULE_3__/* .waitLine */ .Aw)(this.provider, limit, named.operation));
        await this.sleepFor(limit, verdict.sleepMs, waits, outer, sleep);
    }
    /** A pause before sending when the last answer says the shared key is running low (logged once per client). */
    async pace(named, attempt, waits, outer, sleep) {
        const pause = this.lastHeaders && this.options.rateLimit?.pace?.(this.lastHeaders);
        if (!pause)
            return;
        const verdict = this.judge(pause, waits);
        if (!verdict.wait)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ApiError */ .hD({
                provider: this.provider,
                ...named,
                providerMessage: verdict.reason,
                retryable: true,
                attempts: attempt - 1,
            });
        if (!this.pacingLogged)
            this.options.log?.((0,_rate_limit_js__WEBPACK_IMPORTED_MODULE_3__/* .waitLine */ .Aw)(this.provider, pause, named.operation));
        this.pacingLogged = true;
        await this.sleepFor(pause, verdict.sleepMs, waits, outer, sleep);
    }
    timeoutOf(req) {
        return req.timeoutMs ?? this.defaultTimeoutMs;
    }
    prepare(req) {
        const headers = {
            'user-agent': USER_AGENT,
            ...this.options.headers,
            ...req.headers,
        };
        if (req.json !== undefined) {
            headers['content-type'] ??= 'application/json';
            return { body: JSON.stringify(req.json), headers };
        }
        return { body: req.body, headers };
    }
    async attempt(method, url, headers, body, timeoutMs, outer, binary = false) {
        const { exchange } = await (0,_undici_js__WEBPACK_IMPORTED_MODULE_5__/* .loadUndici */ .b7)();
        const limit = attemptSignal(outer, timeoutMs ?? this.defaultTimeoutMs);
        try {
            const res = await exchange(url, {
                method: method,
                headers,
                body,
                signal: limit.signal,
                dispatcher: this.options.dispatcher,
            });
            const bytes = binary ? res.body : undefined;
            // As undici's `body.text()`: UTF-8, a leading byte order mark dropped.
            const text = bytes ? bytes.toString('utf8') : UTF8.decode(res.body);
            const flat = flattenHeaders(res.headers);
            return {
                status: res.statusCode,
                headers: flat,
                text,
                ...(bytes ? { bytes } : {}),
                data: parseJson(text, flat['content-type']),
                requestId: requestIdOf(flat),
            };
        }
        finally {
            limit.release();
        }
    }
    apiError(named, attempts, failure, outcome, hint) {
        const redact = this.options.redact;
        const text = failure.text ?? '';
        const message = providerMessage(text);
        return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ApiError */ .hD({
            provider: this.provider,
            ...named,
            status: failure.status,
            requestId: failure.headers ? requestIdOf(failure.headers) : undefined,
            // Redacted whole, then cut: a secret past the cut would otherwise leave its head behind.
            body: text ? excerpt(redact(text)) : undefined,
            providerMessage: message ? excerpt(redact(message)) : undefined,
            retryable: outcome.kind !== 'status' || outcome.status >= 500 || outcome.status === 429,
            attempts,
            refusedCredential: isRefusal(failure.status, failure.headers) ? this.options.credential : undefined,
            cause: failure.cause === undefined ? undefined : redactedCause(failure.cause, redact),
            ...(hint ? { hint } : {}),
        });
    }
}
/** 401 always means the credential; 403 does unless it is a rate limit (GitHub, Heroku answer those with 403 too). */
function isRefusal(status, headers = {}) {
    if (status === 401)
        return true;
    if (status !== 403)
        return false;
    return headers['x-ratelimit-remaining'] !== '0' && headers['retry-after'] === undefined;
}
/** `POST /v1/apps/smooth/machines`: the method and the URL's path, without host or query. */
function requestLine(method, url) {
    return `${method.toUpperCase()} ${URL.parse(url)?.pathname ?? url.split('?')[0]}`;
}
function buildUrl(baseUrl, path, query) {
    const joined = /^https?:\/\//i.test(path)
        ? path
        : `${baseUrl.replace(/\/+$/, '')}${path.startsWith('/') ? '' : '/'}${path}`;
    if (!query)
        return joined;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
        if (value !== undefined)
            params.append(key, String(value));
    const qs = params.toString();
    if (qs === '')
        return joined;
    return `${joined}${joined.includes('?') ? '&' : '?'}${qs}`;
}
/** The provider's own error message from its error body, whichever shape it uses. */
function providerMessage(text) {
    let body;
    try {
        body = JSON.parse(text);
    }
    catch {
        return undefined;
    }
    if (!body || typeof body !== 'object')
        return undefined;
    const b = body;
    if (typeof b.message === 'string')
        return b.message;
    if (typeof b.error === 'string')
        return b.error;
    if (b.error && typeof b.error === 'object') {
        const e = b.error;
        if (typeof e.message === 'string')
            return typeof e.code === 'string' ? `${e.code}: ${e.message}` : e.message;
    }
    if (Array.isArray(b.errors) && b.errors.length > 0) {
        return b.errors
            .map((e) => e && typeof e === 'object' && 'message' in e
            ? String(e.message)
            : String(e))
            .join('; ');
    }
    return undefined;
}
/** One line of at most 300 characters; cut only text that is already redacted. */
function excerpt(text) {
    const oneLine = text.replace(/\s+/g, ' ').trim();
    return oneLine.length > BODY_EXCERPT_CHARS ? `${oneLine.slice(0, BODY_EXCERPT_CHARS)}…` : oneLine;
}
/** The cause with its values redacted (our words kept: see core/message.ts), and its error code in front. */
function redactedCause(cause, redact) {
    const message = (0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .composedOf */ .s5)(cause);
    const code = errorCode(cause);
    const coded = code && !String(message).includes(code) ? (0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `${code}: ${message}` : message;
    return new _message_js__WEBPACK_IMPORTED_MODULE_2__/* .ComposedError */ .vf((0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .redactedValues */ .R7)(coded, redact));
}
/** `HTTP 503`, `timeout`, or the network error's code: words of ours and the status. */
function describeOutcome(outcome) {
    if (outcome.kind === 'status')
        return (0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `HTTP ${(0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .own */ .ZV)(outcome.status)}`;
    if (outcome.kind === 'timeout')
        return (0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .own */ .ZV)('timeout');
    return outcome.code ? (0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `${outcome.code}` : (0,_message_js__WEBPACK_IMPORTED_MODULE_2__/* .own */ .ZV)('network error');
}
function flattenHeaders(headers) {
    const flat = {};
    for (const [key, value] of Object.entries(headers)) {
        if (value !== undefined)
            flat[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return flat;
}
function requestIdOf(headers) {
    for (const name of REQUEST_ID_HEADERS)
        if (headers[name])
            return headers[name];
    return undefined;
}
function parseJson(text, contentType) {
    if (text === '' || !contentType?.includes('json'))
        return undefined;
    try {
        return JSON.parse(text);
    }
    catch {
        return undefined;
    }
}
function errorCode(error) {
    if (!error || typeof error !== 'object')
        return undefined;
    const e = error;
    if (typeof e.code === 'string')
        return e.code;
    return e.cause ? errorCode(e.cause) : undefined;
}
function isTimeout(error) {
    const name = error?.name;
    const code = errorCode(error);
    return name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}
function throwIfCancelled(signal, provider, named, attempts) {
    if (!signal?.aborted)
        return;
    throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ApiError */ .hD({
        provider,
        ...named,
        retryable: false,
        attempts,
        // A runner cancellation names its signal; any other abort is a deadline.
        cause: signal.reason instanceof _cancellation_js__WEBPACK_IMPORTED_MODULE_0__/* .CancelledError */ .cc ? signal.reason : new Error('cancelled: the deadline passed'),
    });
}
/**
 * The signal of one attempt: aborted by `outer` or, after `ms`, with a `TimeoutError`
 * (as `AbortSignal.timeout` names it). `release()` clears the timer and drops the attempt
 * from `outer`'s followers the moment the attempt is over. `AbortSignal.timeout` +
 * `AbortSignal.any` kept each attempt's signal, timer and request alive until the timeout
 * passed (30 s by default), and an abort listener per attempt on one shared signal costs
 * a scan of all its listeners (EventTarget refuses duplicates): at 10 000 targets that was
 * much of the fan-out's heap and a fifth of its CPU time (bench/config-update.ts).
 */
function attemptSignal(outer, ms) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')), ms);
    const onAbort = () => controller.abort(outer?.reason);
    const unfollow = outer ? follow(outer, onAbort) : undefined;
    return {
        signal: controller.signal,
        release: () => {
            clearTimeout(timer);
            unfollow?.();
        },
    };
}
/** One abort listener per outer signal, whatever the number of attempts under it. */
const followers = new WeakMap();
function follow(outer, onAbort) {
    if (outer.aborted) {
        onAbort();
        return () => undefined;
    }
    let set = followers.get(outer);
    if (!set) {
        const created = new Set();
        set = created;
        followers.set(outer, created);
        outer.addEventListener('abort', () => {
            for (const f of created)
                f();
            created.clear();
        }, { once: true });
    }
    const mine = set;
    mine.add(onAbort);
    return () => mine.delete(onAbort);
}
function abortableSleep(ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal?.aborted)
            return reject(signal.reason);
        const timer = setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        const onAbort = () => {
            clearTimeout(timer);
            reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
    });
}


/***/ }),

/***/ 9114:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   CU: () => (/* binding */ checkUrl),
/* harmony export */   PZ: () => (/* binding */ workspaceFiles),
/* harmony export */   i_: () => (/* binding */ InputReader),
/* harmony export */   lP: () => (/* binding */ serverView),
/* harmony export */   sU: () => (/* binding */ atLine)
/* harmony export */ });
/* unused harmony exports fromRecord, OutsideWorkspaceError, LIST_FILE_MAX_BYTES, NotAListFileError, NotUtf8Error, utf8Text, fileLine, listEntries, splitLines, blankInside, sshHostKey, parseSshHost */
/* harmony import */ var node_buffer__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(4573);
/* harmony import */ var node_buffer__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_buffer__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1915);
/* harmony import */ var _message_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(3252);
/* harmony import */ var _redact_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(2258);






function fromRecord(values) {
    return (name) => (values[name] ?? '').trim();
}
/** A bad value quoted in its error: credential shapes redacted first, then cut to 60 characters. */
function shown(value) {
    const clean = new _redact_js__WEBPACK_IMPORTED_MODULE_5__/* .Redactor */ .pO().redact(value);
    const short = clean.length > 60 ? `${clean.slice(0, 60)}…` : clean;
    return JSON.stringify(short);
}
/** A list file whose real path (links followed) is not inside the workspace. */
class OutsideWorkspaceError extends Error {
}
/**
 * A list file holds at most this: 10 000 URLs of 2 KB are 20 MB. Past it a file is
 * not a target list (a build artifact, a disk image) and reading it whole would
 * exhaust the runner's memory, or Node's longest string.
 */
const LIST_FILE_MAX_BYTES = 64 * 1024 * 1024;
/**
 * A path that names no readable list: a directory, a FIFO (reading one waits for
 * a writer forever), a device, or a file over LIST_FILE_MAX_BYTES. `why` completes
 * "names <path>, which …".
 */
class NotAListFileError extends Error {
    why;
    constructor(why) {
        super(why);
        this.why = why;
    }
}
/** A list file with bytes that are not UTF-8 (a Latin-1 or UTF-16 export), first on `line` (1-based). */
class NotUtf8Error extends Error {
    line;
    constructor(line) {
        super(`not UTF-8 from line ${line}`);
        this.line = line;
    }
}
/**
 * The text of a list file's bytes. Decoding them leniently would turn a Latin-1 `é` into U+FFFD,
 * which a URL then sends as `%EF%BF%BD`: another path than the one written. Lines are counted
 * as `listEntries` counts them (LF, CRLF or a lone CR), on a Latin-1 reading that keeps every
 * byte in its place.
 * @throws NotUtf8Error naming the first line that is not UTF-8.
 */
function utf8Text(bytes) {
    if ((0,node_buffer__WEBPACK_IMPORTED_MODULE_0__.isUtf8)(bytes))
        return bytes.toString('utf8');
    const lines = bytes.toString('latin1').split(/\r\n|\r|\n/);
    const bad = lines.findIndex((line) => !(0,node_buffer__WEBPACK_IMPORTED_MODULE_0__.isUtf8)(Buffer.from(line, 'latin1')));
    throw new NotUtf8Error(bad + 1);
}
/**
 * Files as the runner's workspace holds them: relative paths resolve against
 * GITHUB_WORKSPACE, and the real path (symlinks followed) must lie inside it,
 * so an input can never make the action read `/etc/passwd` or a runner secret.
 */
function workspaceFiles(workspace) {
    return (path) => {
        const root = (0,node_fs__WEBPACK_IMPORTED_MODULE_1__.realpathSync)(workspace ?? process.cwd());
        const target = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.resolve)(root, path);
        let real;
        try {
            real = (0,node_fs__WEBPACK_IMPORTED_MODULE_1__.realpathSync)(target);
        }
        catch (error) {
            // A missing file out there is refused as outside too, so that no answer tells what exists outside.
            if (!isInside(root, (0,node_fs__WEBPACK_IMPORTED_MODULE_1__.realpathSync)(nearestExisting(target))))
                throw new OutsideWorkspaceError(path);
            throw error;
        }
        if (!isInside(root, real))
            throw new OutsideWorkspaceError(path);
        const stat = (0,node_fs__WEBPACK_IMPORTED_MODULE_1__.statSync)(real);
        if (stat.isDirectory())
            throw new NotAListFileError('is a directory');
        if (!stat.isFile())
            throw new NotAListFileError('is not a regular file (a FIFO, a socket or a device)');
        if (stat.size > LIST_FILE_MAX_BYTES)
            throw new NotAListFileError(`is ${stat.size} bytes, more than a list file may hold (${LIST_FILE_MAX_BYTES})`);
        return utf8Text((0,node_fs__WEBPACK_IMPORTED_MODULE_1__.readFileSync)(real));
    };
}
function isInside(root, real) {
    const inside = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.relative)(root, real);
    return !(inside === '..' || inside.startsWith(`..${node_path__WEBPACK_IMPORTED_MODULE_2__.sep}`) || (0,node_path__WEBPACK_IMPORTED_MODULE_2__.isAbsolute)(inside));
}
/** `path`, or the nearest of its parent folders that exists. */
function nearestExisting(path) {
    let at = path;
    while (!(0,node_fs__WEBPACK_IMPORTED_MODULE_1__.existsSync)(at) && (0,node_path__WEBPACK_IMPORTED_MODULE_2__.dirname)(at) !== at)
        at = (0,node_path__WEBPACK_IMPORTED_MODULE_2__.dirname)(at);
    return at;
}
class InputReader {
    read;
    readFile;
    constructor(read, readFile = workspaceFiles(undefined)) {
        this.read = read;
        this.readFile = readFile;
    }
    raw(name) {
        return this.read(name);
    }
    optional(name) {
        const value = this.read(name);
        return value === '' ? undefined : value;
    }
    required(name, why = 'is required') {
        const value = this.read(name);
        if (value === '')
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, why);
        return value;
    }
    /** A value from a fixed set; the error lists the set. */
    choice(name, allowed, fallback) {
        const value = this.read(name);
        if (value === '') {
            if (fallback !== undefined)
                return fallback;
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `is required: one of ${allowed.join(', ')}`);
        }
        const match = allowed.find((a) => a === value.toLowerCase());
        if (!match)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be one of ${allowed.join(', ')}; got ${shown(value)}`);
        return match;
    }
    boolean(name, fallback) {
        const value = this.read(name);
        if (value === '')
            return fallback;
        if (/^(true|yes|on)$/i.test(value))
            return true;
        if (/^(false|no|off)$/i.test(value))
            return false;
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be true or false; got ${shown(value)}`);
    }
    integer(name, fallback, range) {
        const value = this.read(name);
        if (value === '')
            return fallback;
        const max = range.max ?? Number.MAX_SAFE_INTEGER;
        const bounds = range.max === undefined ? `>= ${range.min}` : `from ${range.min} to ${range.max}`;
        if (!/^[+-]?\d+$/.test(value))
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be a whole number ${bounds}; got ${shown(value)}`);
        const n = Number(value);
        if (n < range.min || n > max)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be a whole number ${bounds}; got ${shown(value)}`);
        return n;
    }
    /**
     * Seconds (fractions allowed), returned in milliseconds. Every duration is at
     * least `atLeast` seconds (1 by default): below a second a timer rounds to 0 ms
     * and every request or wait would fail before it starts.
     */
    seconds(name, fallbackSeconds, range = {}) {
        const value = this.read(name);
        if (value === '')
            return fallbackSeconds * 1000;
        const max = range.max ?? 86_400;
        const least = range.atLeast ?? 1;
        const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
        if (!(n >= least && n <= max)) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be a number of seconds of at least ${least} and at most ${max}; got ${shown(value)}`);
        }
        return Math.round(n * 1000);
    }
    url(name, options = {}) {
        const value = this.read(name) || options.fallback || '';
        if (value === '') {
            if (options.required)
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `is required: an http(s) URL`);
            return undefined;
        }
        return checkUrl(name, value);
    }
    /** The entries of a target list input (`urls`, `hosts`), by the rules of `listEntries`. */
    lines(name) {
        return this.entries(name).map((e) => e.value);
    }
    /** As `lines`, with each entry's 1-based line number for errors. */
    entries(name) {
        return listEntries(this.read(name));
    }
    /**
     * The entries of the file input `name` names, one per line: blank lines,
     * `#` lines and ` # comments` after an entry are left out. Undefined when
     * the input is empty. An unreadable file is an InputError naming the input
     * and the path; `check` errors come back naming the file and the line.
     */
    fileLines(name, check) {
        const file = this.read(name);
        if (file === '')
            return undefined;
        let text;
        try {
            text = this.readFile(file);
        }
        catch (error) {
            if (error instanceof OutsideWorkspaceError)
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `names ${shown(file)}, which is outside the workspace (links followed); give a path inside GITHUB_WORKSPACE, the repository checkout`);
            if (error instanceof NotAListFileError)
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `names ${shown(file)}, which ${error.why}; give a file with one entry per line`);
            if (error instanceof NotUtf8Error)
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `${fileLine(file, error.line)}: holds bytes that are not UTF-8 text; save the file as UTF-8`);
            const code = error.code ?? 'unreadable';
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `names ${shown(file)}, which cannot be read (${code}); give a workspace path to a file with one entry per line`);
        }
        const entries = listEntries(text).map(({ line, value }) => ({
            line,
            value,
            parsed: atLine(name, file, line, () => check(value)),
        }));
        return { file, entries };
    }
    /** Entries separated by commas or newlines. */
    list(name) {
        return this.read(name)
            .split(/[,\n]/)
            .map((s) => s.trim())
            .filter((s) => s !== '');
    }
    /** `KEY=value` per line. Values may contain `=`; keys must look like env var names. */
    keyValues(name, options = {}) {
        const out = {};
        for (const line of splitLines(this.read(name))) {
            const eq = line.indexOf('=');
            const key = eq > 0 ? line.slice(0, eq).trim() : '';
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
                const what = options.secretValues ? 'a line' : shown(line);
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must hold one KEY=value per line; ${what} is not of that form`);
            }
            out[key] = line.slice(eq + 1);
        }
        return out;
    }
    /** `Name: value` per line, as HTTP headers. */
    headers(name) {
        const out = {};
        for (const line of splitLines(this.read(name))) {
            const colon = line.indexOf(':');
            const key = colon > 0 ? line.slice(0, colon).trim() : '';
            if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, `must hold one 'Name: value' header per line; a line has no valid header name`);
            }
            out[key] = line.slice(colon + 1).trim();
        }
        return out;
    }
}
/** Runs `check` on one line of a list file; its InputError comes back naming `file` and `line`. */
function atLine(name, file, line, check) {
    try {
        return check();
    }
    catch (error) {
        if (error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `${fileLine(file, line)}: ${error.problem}`);
        throw error;
    }
}
function fileLine(file, line) {
    return `${JSON.stringify(file)} line ${line}`;
}
/**
 * The URL as the endpoint's server receives it, for finding duplicates; the URL
 * sent is always the one given. RFC 3986 §6.2.2 normalisation on the WHATWG
 * parse: scheme and host lower-cased, the default port dropped, `.` segments
 * resolved, an empty path is `/`, a trailing dot of the host dropped (`h.example.`
 * is the DNS name `h.example`, as `sshHostKey` compares hosts); percent-escapes of unreserved characters
 * decoded (`%7E` is `~`) and the hex digits of the others upper-cased (`%2f` is
 * `%2F`, never `/`); the fragment dropped (clients never send it) and an empty
 * `?` too. Trailing slashes of the path are dropped as well: routers (Rails,
 * Express) answer `/update/` as `/update`. `value` must already have passed `checkUrl`.
 */
function serverView(value) {
    const url = new URL(value);
    const path = normalEscapes(url.pathname).replace(/\/+$/, '') || '/';
    const query = url.search === '' ? '' : normalEscapes(url.search);
    const host = url.hostname.replace(/\.$/, '') + (url.port === '' ? '' : `:${url.port}`);
    return `${url.protocol}//${host}${path}${query}`;
}
/** RFC 3986 §6.2.2.1-2: `%41` is `A`, `%7e` is `~`; `%2f` is `%2F` (a reserved character stays escaped). */
function normalEscapes(part) {
    return part.replace(/%([0-9A-Fa-f]{2})/g, (_, hex) => {
        const char = String.fromCharCode(Number.parseInt(hex, 16));
        return /^[A-Za-z0-9._~-]$/.test(char) ? char : `%${hex.toUpperCase()}`;
    });
}
/**
 * The entries of a target list, typed (`urls`, `hosts`) or from a file
 * (`urls-file`, `hosts-file`), with 1-based line numbers: lines end at LF,
 * CRLF or a lone CR (old Mac editors), a leading BOM is dropped, and so are
 * blank lines, `#` lines and a ` # comment` after an entry. A `#` with no
 * space before it stays: it is a URL's fragment.
 */
function listEntries(text) {
    const entries = [];
    text
        .replace(/^\uFEFF/, '')
        .split(/\r\n|\r|\n/)
        .forEach((raw, i) => {
        const value = raw.replace(/(^|\s)#.*$/, '').trim();
        if (value !== '')
            entries.push({ line: i + 1, value });
    });
    return entries;
}
function splitLines(value) {
    return value
        .split(/\r\n|\r|\n/)
        .map((s) => s.trim())
        .filter((s) => s !== '' && !s.startsWith('#'));
}
/**
 * A space, control or invisible format character in an entry, named for its
 * error with its 1-based position: the URL parser would drop a tab or CR,
 * encode a space or a zero-width space (U+200B) and map a soft hyphen in a host
 * to nothing, so one line would silently name another path or host.
 */
function blankInside(value) {
    const at = value.search(/[\s\p{Cc}\p{Cf}]/u);
    if (at < 0)
        return undefined;
    const char = value[at];
    const what = char === ' '
        ? 'a space'
        : char === '\t'
            ? 'a tab'
            : char === '\r'
                ? 'a carriage return'
                : `the character U+${value.codePointAt(at).toString(16).toUpperCase().padStart(4, '0')}`;
    return `${what} at character ${at + 1}`;
}
/**
 * The entry as an error may show it: only what starts like a URL, redacted and
 * cut short. Anything else (a line of the wrong file, a secret) is never quoted.
 */
function urlExcerpt(value) {
    return /^https?:\/\//i.test(value)
        ? `; got ${shown(value)}`
        : '; the entry does not start with http:// or https://';
}
function checkUrl(name, value) {
    const blank = blankInside(value);
    if (blank) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be one http(s) URL per line, without spaces or control characters; the entry has ${blank} (a comment after a URL starts with " #")${urlExcerpt(value)}`);
    }
    let parsed;
    try {
        parsed = new URL(value);
    }
    catch {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be an http(s) URL${urlExcerpt(value)}`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be an http(s) URL${urlExcerpt(value)}`);
    }
    if (parsed.username || parsed.password) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must not carry credentials in the URL; use the token inputs`);
    }
    // As given: the URL is sent exactly as the user wrote it (duplicates are found on `serverView`).
    return value;
}
/**
 * The host as sshd's machine is reached, for finding duplicates: an IP in its
 * canonical form (`[0:0::1]` is `::1`, WHATWG host parsing), names lower-cased
 * with a trailing dot dropped (DNS), and the port (22 when none was given).
 * The user is left out: `alice@web1` and `bob@web1` deploy to one machine.
 */
function sshHostKey(login) {
    const bracketed = login.host.includes(':') ? `[${login.host}]` : login.host;
    const host = new URL(`http://${bracketed}`).hostname.replace(/\.$/, '');
    return `${host}:${login.port}`;
}
/**
 * `[user@]host[:port]`. A name is RFC 1123 labels: never empty (`web1..`, `.`) and never
 * starting with a dash, which ssh would read as an option (`-Jproxy.example` is a ProxyJump).
 */
const SSH_HOST = /^(?:([a-z_][a-z0-9_.-]*)@)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?)(?::(\d+))?$/;
function parseSshHost(name, value) {
    const blank = blankInside(value);
    if (blank)
        throw new InputError(name, msg `must be [user@]host[:port], one per line; the entry has ${blank}`);
    // Quoted only when it has the characters of a host line: a line of another file is never shown.
    const got = /^[A-Za-z0-9_.@:[\]-]{1,100}$/.test(value) ? `; got ${shown(value)}` : '';
    const m = SSH_HOST.exec(value);
    if (!m)
        throw new InputError(name, msg `must be [user@]host[:port], the host a name of dot-separated labels (letters, digits, and dashes inside a label), an IPv4 address or a bracketed IPv6 one${got}`);
    const port = m[3] === undefined ? 22 : Number(m[3]);
    if (port < 1 || port > 65_535)
        throw new InputError(name, msg `has a port outside 1-65535${got}`);
    return { user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port };
}


/***/ }),

/***/ 3252:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   QB: () => (/* binding */ Message),
/* harmony export */   R7: () => (/* binding */ redactedValues),
/* harmony export */   ZV: () => (/* binding */ own),
/* harmony export */   ab: () => (/* binding */ msg),
/* harmony export */   b6: () => (/* binding */ redactMessage),
/* harmony export */   hw: () => (/* binding */ joinMessages),
/* harmony export */   qY: () => (/* binding */ outside),
/* harmony export */   s5: () => (/* binding */ composedOf),
/* harmony export */   vf: () => (/* binding */ ComposedError)
/* harmony export */ });
/* unused harmony exports lineText, withoutSuffix, redactPieces */
class Message {
    segments;
    constructor(segments) {
        const kept = [];
        for (const segment of segments) {
            if (segment.text === '')
                continue;
            const last = kept.at(-1);
            // Adjacent words of ours are one piece; values stay apart, each redacted on its own.
            if (last?.ours && segment.ours)
                kept[kept.length - 1] = { text: last.text + segment.text, ours: true };
            else
                kept.push(segment);
        }
        this.segments = kept;
    }
    /** The text as composed, values not redacted: for comparisons and `Error.message`, never for output. */
    toString() {
        return this.segments.map((s) => s.text).join('');
    }
}
/** A line as composed, not redacted: for a sink that redacts its text whole (a progress line). */
function lineText(line) {
    return line === undefined ? undefined : String(line);
}
/**
 * Composes a message: the template's strings are our words; every interpolated
 * value is from outside and redacted on its own, unless it is a `Message`
 * (its pieces are kept as they are) or an Error (its `composedOf`). Numbers
 * are values too: a count we made ourselves is marked with `own`.
 */
function msg(strings, ...values) {
    const segments = [];
    strings.forEach((text, i) => {
        segments.push({ text, ours: true });
        if (i < values.length)
            segments.push(...segmentsOf(values[i]));
    });
    return new Message(segments);
}
/**
 * A value of our own making (a provider's name, an input's name, a count, a
 * wait we computed), kept as our words. Never for text that came from outside.
 */
function own(value) {
    return new Message([{ text: String(value), ours: true }]);
}
/** A value from outside as a message of its own: redacted whole. */
function outside(value) {
    return new Message([{ text: value, ours: false }]);
}
/** The message without `suffix` at its end (`Could not x.` → `Could not x`), its pieces kept. */
function withoutSuffix(message, suffix) {
    const last = message.segments.at(-1);
    if (!last?.text.endsWith(suffix))
        return message;
    return new Message([
        ...message.segments.slice(0, -1),
        { ...last, text: last.text.slice(0, -suffix.length) },
    ]);
}
/** Items joined by a separator of ours (`; `, `, `): each item keeps its own pieces. */
function joinMessages(items, separator) {
    const segments = [];
    items.forEach((item, i) => {
        if (i > 0)
            segments.push({ text: separator, ours: true });
        segments.push(...segmentsOf(item));
    });
    return new Message(segments);
}
function segmentsOf(value) {
    if (value instanceof Message)
        return value.segments;
    if (value instanceof Error)
        return composedOf(value).segments;
    return [{ text: String(value), ours: false }];
}
/**
 * The message with each value put through `redact` now, its pieces kept: for an
 * error built from text that must not travel unredacted (a provider's body). The
 * sink still redacts it as a message, which checks the boundaries.
 */
function redactedValues(message, redact) {
    return new Message(message.segments.map((s) => (s.ours ? s : { text: redact(s.text), ours: false })));
}
/** An Error whose message was composed as a `Message`. */
class ComposedError extends Error {
    composed;
    constructor(message, options) {
        super(String(message), options);
        this.composed = message;
    }
}
/**
 * The message of anything thrown, as pieces: an error that carries a `composed`
 * message (see `ComposedError`; `InputError`, `ApiError`, `StepError` and
 * `CancelledError` do too) gives its pieces, as long as its `message` was not
 * changed since; an AggregateError gives its errors' messages joined by `; `;
 * any other message is one value from outside, redacted whole.
 */
function composedOf(error) {
    if (error instanceof AggregateError && error.errors.length > 0)
        return joinMessages(error.errors, '; ');
    if (error instanceof Error) {
        const composed = error.composed;
        if (composed instanceof Message && String(composed) === error.message)
            return composed;
        return outside(error.message);
    }
    return outside(String(error));
}
/**
 * A message as it may be shown: each value redacted on its own (every form the
 * redactor knows), our words as written. Then the composed text is checked: a
 * hit the redactor would still make there that is not wholly inside our words
 * (a secret `tati.sh` across a value `tati` and our `.sh`, or `token=` of ours
 * before a value that then reads as a credential) makes the whole composed text
 * redacted instead, which is safe and cuts our words only in that case. A hit
 * wholly inside our words is not a leak (`on` in `Could not`) and is left.
 * A plain string is redacted whole.
 */
function redactMessage(line, redactor) {
    return typeof line === 'string' ? redactor.redact(line) : redactPieces(line, redactor).text;
}
function redactPieces(message, redactor) {
    let text = '';
    const ours = [];
    for (const segment of message.segments) {
        if (segment.ours) {
            ours.push([text.length, text.length + segment.text.length]);
            text += segment.text;
        }
        else
            text += redactor.redact(segment.text);
    }
    const straddles = redactor
        .hits(text)
        .some(([start, end]) => !ours.some(([from, to]) => from <= start && end <= to));
    return straddles ? { text: redactor.redact(text), whole: true } : { text, whole: false };
}


/***/ }),

/***/ 2743:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Aw: () => (/* binding */ waitLine),
/* harmony export */   Bf: () => (/* binding */ doubling),
/* harmony export */   Bi: () => (/* binding */ waitScaleFromEnv),
/* harmony export */   Du: () => (/* binding */ formatWait),
/* harmony export */   Rn: () => (/* binding */ retryLine),
/* harmony export */   Un: () => (/* binding */ MAX_LIMITED_ANSWERS),
/* harmony export */   Vs: () => (/* binding */ retryAfterMs),
/* harmony export */   h4: () => (/* binding */ DEFAULT_WAIT_BOUND),
/* harmony export */   vV: () => (/* binding */ judgeWait)
/* harmony export */ });
/* unused harmony exports randomized, MIN_RETRY_AFTER_MS, epochMsOf, untilEpochSeconds, WAIT_SCALE_VARIABLE */
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1915);
/* harmony import */ var _message_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3252);
/* harmony import */ var _retry_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(7253);



/** Without a bound from the action: heroku-go's longest single wait, 15 min. */
const DEFAULT_WAIT_BOUND = { budgetMs: 15 * 60_000, name: 'the 15 min rate-limit bound' };
/** After this many rate-limited answers in a row to one request it fails, whatever the bound. */
const MAX_LIMITED_ANSWERS = 30;
/**
 * Whether a computed wait fits the bound: every wait of a request (a rate limit, a pause on
 * a key running low, the backoff before a retry) is judged here, against the same bound.
 * The decision is made on the computed wait (`wait.waitMs`); `scale` (1 in production) only
 * shortens the real sleep in tests, so a test takes the same path as production. The
 * message says what is left of the bound: the time to the deadline when there is one, else
 * the budget and what was already waited (no "left" when no deadline applies).
 */
function judgeWait(input) {
    const { provider, wait, bound } = input;
    const budgetLeft = bound.budgetMs - input.sleptMs;
    const untilDeadline = bound.deadlineAt === undefined ? undefined : bound.deadlineAt - input.now;
    const left = untilDeadline === undefined ? budgetLeft : Math.min(budgetLeft, untilDeadline);
    if (wait.waitMs <= left)
        return { wait: true, sleepMs: Math.round(wait.waitMs * input.scale) };
    const room = untilDeadline !== undefined && untilDeadline <= budgetLeft
        ? (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `${ownWait(Math.max(0, untilDeadline))} left`
        : (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `at most ${ownWait(bound.budgetMs)} of waits in all${input.sleptMs > 0 ? (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `, ${ownWait(input.sleptMs)} already waited` : ''}`;
    const waiting = (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `waiting ${ownWait(wait.waitMs)}`;
    const name = (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .own */ .ZV)(bound.name);
    return {
        wait: false,
        reason: (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `rate limited by ${(0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .own */ .ZV)(provider)} past ${name} (${wait.limit}: ${waiting} would pass it, ${room})`,
        over: (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `${waiting} would pass ${name} (${room})`,
    };
}
/** The log line of one rate-limit wait: `rate limited by Heroku, waiting 30 s (HTTP 429, RateLimit-Remaining 0; app.info)`. */
function waitLine(provider, wait, operation) {
    return (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `rate limited by ${(0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .own */ .ZV)(provider)}, waiting ${ownWait(wait.waitMs)} (${wait.limit}; ${(0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .own */ .ZV)(operation)})`;
}
/** The log line of one wait before a retry: `retrying Heroku GET /apps/web after HTTP 503, waiting 0.4 s (retry 1 of 3)`. */
function retryLine(provider, request, wait) {
    return (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `retrying ${(0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .own */ .ZV)(provider)} ${request} after ${wait.limit}, waiting ${ownWait(wait.waitMs)}`;
}
function ownWait(ms) {
    return (0,_message_js__WEBPACK_IMPORTED_MODULE_1__/* .own */ .ZV)(formatWait(ms));
}
/** `30 s`, `1.5 s`, `0.8 s`: whole seconds from 10 s up, one decimal below. */
function formatWait(ms) {
    const s = ms / 1000;
    return `${s >= 10 ? Math.round(s) : Number(s.toFixed(1))} s`;
}
/** `base * 2^(count-1)`, capped: the doubling every provider client here uses. */
function doubling(count, baseMs, capMs) {
    return Math.min(capMs, baseMs * 2 ** Math.max(0, count - 1));
}
/**
 * `ms` spread by ±`factor` (`random` in [0, 1)), as cenkalti/backoff's `RandomizationFactor`
 * does for heroku-go (0.25: 30 s becomes 22.5–37.5 s), so jobs sharing a key do not all
 * send again at the same moment. Whole ms.
 */
function randomized(ms, factor, random) {
    return Math.round(ms * (1 - factor + 2 * factor * random()));
}
/**
 * `Retry-After` as ms from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3), read by
 * the one parser core/retry.ts uses too; undefined when absent or unreadable.
 */
function retryAfterMs(headers, now = Date.now()) {
    const after = (0,_retry_js__WEBPACK_IMPORTED_MODULE_2__/* .parseRetryAfter */ .mu)(headers['retry-after'], now);
    // `0`, or a date already past (our clock ahead of the provider's), is read as the shortest
    // wait: sent again at once, the request would spend the whole give-up count in a second.
    return after === undefined ? undefined : Math.max(after, MIN_RETRY_AFTER_MS);
}
/** The shortest wait a Retry-After is read as, as a RateLimit-Reset already past is waited. */
const MIN_RETRY_AFTER_MS = 1000;
/**
 * An epoch in a header (`RateLimit-Reset`) as epoch ms. Seconds are the documented form; a
 * value above 1e11 (year 5138 in seconds) can only be ms, as some answers send, and is read so.
 */
function epochMsOf(value) {
    if (!value || !/^\d+$/.test(value.trim()))
        return undefined;
    const n = Number(value);
    return n > 1e11 ? n : n * 1000;
}
/** An epoch in a header (`RateLimit-Reset`, see epochMsOf) as ms from `now`, or undefined. */
function untilEpochSeconds(value, now) {
    const at = epochMsOf(value);
    return at === undefined ? undefined : at - now;
}
/**
 * Test-only: `OPS_ACTIONS_TEST_WAIT_SCALE` (above 0, at most 1) multiplies every
 * rate-limit sleep so a test rides out a 30 s Heroku wait in 0.3 s. The logged and
 * reported waits stay the computed ones. Never set it in a workflow.
 */
const WAIT_SCALE_VARIABLE = 'OPS_ACTIONS_TEST_WAIT_SCALE';
function waitScaleFromEnv(env = process.env) {
    const raw = env[WAIT_SCALE_VARIABLE]?.trim();
    if (!raw)
        return 1;
    const scale = /^\d*\.?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(scale > 0 && scale <= 1))
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .EnvironmentError */ .eG(WAIT_SCALE_VARIABLE, `is for tests only and must be a number above 0 and at most 1, not "${raw}"`);
    return scale;
}


/***/ }),

/***/ 2258:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   pO: () => (/* binding */ Redactor)
/* harmony export */ });
/* unused harmony exports TOKEN_SHAPES, encodedForms, MIN_LINE_FORM, escapeRegExp, StreamRedactor */
/**
 * Removing secrets from any text before it is printed, written or uploaded.
 *
 * Two kinds of hits: literal values we know (secret inputs and what is derived
 * from them, in the encodings they travel in), and shapes we recognise without
 * knowing the value (private keys, URL credentials, Authorization headers, JWTs
 * and the token formats of the providers we talk to). Every hit becomes
 * `[REDACTED:<kind>]`; counts per kind are kept, never the values.
 *
 * The result, text and counts, is that of the whole-text pipeline: every
 * anchored shape in order on the whole text (each on the text the ones before
 * left), then every literal form outside the markers, longest first, then the
 * shapes without an anchor (user patterns); `Redactor` only skips the lines
 * where that pipeline can change nothing, and `StreamRedactor` gives the same
 * for any cutting of the text into chunks. One difference by design: a shape
 * without an anchor sees a stream a run of complete lines at a time, so a user
 * pattern that crosses a line break finds no match across two chunks.
 */
/** Spaces and tabs: whitespace that stays on its line. */
const SP = '[^\\S\\r\\n]';
/** One line break (LF, CRLF or CR) with the indentation around it. */
const BREAK = `${SP}*(?:\\r\\n?|\\n)${SP}*`;
const AUTH_SCHEME = '(?:bearer|basic|token|flyv1|digest)';
/**
 * What a value on the line after `authorization:` may not be: a mapping key
 * (`mode: Webhook` under a kubelet config's `authorization:`, `webhook:`),
 * which says the name was a YAML section, not a header; no token ends in `:`.
 */
const NOT_A_KEY = `(?![^\\s"'<>\\]:]*:(?:\\s|$))`;
/**
 * The part of an Authorization header kept in front of its marker. The value is
 * on the name's line or the next one, with the line break after the separator
 * (YAML `Authorization:` then an indented value), inside a `[` (indented JSON
 * of Go's http.Header: `"Authorization": [` then `"Bearer …"`) or after the
 * scheme (a folded YAML scalar); a blank line between is not a header value,
 * nor is a mapping key (`NOT_A_KEY`).
 */
const AUTH_PREFIX = `(?<![a-z0-9])(?:proxy-)?authorization["']?${SP}*[:=]` +
    `(?:(?:${BREAK}(?:\\[${SP}*)?|${SP}*\\[${BREAK})["']?(?:${AUTH_SCHEME}${SP}+)?${NOT_A_KEY}` +
    `|${SP}*(?:\\[${SP}*)?["']?(?:${AUTH_SCHEME}(?:${SP}+|${BREAK}))?)`;
const TOKEN_SHAPES = [
    {
        kind: 'private-key',
        // An unterminated block (output cut mid-key) is redacted to the end of the text.
        pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*$)/g,
        anchor: '-----BEGIN',
        lines: Number.POSITIVE_INFINITY,
    },
    {
        kind: 'url-credentials',
        // The password may itself hold `@` (`postgres://app:p@ss-word@db/app`): the userinfo ends at
        // the last `@` before the host, so the greedy class backs off to it.
        pattern: /(\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^\s:@/?#"'<>]+:(?!\[REDACTED:)[^\s/?#"'<>]+(?=@)/g,
        anchor: ':\\/\\/',
    },
    {
        // The same in JSON that escapes `/` (PHP's json_encode, Java's org.json): `https:\/\/user:pass@…`.
        kind: 'url-credentials',
        pattern: /(\b[a-zA-Z][a-zA-Z0-9+.-]*:\\\/\\\/)[^\s:@/?#"'<>]+:(?!\[REDACTED:)[^\s/?#"'<>]+(?=@)/g,
        anchor: ':\\\\\\/\\\\\\/',
    },
    {
        // The same inside a percent-encoded URL that is itself a parameter value (`?src=https%3A%2F%2F
        // user%3Apass%40host`): `://` is `%3A%2F%2F`, `:` `%3A` and `@` `%40`; an `@` in the password
        // was `%40` in the URL and is `%2540` once that is encoded, so the first `%40` ends it.
        kind: 'url-credentials',
        pattern: /(\b[a-zA-Z][a-zA-Z0-9+.-]*%3A%2F%2F)(?:(?!%3A|%40|%2F)[^\s:@/?#&"'<>])+%3A(?!\[REDACTED:)(?:(?!%40|%2F|%3F|%23|%26)[^\s/?#&"'<>])+(?=%40)/gi,
        anchor: '%3[aA]%2[fF]%2[fF]',
    },
    {
        kind: 'authorization',
        // Also Go's `map[Authorization:[Bearer …]]`, JSON `"authorization":["Bearer …"]` and CGI's
        // `HTTP_AUTHORIZATION`. Text is redacted again at each output, so a value already redacted is
        // left as it is, also where the prefix could stop short of it: the value never starts with
        // `[` (Go's, kept in the prefix) and is not a scheme in front of a marker (ours, or the bare
        // `[REDACTED]` config-update's plan writes for a header value it hides), or
        // `Authorization: Bearer [REDACTED:…]` would lose its scheme and `[REDACTED:…]` gain brackets.
        pattern: new RegExp(`(${AUTH_PREFIX})(?!\\[|(?<=\\[)REDACTED[:\\]]|${AUTH_SCHEME}(?:${SP}+|${BREAK})\\[+REDACTED[:\\]])[^\\s"'<>\\]]+(?:[ ,][^\\s"'<>,\\]]*fm\\d_[^\\s"'<>\\]]+)*`, 'gi'),
        // Anchored on its rare last letter: a scan that stops at every `t` costs a third of the redaction.
        anchor: '[zZ](?<=[tT][hH][oO][rR][iI][zZ])',
        lines: 1,
    },
    {
        kind: 'jwt',
        pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
        anchor: 'J(?<=eyJ)',
    },
    {
        kind: 'github-token',
        pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})/g,
        anchor: '_(?<=gh[pousr]_|github_pat_)',
    },
    {
        kind: 'aws-access-key',
        pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
        anchor: 'A[KSBC][IC]A',
    },
    {
        // The secret half has no prefix of its own; it is recognised by the name it travels under.
        kind: 'aws-secret-key',
        // Its value on the name's line or, after the separator, on the next one (YAML, `=` then a wrap,
        // a shell line continued with `\`).
        pattern: new RegExp(`(\\baws_secret_access_key["']?${SP}*[:=](?:${SP}*\\\\?${BREAK}|${SP}*)["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])`, 'gi'),
        anchor: '_(?<=[sS][eE][cC][rR][eE][tT]_[aA][cC][cC][eE][sS][sS]_)',
        lines: 1,
    },
    {
        kind: 'slack-token',
        pattern: /\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})/g,
        anchor: 'xox[abposre]-|xapp-',
    },
    {
        kind: 'slack-webhook',
        pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g,
        anchor: ':\\/\\/',
    },
    {
        kind: 'fly-token',
        pattern: /\b(?:FlyV1 )?f[mo]\d_[A-Za-z0-9+/=_-]{20,}(?:,f[mo]\d_[A-Za-z0-9+/=_-]{20,})*/g,
        anchor: '_(?<=f[mo]\\d_)',
    },
    { kind: 'heroku-token', pattern: /\bHRKU-[A-Za-z0-9_-]{20,}/g, anchor: 'HRKU-' },
    {
        kind: 'digitalocean-token',
        pattern: /\bdo[opr]_v1_[a-f0-9]{64}\b/g,
        anchor: '_(?<=do[opr]_v1_)',
    },
    {
        kind: 'cloudflare-token',
        pattern: /\bcf(?:k|ut|at)_[A-Za-z0-9_-]{30,}/g,
        anchor: '_(?<=cf(?:k|ut|at)_)',
    },
    {
        // Presigned-URL signatures (S3 `X-Amz-Signature`, CloudFront and GCS `Signature`, Azure SAS
        // `sig`) and credentials passed as query or form parameters (`token`, `access_token`,
        // `api_key`, `client_secret`, `password`): the value up to the next `&`, `#` or space.
        kind: 'url-secret',
        pattern: /((?<![a-z0-9])(?:sig|signature|token|api[_-]?key|apikey|secret|password|passwd)=)(?!\[REDACTED:)[^\s&#"'<>]+/gi,
        anchor: '=(?<=(?:[sS][iI][gG]|[tT][uU][rR][eE]|[tT][oO][kK][eE][nN]|[kK][eE][yY]|[sS][eE][cC][rR][eE][tT]|[pP][aA][sS][sS][wW](?:[oO][rR])?[dD])=)',
    },
    {
        // The same parameters inside a percent-encoded URL that is itself a parameter value (a
        // presigned config URL passed to an update endpoint: `?src=https%3A%2F%2Fb.s3…%3FX-Amz-Signature%3D…`):
        // `=` is `%3D`, the name follows `%3F` or `%26`, and the value ends at `%26` (`&`) or `%23` (`#`).
        kind: 'url-secret',
        pattern: /((?:(?<![a-z0-9])|(?<=%[0-9a-f]{2}))(?:sig|signature|token|api[_-]?key|apikey|secret|password|passwd)%3D)(?!\[REDACTED:)(?:(?!%2[36])[^\s&#"'<>])+/gi,
        anchor: '%3[dD]',
    },
];
/**
 * The forms in which a secret value travels: itself, its URL encodings (see
 * `urlForms`), its JSON encoding (also with non-ASCII or `<>&` written as
 * `\uXXXX`), its base64 (see `base64Forms`), its HTML-escaped spellings (see
 * `htmlForms`) and, for a multi-line value, each of its lines of at least
 * `MIN_LINE_FORM` characters. A shorter line (`}` of a JSON value, `a` of a
 * list) is no secret on its own: kept as a form it would rewrite ordinary text,
 * so it is redacted only inside the whole value. Every other form is kept
 * whatever its length: a value reaches here only when the user named it a
 * secret or it passed the trivial-value filter (`isTrivialValue` in secrets.ts).
 * These forms are for our own redactor only; the runner is sent the value
 * alone and derives its own (see secrets.ts).
 */
function encodedForms(value) {
    const forms = new Set([value]);
    for (const url of urlForms(value))
        forms.add(url);
    const json = JSON.stringify(value).slice(1, -1);
    forms.add(json);
    // Python's json.dumps (ensure_ascii, its default) writes each non-ASCII UTF-16 unit as \u00e4
    // (Jackson and .NET as \u00E4); Go's encoding/json writes <, > and & as \u003c, \u003e, \u0026.
    const unicodeEscape = (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    const ascii = json.replace(/[\u0080-\uffff]/g, unicodeEscape);
    forms.add(ascii);
    forms.add(ascii.replace(/\\u[0-9a-f]{4}/g, (lower) => `\\u${lower.slice(2).toUpperCase()}`));
    forms.add(json.replace(/[<>&]/g, unicodeEscape));
    for (const b64 of base64Forms(value))
        forms.add(b64);
    for (const html of htmlForms(value))
        forms.add(html);
    if (/[\r\n]/.test(value))
        for (const line of value.split(/\r?\n|\r/))
            if (line.trim().length >= MIN_LINE_FORM)
                forms.add(line.trim());
    forms.delete('');
    return [...forms];
}
/**
 * A value as URL encoders write it: `encodeURIComponent` (a query value),
 * `encodeURI` (a whole URL: `/ ? & = + @ :` kept), and the form encoding of
 * HTML forms and `URLSearchParams` (WHATWG URL, application/x-www-form-urlencoded:
 * space as `+`, `!'()~` escaped too), which Go's `url.QueryEscape` and Python's
 * `urlencode` also write (space as `+`). Each also with lower-case hex digits
 * (`%2f`): the same octet (RFC 3986 §2.1), as .NET's `HttpUtility.UrlEncode` and
 * hand-written URLs spell it, and a URL is sent and shown as the user wrote it.
 */
function urlForms(value) {
    const component = encodeURIComponent(value);
    const forms = [
        component,
        component.replace(/%20/g, '+'),
        encodeURI(value),
        new URLSearchParams([['', value]]).toString().slice(1),
    ];
    return [...forms, ...forms.map((form) => form.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()))];
}
/** The shortest line of a multi-line secret that is redacted on its own. */
const MIN_LINE_FORM = 4;
/**
 * A value as HTML escapers write it: `&` and `<` always (our summary tables,
 * `escapeHtml`), `>` or not, `"` raw, `&quot;` or `&#34;`, `'` raw, `&#39;`,
 * `&#x27;` or `&#039;` (Go's html.EscapeString, Python's html.escape, PHP's
 * htmlspecialchars, lodash's escape) — an HTML error page or a rendered body
 * that echoes the secret. Empty for a value without any of those characters.
 */
function htmlForms(value) {
    if (!/[&<>"']/.test(value))
        return [];
    const base = value.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    const forms = new Set();
    for (const gt of ['>', '&gt;'])
        for (const quot of ['"', '&quot;', '&#34;'])
            for (const apos of ["'", '&#39;', '&#x27;', '&#039;'])
                forms.add(base.replace(/>/g, gt).replace(/"/g, quot).replace(/'/g, apos));
    forms.delete(value);
    return [...forms];
}
/**
 * Base64 of a value depends on where it starts within the encoded stream, so we
 * take the stable middle of its encoding at each of the three byte alignments
 * (standard and URL-safe alphabets); those strings appear whenever the value does.
 * A value shorter than six bytes has no stable middle worth matching: only its
 * own encoding is kept.
 */
function base64Forms(value) {
    const bytes = Buffer.from(value, 'utf8');
    const forms = [];
    for (let offset = 0; offset < 3; offset++) {
        const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
        const fullGroups = Math.floor(padded.length / 3);
        const encoded = padded.toString('base64');
        const start = offset === 0 ? 0 : 4;
        const stable = encoded.slice(start, fullGroups * 4);
        if (stable.length >= 8)
            forms.push(stable, toBase64Url(stable));
        if (offset === 0) {
            forms.push(encoded);
            const bare = encoded.replace(/=+$/, '');
            if (bare.length >= 4)
                forms.push(bare, toBase64Url(bare));
        }
    }
    return forms;
}
function toBase64Url(s) {
    return s.replace(/\+/g, '-').replace(/\//g, '_');
}
function escapeRegExp(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
const MARKER_START = '[REDACTED:';
/** What a hit becomes; literals are never looked for inside one. */
const MARKER = /^\[REDACTED:[a-z0-9-]+\]$/;
const GRAM = 4;
/** Longer minimum lengths only widen the stride; past this the gain is small and the table grows. */
const MAX_WINDOW = 32;
const BITS = 24;
/**
 * Literal values found fast: every form of length >= m has one of its first
 * m-3 four-character grams at a text position that is a multiple of m-3, so
 * probing only those positions (a bitset, then an exact map) finds every
 * occurrence without running the regex over text that holds none.
 */
class LiteralIndex {
    stride;
    bits = new Uint32Array(1 << (BITS - 5));
    grams = new Map();
    /** `forms`: single-line forms of at least `GRAM` characters (see `isIndexable`). */
    constructor(forms) {
        const single = forms;
        const m = Math.min(MAX_WINDOW, ...single.map((f) => f.length));
        this.stride = Math.max(1, m - GRAM + 1);
        for (const form of single) {
            for (let offset = 0; offset < this.stride; offset++) {
                const key = gramKey(form, offset);
                const h = hashGram(key);
                this.bits[h >>> 5] |= 1 << (h & 31);
                const list = this.grams.get(key);
                if (list)
                    list.push({ form, offset });
                else
                    this.grams.set(key, [{ form, offset }]);
            }
        }
    }
    /** Positions of certain literal hits in text[0, limit). */
    find(text, limit, hit) {
        const last = Math.min(limit, text.length) - GRAM;
        const bits = this.bits;
        for (let p = 0; p <= last; p += this.stride) {
            const key = gramKey(text, p);
            const h = hashGram(key);
            if ((bits[h >>> 5] & (1 << (h & 31))) === 0)
                continue;
            for (const { form, offset } of this.grams.get(key) ?? []) {
                const at = p - offset;
                if (at >= 0 && text.startsWith(form, at)) {
                    hit(at);
                    break;
                }
            }
        }
    }
}
/** Forms the gram index can find; the others (short or multi-line) are found by `indexOf`. */
function isIndexable(form) {
    return form.length >= GRAM && !/[\r\n]/.test(form);
}
function gramKey(s, i) {
    // Characters past Latin-1 are folded: a collision only costs an exact comparison.
    const fold = (c) => (c & 0xff) ^ (c >>> 8);
    return ((fold(s.charCodeAt(i)) |
        (fold(s.charCodeAt(i + 1)) << 8) |
        (fold(s.charCodeAt(i + 2)) << 16) |
        (fold(s.charCodeAt(i + 3)) << 24)) >>>
        0);
}
function hashGram(key) {
    return Math.imul(key, 0x9e3779b1) >>> (32 - BITS);
}
/**
 * Anchors of the form `c(?<=...)` that start with the same character share one
 * lookbehind at it: the scan stops only at that character, which keeps it fast
 * on logs full of `snake_case` and `key=value`; the shared lookbehind reaches
 * as far as the farthest of its shapes. Every other anchor is its own
 * alternative, before the merged ones and in the order of the shapes.
 */
function anchorsOf(shapes) {
    const plain = new Map();
    const behind = new Map();
    for (const { anchor, lines = 0 } of shapes) {
        if (!anchor)
            continue;
        const m = /^([_=])\(\?<=(.*)\)$/.exec(anchor);
        if (!m) {
            plain.set(anchor, Math.max(lines, plain.get(anchor) ?? 0));
            continue;
        }
        const merged = behind.get(m[1]) ?? { inner: new Set(), lines: 0 };
        merged.inner.add(m[2]);
        merged.lines = Math.max(merged.lines, lines);
        behind.set(m[1], merged);
    }
    const alternativeOf = new Map([...plain.keys()].map((a) => [a, a]));
    const linesOf = new Map(plain);
    for (const [c, { inner, lines }] of behind) {
        const merged = `${c}(?<=${[...inner].join('|')})`;
        for (const one of inner)
            alternativeOf.set(`${c}(?<=${one})`, merged);
        linesOf.set(merged, lines);
    }
    const alternatives = [...new Set(alternativeOf.values())];
    const sources = [...new Set([...alternatives, ...alternativeOf.keys()])];
    const byLines = [...new Set(alternatives.map((a) => linesOf.get(a)))].sort((a, b) => b - a);
    const reaches = [];
    let groups = 0;
    const parts = byLines.map((lines) => {
        const source = alternatives.filter((a) => linesOf.get(a) === lines).join('|');
        groups += groupCount(source) + 1;
        reaches.push({
            lines,
            group: groups,
            at: new RegExp(source, 'y'),
            patterns: lines === Number.POSITIVE_INFINITY
                ? shapes
                    .filter((s) => s.anchor && s.lines === lines)
                    .map((s) => new RegExp(s.pattern.source, s.pattern.flags.replace('g', 'y')))
                : [],
        });
        return `(?:${source})()`;
    });
    return {
        scan: parts.length === 0 ? undefined : new RegExp(parts.join('|'), 'g'),
        reaches,
        tests: sources.map((source) => new RegExp(source)),
        testsOf: shapes.map(({ anchor }) => anchor ? [...new Set([alternativeOf.get(anchor), anchor])].map((a) => sources.indexOf(a)) : undefined),
    };
}
function groupCount(source) {
    return new RegExp(`(?:${source})|`).exec('').length - 1;
}
/**
 * Holds the known secrets and redacts text. A scan first finds where work lies
 * (literal hits through `LiteralIndex`, shape anchors through one combined
 * regex that reports every position where an anchor starts, also inside the
 * hit of another); only the lines around those positions (regions) are
 * redacted: the lines of each literal occurrence, and for an anchor the lines
 * its shapes reach (`TokenShape.lines`: an Authorization header or AWS secret
 * key with its value on the next line, a private key block to its END line).
 * On each region run the anchored shapes whose anchor occurs in it, then the
 * literal alternation (longest first, so an encoding that contains another
 * form wins) where a literal was found or a shape changed the text. Every
 * match of the whole-text pipeline lies inside one region and starts from a
 * line start there, so the regions give what it gives. Shapes without an
 * anchor (user patterns) run on all text. Lines without any candidate cost one
 * probe per stride and one regex scan; a line holding a URL runs the two
 * shapes anchored on `://`, not all of them.
 */
class Redactor {
    literals = new Map();
    shapes;
    literalPattern;
    /** Built on first use after a change: `null` when no form is indexable. */
    index;
    unindexed = [];
    /**
     * Lines a literal match may reach past the lines of a marker a shape made:
     * as many as the multi-line forms that may overlap one span, those holding
     * `[` (`a\n[RED`: a form ends where a marker starts) and those starting like
     * the end of a marker (`ACTED:jwt]\nb`: after a form that broke it). 0 for
     * every realistic secret, a PEM key included.
     */
    markerReach = 0;
    /** Each start of a multi-line form up to one of its line breaks (not the last character). */
    openings = [];
    anchors;
    counts = {};
    constructor(shapes = TOKEN_SHAPES) {
        this.shapes = [...shapes];
    }
    /**
     * Adds a secret value and its encodings (`encodedForms`) under a kind, and
     * `spellings`: other texts that carry the same secret and are taken as they
     * are (a URL password as typed, percent-encoded; `user:password` in base64).
     * Returns the forms added.
     */
    addLiteral(value, kind = 'secret', spellings = []) {
        const added = [];
        for (const form of [...encodedForms(value), ...spellings]) {
            if (form === '')
                continue;
            if (!this.literals.has(form)) {
                this.literals.set(form, kind);
                added.push(form);
            }
        }
        if (added.length > 0) {
            this.literalPattern = undefined;
            this.index = undefined;
        }
        return added;
    }
    addShape(shape) {
        this.shapes.push(shape);
        this.anchors = undefined;
    }
    /** Total hits so far, all kinds. */
    get total() {
        return Object.values(this.counts).reduce((a, b) => a + b, 0);
    }
    redact(text) {
        if (text.length === 0)
            return text;
        return this.redactPart(text, text.length, true).out;
    }
    /**
     * Where `redact` could replace text: `[start, end)` of every shape match (past
     * the part a shape keeps) and every literal form outside a marker, found on
     * `text` as it is and not counted. It may name more than `redact` replaces
     * (a literal inside a shape's match), never less: for checking short composed
     * text (core/message.ts), not for scanning logs.
     */
    hits(text) {
        const found = [];
        for (const { pattern } of this.shapes) {
            pattern.lastIndex = 0;
            for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
                if (m[0] === '') {
                    pattern.lastIndex++;
                    continue;
                }
                const kept = typeof m[1] === 'string' ? m[1].length : 0;
                found.push([m.index + kept, m.index + m[0].length]);
            }
        }
        const literal = this.compiledLiterals();
        if (literal) {
            literal.lastIndex = 0;
            for (let m = literal.exec(text); m !== null; m = literal.exec(text))
                if (!(m[0].startsWith(MARKER_START) && MARKER.test(m[0])))
                    found.push([m.index, m.index + m[0].length]);
        }
        return found;
    }
    /**
     * Redacts the whole lines of `text` before `limit`, or less when a match may
     * continue past it (an open private key block, an Authorization header whose
     * value is on the next line, a multi-line secret whose first lines end it).
     * Returns the redacted text and how much of the input it covers; the caller
     * keeps the rest for the next call.
     */
    redactPart(text, limit, final) {
        if (!final)
            limit = this.heldBack(text, limit);
        const regions = this.scan(text, limit);
        let consumed = final ? text.length : limit;
        const kept = [];
        for (const region of regions) {
            if (region.start >= consumed)
                break;
            if (region.end > consumed) {
                if (!final) {
                    consumed = region.start;
                    break;
                }
                region.end = text.length;
            }
            kept.push(region);
        }
        let out = '';
        let at = 0;
        for (const region of kept) {
            out +=
                text.slice(at, region.start) + this.redactAll(text.slice(region.start, region.end), region.literal);
            at = region.end;
        }
        out += text.slice(at, consumed);
        for (const shape of this.shapes)
            if (!shape.anchor)
                out = this.applyShape(out, shape);
        return { out, consumed };
    }
    /**
     * Where a stream stops before the line on which a multi-line literal form
     * starts whose first lines end `text[0, limit)`: the rest may come in the
     * next chunk, and the whole form is one hit (its lines alone would be
     * several, and its short lines none). With a `markerReach`, that many lines
     * more wait too: a marker in the next chunk may complete a form there.
     */
    heldBack(text, limit) {
        this.literalIndex();
        let cut = limit;
        for (const opening of this.openings)
            if (opening.length <= limit && text.startsWith(opening, limit - opening.length))
                cut = Math.min(cut, lineStart(text, limit - opening.length));
        for (let i = 0; i < this.markerReach && cut > 0; i++)
            cut = lineStart(text, cut - 1);
        return cut;
    }
    /**
     * Merged line ranges that need the regexes, in order, each marked when a
     * literal form occurs in it. Which shapes a region needs is left to
     * `redactAll`, which tests their anchors on the region's text as it stands.
     */
    scan(text, limit) {
        const found = [];
        const lines = new Lines(text);
        const index = this.literalIndex();
        if (index)
            index.find(text, limit, (at) => found.push(lines.around(at, 1, true)));
        for (const form of this.unindexed) {
            const count = 1 + countNewlines(form);
            // A multi-line form's occurrences may overlap and reach different lines.
            const step = count > 1 ? 1 : form.length;
            for (let at = text.indexOf(form); at !== -1 && at < limit; at = text.indexOf(form, at + step))
                found.push(lines.around(at, count, true));
        }
        const { scan: anchors, reaches } = this.shapeAnchors();
        if (anchors) {
            const taken = reaches.map((reach) => reach.patterns.map(() => 0));
            anchors.lastIndex = 0;
            for (let m = anchors.exec(text); m !== null && m.index < limit; m = anchors.exec(text)) {
                // Overlapping: an anchor may start inside the hit of another (`HRKU-----BEGIN`).
                anchors.lastIndex = m.index + 1;
                let reach = 0;
                while (m[reaches[reach].group] === undefined)
                    reach++;
                const region = regionAt(lines, m.index, reaches, reach, taken);
                if (region)
                    found.push(this.markerReach === 0 ? region : widen(lines, region, this.markerReach));
            }
        }
        if (found.length === 0)
            return found;
        found.sort((a, b) => a.start - b.start);
        const merged = [found[0]];
        for (const region of found.slice(1)) {
            const last = merged.at(-1);
            if (region.start <= last.end) {
                last.end = Math.max(last.end, region.end);
                last.literal ||= region.literal;
            }
            else
                merged.push(region);
        }
        return merged;
    }
    /**
     * The pipeline on one region: each anchored shape in order, then literals
     * outside the markers the shapes left (a short literal `t` replaced first
     * would break the shape around it, `token=…`). A shape runs only when its
     * anchor occurs in the region as the shapes before it left it: every match
     * contains the anchor, so where it does not occur the shape cannot match.
     * Each anchor test (see `Anchors`) runs once, and again only after a shape
     * changed the text. `literal`: whether the scan found a literal form in it.
     */
    redactAll(text, literal) {
        const { tests, testsOf } = this.shapeAnchors();
        // Per test: 0 not run yet, 1 passed, 2 failed.
        const known = new Uint8Array(tests.length);
        let out = text;
        for (let i = 0; i < this.shapes.length; i++) {
            const need = testsOf[i];
            if (!need)
                continue;
            let occurs = true;
            for (const t of need) {
                if (known[t] === 0)
                    known[t] = tests[t].test(out) ? 1 : 2;
                if (known[t] === 2) {
                    occurs = false;
                    break;
                }
            }
            if (!occurs)
                continue;
            const before = out;
            out = this.applyShape(out, this.shapes[i]);
            // A marker may hold the anchor of a shape after this one.
            if (out !== before)
                known.fill(0);
        }
        // The scan finds every literal form of the text as it was; only a shape's replacement can
        // bring in another (a form holding part of a marker), so unchanged text without one is done.
        if (literal || out !== text)
            out = this.replaceLiterals(out);
        return out;
    }
    replaceLiterals(text) {
        const literal = this.compiledLiterals();
        if (!literal)
            return text;
        literal.lastIndex = 0;
        return text.replace(literal, (match) => match.startsWith(MARKER_START) && MARKER.test(match)
            ? match
            : this.marker(this.literals.get(match) ?? 'secret'));
    }
    applyShape(text, { kind, pattern }) {
        pattern.lastIndex = 0;
        return text.replace(pattern, (match, keep) => {
            if (match === '')
                return match;
            const prefix = typeof keep === 'string' ? keep : '';
            return prefix + this.marker(kind);
        });
    }
    marker(kind) {
        this.counts[kind] = (this.counts[kind] ?? 0) + 1;
        return `[REDACTED:${kind}]`;
    }
    literalIndex() {
        if (this.index === undefined) {
            const forms = [...this.literals.keys()];
            const indexable = forms.filter(isIndexable);
            this.unindexed = forms.filter((f) => !isIndexable(f));
            this.markerReach = Math.max(0, ...forms.filter((f) => /\[|^[A-Z]*:?[a-z0-9-]*\]/.test(f)).map(countNewlines));
            this.openings = this.unindexed.flatMap((form) => [...form.matchAll(/\n(?!$)/g)].map((m) => form.slice(0, m.index + 1)));
            this.index = indexable.length === 0 ? null : new LiteralIndex(indexable);
        }
        return this.index ?? undefined;
    }
    shapeAnchors() {
        this.anchors ??= anchorsOf(this.shapes);
        return this.anchors;
    }
    compiledLiterals() {
        if (this.literals.size === 0)
            return undefined;
        if (!this.literalPattern) {
            const alternatives = [...this.literals.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
            // A marker is matched first and kept whole, so no literal is found inside one.
            this.literalPattern = new RegExp([MARKER.source.slice(1, -1), ...alternatives].join('|'), 'g');
        }
        return this.literalPattern;
    }
}
function countNewlines(s) {
    let n = 0;
    for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1))
        n++;
    return n;
}
function lineStart(text, at) {
    return at === 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
}
/**
 * The lines of one text, for the scan: the last few lines it asked about are
 * remembered, so a line holding many hits (a 10 MB line full of `://`) is
 * searched for its ends once, not once per hit, which would be quadratic.
 */
class Lines {
    /** `[start, newline]` of recent lines; `newline` is `text.length` on the last line. */
    recent = [];
    text;
    constructor(text) {
        this.text = text;
    }
    /** The line holding `at`: its start, and its end past the newline (`Infinity` on the last line). */
    of(at) {
        for (const [start, newline] of this.recent)
            if (at >= start && at <= newline)
                return this.bounds(start, newline);
        const start = lineStart(this.text, at);
        const nl = this.text.indexOf('\n', at);
        const newline = nl === -1 ? this.text.length : nl;
        this.recent.unshift([start, newline]);
        if (this.recent.length > 3)
            this.recent.pop();
        return this.bounds(start, newline);
    }
    /** The line holding `at`, and `lines - 1` lines after it; the end is past the newline. */
    around(at, lines, literal) {
        const { start } = this.of(at);
        let end = at;
        for (let i = 0; i < lines; i++) {
            end = this.of(end).end;
            if (end === Number.POSITIVE_INFINITY)
                break;
        }
        return { start, end, literal };
    }
    bounds(start, newline) {
        return { start, end: newline === this.text.length ? Number.POSITIVE_INFINITY : newline + 1 };
    }
}
/** `region` and `lines` lines before and after it. */
function widen(lines, region, count) {
    let start = region.start;
    for (let i = 0; i < count && start > 0; i++)
        start = lines.of(start - 1).start;
    const end = region.end === Number.POSITIVE_INFINITY ? region.end : lines.around(region.end, count, false).end;
    return { start, end, literal: region.literal };
}
/**
 * The region of an anchor hit at `at`: the lines its shapes reach, the first
 * of `reaches` from `first` on whose anchors occur there and, for `Infinity`,
 * whose shapes match there (see `TokenShape.lines`). Undefined when none does.
 * `taken[r][p]`: where the last match of pattern `p` of reach `r` found by
 * this scan ends; an anchor before that lies inside it, as the shape's global
 * regex would have consumed it, so the pattern is not run there again (a line
 * of `-----BEGIN RSA PRIVATE KEY-----` repeated would run it to the END once
 * per hit: quadratic).
 */
function regionAt(lines, at, reaches, first, taken) {
    const text = lines.text;
    for (let r = first; r < reaches.length; r++) {
        const reach = reaches[r];
        if (r !== first) {
            reach.at.lastIndex = at;
            if (!reach.at.test(text))
                continue;
        }
        if (reach.lines !== Number.POSITIVE_INFINITY)
            return lines.around(at, 1 + reach.lines, false);
        let end = -1;
        reach.patterns.forEach((pattern, p) => {
            if (at < taken[r][p])
                return;
            pattern.lastIndex = at;
            const m = pattern.exec(text);
            if (m === null || m[0] === '')
                return;
            taken[r][p] = at + m[0].length;
            end = Math.max(end, at + m[0].length);
        });
        if (end === -1)
            continue;
        return {
            start: lines.of(at).start,
            end: end === text.length ? Number.POSITIVE_INFINITY : lines.of(end - 1).end,
            literal: false,
        };
    }
    return undefined;
}
/**
 * Redaction of a stream of chunks: whole lines are redacted as they complete,
 * and whatever a match might still extend into (a partial line, an open key
 * block, a header whose value is on the next line) waits for the next chunk,
 * so a secret split across chunks is never missed.
 *
 * Byte chunks are the fast path: the pending bytes and the new chunk are
 * joined as bytes and decoded once, so the regexes and the literal probe see
 * a flat string (a concatenated string is several times slower to scan in V8,
 * and so are the external strings Node makes for chunks of 1 MB and more).
 * `\n` never occurs inside a multi-byte UTF-8 sequence, so cutting bytes at
 * newlines never splits a character.
 */
class StreamRedactor {
    redactor;
    carry = '';
    /** Byte chunks not redacted yet, joined only when they are. */
    pending = [];
    pendingLength = 0;
    /**
     * How long the carried text must grow before it is tried again after the
     * redactor held part of it back (an open private key block: the rest of
     * the output may be its body): twice what was held, so a block that never
     * ends costs a linear number of scans of it, not one per chunk.
     */
    retryAt = 0;
    constructor(redactor) {
        this.redactor = redactor;
    }
    push(chunk) {
        if (typeof chunk !== 'string')
            return this.pushBytes(chunk);
        const text = this.carry + chunk;
        if (!chunk.includes('\n') || text.length < this.retryAt) {
            this.carry = text;
            return '';
        }
        const limit = text.lastIndexOf('\n') + 1;
        const { out, consumed } = this.redactor.redactPart(text, limit, false);
        this.carry = text.slice(consumed);
        this.retryAt = consumed < limit ? 2 * this.carry.length : 0;
        return out;
    }
    pushBytes(chunk) {
        const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        this.pendingLength += view.length;
        if (view.indexOf(10) === -1 || this.pendingLength < this.retryAt) {
            // Kept past this call: a copy, in case the caller reuses its buffer.
            this.pending.push(Buffer.from(view));
            return '';
        }
        this.pending.push(view);
        const bytes = this.pending.length === 1 ? view : Buffer.concat(this.pending, this.pendingLength);
        const cut = bytes.lastIndexOf(10) + 1;
        const text = bytes.toString('utf8', 0, cut);
        const { out, consumed } = this.redactor.redactPart(text, text.length, false);
        const rest = bytes.subarray(cut);
        const carry = consumed === text.length
            ? Buffer.from(rest)
            : Buffer.concat([Buffer.from(text.slice(consumed), 'utf8'), rest]);
        this.pending = carry.length === 0 ? [] : [carry];
        this.pendingLength = carry.length;
        this.retryAt = consumed < text.length ? 2 * carry.length : 0;
        return out;
    }
    end() {
        const bytes = this.pending.length === 0 ? '' : Buffer.concat(this.pending, this.pendingLength).toString('utf8');
        const text = this.carry + bytes;
        this.carry = '';
        this.pending = [];
        this.pendingLength = 0;
        this.retryAt = 0;
        return text === '' ? '' : this.redactor.redact(text);
    }
}


/***/ }),

/***/ 7253:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   cO: () => (/* binding */ DEFAULT_RETRY_POLICY),
/* harmony export */   mu: () => (/* binding */ parseRetryAfter),
/* harmony export */   tE: () => (/* binding */ decideRetry)
/* harmony export */ });
/* unused harmony exports isIdempotent, isRetryableStatus, backoffDelay */
/**
 * The retry policy every provider request follows, as pure functions so that
 * each decision is testable without a clock or a network. `decideRetry` says
 * whether to send again and the backoff; it never sleeps: the HTTP client
 * (core/http.ts) judges that wait with `judgeWait` (core/rate-limit.ts) against
 * the run's one bound, logs it and sleeps it under the request's signal, as it
 * does every rate-limit wait.
 */
const DEFAULT_RETRY_POLICY = {
    retries: 3,
    baseDelayMs: 500,
    maxDelayMs: 20_000,
    retryAfterCapMs: 60_000,
};
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
function isIdempotent(method) {
    return IDEMPOTENT_METHODS.has(method.toUpperCase());
}
function isRetryableStatus(status) {
    return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}
/** Error codes meaning the request never reached the server, so even a POST can be sent again. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
function decideRetry(q) {
    const { outcome, policy } = q;
    if (outcome.kind === 'status' && !isRetryableStatus(outcome.status) && !outcome.refusedRetryable) {
        return { retry: false, reason: `HTTP ${outcome.status} is not retryable` };
    }
    if (q.attempt > policy.retries)
        return { retry: false, reason: `gave up after ${q.attempt} attempts` };
    if (!(isIdempotent(q.method) || q.retrySafe) && !unsentOrRejected(outcome)) {
        return {
            retry: false,
            reason: `${q.method.toUpperCase()} is not retried: the server may have acted on it`,
        };
    }
    const backoff = backoffDelay(q.attempt, policy, q.random);
    if (outcome.kind === 'status') {
        const waitFor = parseRetryAfter(outcome.retryAfter, q.now ?? Date.now());
        if (waitFor !== undefined)
            return { retry: true, delayMs: Math.min(waitFor, policy.retryAfterCapMs) };
    }
    return { retry: true, delayMs: backoff };
}
/** A 429 was refused before any work; a refused connection never arrived. */
function unsentOrRejected(outcome) {
    if (outcome.kind === 'status')
        return outcome.status === 429 || outcome.refusedRetryable === true;
    if (outcome.kind === 'network')
        return outcome.code !== undefined && NOT_SENT_CODES.has(outcome.code);
    return false;
}
/** Exponential backoff with full jitter: uniform in [0, min(max, base * 2^(attempt-1))). */
function backoffDelay(attempt, policy, random = Math.random) {
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
    return Math.floor(random() * ceiling);
}
/** `Retry-After` as delay-seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value, now) {
    if (value === undefined)
        return undefined;
    const trimmed = value.trim();
    if (trimmed === '')
        return undefined;
    // RFC 9110 allows whole seconds only; a fraction (`1.5`) some servers send is read, not dropped.
    if (/^\d+(\.\d+)?$/.test(trimmed))
        return Math.round(Number(trimmed) * 1000);
    if (!/[a-z]/i.test(trimmed))
        return undefined;
    const at = Date.parse(trimmed);
    if (Number.isNaN(at))
        return undefined;
    return Math.max(0, at - now);
}


/***/ }),

/***/ 1363:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   J7: () => (/* binding */ countsLine),
/* harmony export */   ZD: () => (/* binding */ escapeHtml),
/* harmony export */   _V: () => (/* binding */ formatMs),
/* harmony export */   g6: () => (/* binding */ mermaidGantt),
/* harmony export */   jb: () => (/* binding */ summaryTable)
/* harmony export */ });
/* unused harmony exports rowsWithin, escapeCell, markdownTable */
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6421);

/**
 * Pure rendering for job summaries and the evidence file. Actions build their
 * summary from result data with these, and `ActionContext.writeSummary` is the
 * one writer. Summary tables are built by @actions/core's summary (HTML, which
 * GitHub renders in a job summary); the evidence file keeps Markdown tables.
 */
/** @actions/core exports only its shared summary; a fresh buffer of the same class keeps rendering pure. */
const Summary = _actions_core__WEBPACK_IMPORTED_MODULE_0__.summary.constructor;
/** Text for HTML: `&` and `<` are the characters that open an entity or markup. */
function escapeHtml(value) {
    return String(value ?? '')
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;');
}
/** `9990 updated, 10 failed`: how many times each value occurs, in the order each first occurs. */
function countsLine(values) {
    const counts = new Map();
    for (const v of values)
        counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts].map(([value, n]) => `${n} ${value}`).join(', ');
}
/**
 * The rows a capped table shows: every item when there are at most `limit`, else the `limit`
 * that rank first (lower `rank` first; ties keep their order, Array#sort being stable).
 */
function rowsWithin(items, limit, rank) {
    return items.length <= limit ? items : [...items].sort((a, b) => rank(a) - rank(b)).slice(0, limit);
}
/**
 * A job-summary table from @actions/core's `summary.addTable`, one line of
 * HTML. Cells are text: escaped here (addTable inserts them as they are), line
 * breaks kept as `<br>`. Without headers, every row is a data row.
 */
function summaryTable(headers, rows) {
    const cell = (value) => escapeHtml(value).replace(/\r?\n/g, '<br>');
    const head = headers.length > 0 ? [headers.map((h) => ({ data: cell(h), header: true }))] : [];
    return new Summary()
        .addTable([...head, ...rows.map((row) => row.map(cell))])
        .stringify()
        .trimEnd();
}
function escapeCell(value) {
    return String(value ?? '')
        .replace(/\\/g, '\\\\')
        .replace(/\|/g, '\\|')
        .replace(/\r?\n/g, '<br>');
}
function markdownTable(headers, rows) {
    const head = `| ${headers.map(escapeCell).join(' | ')} |`;
    const rule = `| ${headers.map(() => '---').join(' | ')} |`;
    const body = rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`);
    return [head, rule, ...body].join('\n');
}
/**
 * A Mermaid gantt chart with millisecond resolution (GitHub renders Mermaid in
 * summaries). Times are relative to the run's start; labels are sanitised because
 * Mermaid treats `:` and `#` in task names as syntax.
 */
function mermaidGantt(title, bars) {
    const lines = [
        '```mermaid',
        'gantt',
        `  title ${sanitizeMermaid(title)}`,
        '  dateFormat x',
        '  axisFormat %M:%S',
    ];
    const sections = new Map();
    for (const bar of bars)
        sections.set(bar.section, [...(sections.get(bar.section) ?? []), bar]);
    let n = 0;
    for (const [section, members] of sections) {
        lines.push(`  section ${sanitizeMermaid(section)}`);
        for (const bar of members) {
            const status = bar.status ? `${bar.status}, ` : '';
            const end = Math.max(bar.endMs, bar.startMs + 1);
            lines.push(`  ${sanitizeMermaid(bar.label)} :${status}t${n++}, ${Math.round(bar.startMs)}, ${Math.round(end)}`);
        }
    }
    lines.push('```');
    return lines.join('\n');
}
function sanitizeMermaid(text) {
    return text.replace(/[:#;\n\r]/g, ' ').trim() || '-';
}
function formatMs(ms) {
    if (ms < 1000)
        return `${Math.round(ms)} ms`;
    if (ms < 60_000)
        return `${(ms / 1000).toFixed(1)} s`;
    const minutes = Math.floor(ms / 60_000);
    return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}


/***/ }),

/***/ 1263:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  bD: () => (/* binding */ PROXY_VARIABLES),
  HS: () => (/* binding */ closeUndici),
  b7: () => (/* binding */ loadUndici)
});

// UNUSED EXPORTS: namingProxy

// EXTERNAL MODULE: external "node:net"
var external_node_net_ = __webpack_require__(7030);
;// CONCATENATED MODULE: ./src/core/no-proxy.ts

const DEFAULT_PORTS = { 'http:': 80, 'https:': 443 };
function parseNoProxy(value) {
    const names = [];
    const ranges = new external_node_net_.BlockList();
    for (const raw of value.split(/[,\s]+/)) {
        const entry = raw.trim();
        if (!entry)
            continue;
        const cidr = /^\[?([0-9a-fA-F:.]+)\]?\/(\d{1,3})$/.exec(entry);
        if (cidr) {
            const family = (0,external_node_net_.isIP)(cidr[1]);
            const prefix = Number(cidr[2]);
            if (family !== 0 && prefix <= (family === 4 ? 32 : 128))
                ranges.addSubnet(cidr[1], prefix, family === 4 ? 'ipv4' : 'ipv6');
            continue;
        }
        const { host, port } = splitPort(entry);
        const subdomainsOnly = host.startsWith('*.');
        const name = host
            .replace(/^\*?\./, '')
            .replace(/(.)\.$/, '$1')
            .toLowerCase();
        if (name)
            names.push({ host: name, port, subdomainsOnly });
    }
    return {
        bypasses(url) {
            const host = url.hostname
                .replace(/^\[(.*)\]$/, '$1')
                .replace(/(.)\.$/, '$1')
                .toLowerCase();
            const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 0;
            const family = (0,external_node_net_.isIP)(host);
            if (family !== 0 && ranges.check(host, family === 4 ? 'ipv4' : 'ipv6'))
                return true;
            for (const entry of names) {
                if (entry.port !== 0 && entry.port !== port)
                    continue;
                if (entry.host === '*')
                    return true;
                if (host === entry.host && !entry.subdomainsOnly)
                    return true;
                // An IP address has no subdomains: `0.0.1` must not match `10.0.0.1`.
                if (family === 0 && host.endsWith(`.${entry.host}`))
                    return true;
            }
            return false;
        },
    };
}
/** `host:port`, `[v6]:port`, a bare IPv6 address (several colons: no port). */
function splitPort(entry) {
    const v6 = /^\[(.+)\](?::(\d+))?$/.exec(entry);
    if (v6)
        return { host: v6[1], port: v6[2] ? Number(v6[2]) : 0 };
    const parts = /^([^:]+):(\d+)$/.exec(entry);
    if (parts)
        return { host: parts[1], port: Number(parts[2]) };
    return { host: entry, port: 0 };
}

;// CONCATENATED MODULE: ./src/core/undici.ts

let loaded;
/**
 * Connections per origin: config-update's `concurrency` goes up to 256, all to one origin when
 * the targets share a URL (Fly machines behind the app's URL). Fewer would queue requests inside
 * undici, where their per-attempt timeout already runs.
 */
const AGENT_OPTIONS = { keepAliveTimeout: 10_000, connections: 256 };
/** The variables that name a proxy, as the runner sets them. */
const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'];
function proxyConfigured() {
    return PROXY_VARIABLES.some((name) => process.env[name]);
}
function loadUndici() {
    loaded ??= proxyConfigured() ? loadWithProxy() : loadDirect();
    return loaded;
}
function exchangeThrough(agent, nameError) {
    return (url, options) => new Promise((resolve, reject) => {
        const { signal } = options;
        if (signal?.aborted) {
            reject(signal.reason);
            return;
        }
        let controller;
        let statusCode = 0;
        let headers = {};
        const chunks = [];
        let settled = false;
        const onAbort = () => controller?.abort(signal?.reason);
        const settle = (error) => {
            if (settled)
                return;
            settled = true;
            signal?.removeEventListener('abort', onAbort);
            if (error === undefined)
                resolve({ statusCode, headers, body: Buffer.concat(chunks) });
            // The signal's own reason (a timeout, a cancellation) is ours to tell, not the network's.
            else
                reject(signal?.aborted && error === signal.reason ? error : nameError(error, url));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        const parsed = new URL(url);
        try {
            (options.dispatcher ?? agent).dispatch({
                origin: parsed.origin,
                path: `${parsed.pathname}${parsed.search}`,
                method: options.method,
                headers: options.headers,
                body: options.body ?? null,
            }, {
                onRequestStart(c) {
                    if (signal?.aborted)
                        c.abort(signal.reason);
                    else
                        controller = c;
                },
                onResponseStart(_c, status, answered) {
                    // 1xx answers (100 Continue) come before the real one.
                    if (status < 200)
                        return;
                    statusCode = status;
                    headers = answered;
                },
                onResponseData(_c, chunk) {
                    chunks.push(chunk);
                },
                onResponseEnd() {
                    settle();
                },
                onResponseError(_c, error) {
                    settle(error);
                },
            });
        }
        catch (error) {
            settle(error);
        }
    });
}
async function loadDirect() {
    const [{ default: Agent }, { default: requestOn }] = await Promise.all([
        Promise.all(/* import() */[__webpack_require__.e(440), __webpack_require__.e(405)]).then(__webpack_require__.t.bind(__webpack_require__, 7405, 23)),
        Promise.all(/* import() */[__webpack_require__.e(440), __webpack_require__.e(43)]).then(__webpack_require__.t.bind(__webpack_require__, 4043, 23)),
    ]);
    const agent = new Agent(AGENT_OPTIONS);
    const request = (url, options = {}) => {
        const { dispatcher, method, ...rest } = options;
        const parsed = new URL(url);
        return requestOn.call(dispatcher ?? agent, {
            ...rest,
            origin: parsed.origin,
            path: `${parsed.pathname}${parsed.search}`,
            method: method ?? 'GET',
        });
    };
    return { request, exchange: exchangeThrough(agent, (error) => error), agent };
}
/**
 * The proxy of each request, as curl, the runner and @actions/http-client
 * choose it: http origins through http_proxy/HTTP_PROXY, https origins
 * through https_proxy/HTTPS_PROXY (an https origin without one goes direct),
 * and any origin NO_PROXY names (`parseNoProxy`: names, suffixes, ports, `*`,
 * CIDR ranges) direct. https origins are reached through a CONNECT tunnel,
 * http ones forwarded (undici's ProxyAgent, which sends the proxy URL's
 * credentials as Proxy-Authorization).
 */
async function loadWithProxy() {
    const undici = await Promise.all(/* import() */[__webpack_require__.e(440), __webpack_require__.e(405), __webpack_require__.e(43), __webpack_require__.e(752)]).then(__webpack_require__.t.bind(__webpack_require__, 6752, 19));
    const env = process.env;
    const noProxy = parseNoProxy(env.no_proxy || env.NO_PROXY || '');
    const direct = new undici.Agent(AGENT_OPTIONS);
    const proxies = new Map();
    for (const [protocol, uri] of [
        ['http:', env.http_proxy || env.HTTP_PROXY],
        ['https:', env.https_proxy || env.HTTPS_PROXY],
    ]) {
        if (!uri)
            continue;
        const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? uri : `http://${uri}`;
        proxies.set(protocol, {
            agent: new undici.ProxyAgent({ ...AGENT_OPTIONS, uri: withScheme }),
            label: proxyLabel(withScheme),
        });
    }
    const route = (origin) => {
        const url = typeof origin === 'string' ? new URL(origin) : origin;
        return noProxy.bypasses(url) ? undefined : proxies.get(url.protocol);
    };
    proxyOf = (url) => route(url)?.label;
    class ProxyRouter extends undici.Dispatcher {
        dispatch(options, handler) {
            return (route(String(options.origin))?.agent ?? direct).dispatch(options, handler);
        }
        async close() {
            await Promise.all([direct.close(), ...[...proxies.values()].map((p) => p.agent.close())]);
        }
        async destroy() {
            await Promise.all([direct.destroy(), ...[...proxies.values()].map((p) => p.agent.destroy())]);
        }
    }
    const agent = new ProxyRouter();
    const request = async (url, options = {}) => {
        try {
            return await undici.request(url, { ...options, dispatcher: options.dispatcher ?? agent });
        }
        catch (error) {
            throw namingProxy(error, url);
        }
    };
    return { request, exchange: exchangeThrough(agent, namingProxy), agent };
}
/** `host:port` of a proxy URL: what messages name, never its credentials. */
function proxyLabel(uri) {
    try {
        const url = new URL(uri);
        return `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
    }
    catch {
        return 'the configured proxy';
    }
}
/** The proxy a request to `url` goes through (`host:port`), once a proxy is loaded; undefined when direct. */
let proxyOf = () => undefined;
/**
 * A failed request names the proxy it went through: `connect ECONNREFUSED
 * 10.0.0.5:3128 (through the proxy 10.0.0.5:3128)`, so a refused or
 * unreachable proxy is told apart from a refused provider. The error keeps
 * its class, name and code.
 */
function namingProxy(error, url) {
    let label;
    try {
        label = proxyOf(typeof url === 'string' ? new URL(url) : url);
    }
    catch {
        return error;
    }
    // A DOMException (an abort or timeout reason) has a read-only message.
    if (!label || !(error instanceof Error) || error instanceof DOMException || error.name === 'AbortError')
        return error;
    const note = ` (through the proxy ${label})`;
    if (!error.message.endsWith(note))
        error.message += note;
    return error;
}
/** Closes the keep-alive connections at the end of a run, so the process exits at once. */
async function closeUndici() {
    if (!loaded)
        return;
    const { agent } = await loaded;
    await agent.close();
}


/***/ })

};
