export const id = 84;
export const ids = [84];
export const modules = {

/***/ 6951:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  H: () => (/* binding */ runClone)
});

// EXTERNAL MODULE: ./src/core/cancellation.ts
var cancellation = __webpack_require__(3948);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/message.ts
var core_message = __webpack_require__(3252);
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

// EXTERNAL MODULE: ./src/core/http.ts
var core_http = __webpack_require__(1983);
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

// EXTERNAL MODULE: ./node_modules/structured-headers/dist/index.js + 4 modules
var dist = __webpack_require__(5987);
// EXTERNAL MODULE: ./src/core/rate-limit.ts
var rate_limit = __webpack_require__(2743);
;// CONCATENATED MODULE: ./src/providers/cloudflare/rate-limit.ts


/**
 * Cloudflare's API rate limit (developers.cloudflare.com/fundamentals/api/reference/limits,
 * "Rate limiting headers"; changelog 2025-09-03 "new headers for rate limiting"): 1200 requests
 * per five minutes per user; past it every call is refused with 429 for the next five minutes.
 * Every answer carries `Ratelimit`, a list of limit items (`"default";r=50;t=30`: `r` requests
 * remaining, `t` seconds until the window resets) and `Ratelimit-Policy`, a list of policy items
 * (`"burst";q=100;w=60`: quota `q` per window of `w` seconds), both RFC 8941 structured-field
 * lists (draft-ietf-httpapi-ratelimit-headers) that may name several policies; a 429 adds
 * `retry-after` (seconds, rounded up, until capacity is back). The wait is `retry-after`; without
 * it, the `t` of the binding limit (`bindingLimit`); without both, the documented five minutes.
 */
const CLOUDFLARE_BLOCK_MS = 5 * 60_000;
/**
 * The limit that binds among the items of a `Ratelimit` field (`"burst";r=0;t=5, "daily";r=100;t=3600`):
 * an exhausted one (`r=0`), the one resetting last when several are; else the one with the least
 * remaining relative to its quota (`q` from `ratelimitPolicy`), or the least remaining when no
 * quota is known. Items that are not a string or token with a non-negative integer `r` are
 * ignored, as are a non-integer `t` or `q`; a member that does not parse at all drops only itself.
 * Undefined when no item is usable.
 */
function bindingLimit(ratelimit, ratelimitPolicy) {
    const quotas = new Map();
    for (const [value, params] of listItems(ratelimitPolicy)) {
        const name = itemName(value);
        const quota = count(params.get('q'));
        if (name !== undefined && quota !== undefined && quota > 0 && !quotas.has(name))
            quotas.set(name, quota);
    }
    const items = [];
    for (const [value, params] of listItems(ratelimit)) {
        const name = itemName(value);
        const remaining = count(params.get('r'));
        if (name === undefined || remaining === undefined)
            continue;
        const reset = count(params.get('t'));
        const quota = quotas.get(name);
        items.push({
            name,
            remaining,
            ...(reset === undefined ? {} : { resetMs: reset * 1000 }),
            ...(quota === undefined ? {} : { quota }),
        });
    }
    const exhausted = items.filter((i) => i.remaining === 0);
    if (exhausted.length > 0)
        return exhausted.reduce((a, b) => ((b.resetMs ?? -1) > (a.resetMs ?? -1) ? b : a));
    const share = (i) => (i.quota === undefined ? i.remaining : i.remaining / i.quota);
    return items.reduce((a, b) => (a === undefined || share(b) < share(a) ? b : a), undefined);
}
/**
 * The items of a structured-field list (inner lists skipped). A field that does not parse whole
 * is read member by member, split at the commas outside quoted strings, keeping the members that parse.
 */
function listItems(field) {
    if (!field?.trim())
        return [];
    try {
        return (0,dist/* parseList */.E1)(field).filter((member) => !Array.isArray(member[0]));
    }
    catch {
        const members = field.match(/(?:"(?:[^"\\]|\\.)*"?|[^,"])+/g) ?? [];
        return members.flatMap((member) => {
            try {
                return [(0,dist/* parseItem */.b8)(member.replace(/^[ \t]+|[ \t]+$/g, ''))];
            }
            catch {
                return [];
            }
        });
    }
}
/** A policy name: a string or token item (a token stringifies to itself). */
function itemName(value) {
    if (typeof value === 'string')
        return value;
    return value instanceof dist/* Token */.ou ? value.toString() : undefined;
}
function count(value) {
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
const cloudflareRateLimit = {
    limited({ status, headers }, _count, now) {
        if (status !== 429)
            return undefined;
        const after = (0,rate_limit/* retryAfterMs */.Vs)(headers, now);
        const policy = headers['ratelimit-policy'] ? `, Ratelimit-Policy ${headers['ratelimit-policy']}` : '';
        if (after !== undefined)
            return { waitMs: after, limit: `HTTP 429, retry-after ${(0,rate_limit/* formatWait */.Du)(after)}${policy}` };
        const binding = bindingLimit(headers.ratelimit, headers['ratelimit-policy']);
        if (binding?.resetMs !== undefined) {
            const waitMs = Math.max(binding.resetMs, rate_limit/* MIN_RETRY_AFTER_MS */.oD);
            return {
                waitMs,
                limit: `HTTP 429, Ratelimit ${headers.ratelimit} (quota ${JSON.stringify(binding.name)} back in ${(0,rate_limit/* formatWait */.Du)(waitMs)})${policy}`,
            };
        }
        return {
            waitMs: CLOUDFLARE_BLOCK_MS,
            limit: `HTTP 429, no retry-after: blocked for five minutes${policy}`,
        };
    },
};

;// CONCATENATED MODULE: ./src/providers/cloudflare/client.ts




/**
 * Cloudflare v4: bearer API token, every answer in `{success, errors, result}`.
 * `CloudflareHttp.result` unwraps the envelope and turns `success: false` into an ApiError.
 */
const CLOUDFLARE_API_URL = 'https://api.cloudflare.com/client/v4';
class CloudflareHttp {
    http;
    constructor(options) {
        const { token, baseUrl, ...rest } = options;
        this.http = new core_http/* HttpClient */.Qq({
            rateLimit: cloudflareRateLimit,
            ...rest,
            provider: 'Cloudflare',
            baseUrl: baseUrl ?? CLOUDFLARE_API_URL,
            headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        });
    }
    async result(req) {
        const response = await this.http.request(req);
        const body = response.data;
        if (body?.success !== true) {
            throw new errors/* ApiError */.hD({
                provider: 'Cloudflare',
                operation: req.operation,
                request: response.request,
                status: response.status,
                requestId: response.requestId,
                providerMessage: body?.errors?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ') ||
                    'success: false',
                retryable: false,
                attempts: response.attempts,
            });
        }
        return { result: body.result, response };
    }
    /** A list `result`, every entry an object (core/provider-list.ts). */
    async list(req) {
        const { result, response } = await this.result(req);
        return providerList(result, {
            provider: 'Cloudflare',
            operation: req.operation,
            request: response.request,
            requestId: response.requestId,
        });
    }
}

;// CONCATENATED MODULE: ./src/providers/heroku/rate-limit.ts

/**
 * Heroku's rate limit as heroku-go waits it out. The Platform API answers 429 with
 * `RateLimit-Remaining` and no `Retry-After` (devcenter.heroku.com/articles/platform-api-reference,
 * "Rate Limits": a key holds 4500 tokens and refills at about 75 a minute). heroku-go
 * (v6/round_trip_with_retry_backoff.go, cenkalti/backoff `ExponentialBackOff`) retries a 429
 * after 30 s, doubling up to 900 s, each wait spread by its `RandomizationFactor` 0.25 (30 s is
 * 22.5–37.5 s), so jobs limited together do not all send again at once; the log says the wait
 * actually taken. One key is often shared by many jobs, so below `LOW_REMAINING` tokens every
 * request first waits one refill interval (60 s / 75), which keeps this job from draining the key.
 */
const HEROKU_FIRST_WAIT_MS = 30_000;
const HEROKU_MAX_WAIT_MS = 900_000;
/** 60 s / 75 requests: the interval at which the key gains a token. */
const HEROKU_REFILL_MS = 800;
const LOW_REMAINING = 100;
/** heroku-go's `RandomizationFactor`: every wait is spread by ±25 %. */
const HEROKU_RANDOMIZATION = 0.25;
const herokuRateLimit = {
    limited({ status, headers }, count, _now, random) {
        if (status !== 429)
            return undefined;
        const remaining = headers['ratelimit-remaining'];
        return {
            waitMs: (0,rate_limit/* randomized */.Mt)((0,rate_limit/* doubling */.Bf)(count, HEROKU_FIRST_WAIT_MS, HEROKU_MAX_WAIT_MS), HEROKU_RANDOMIZATION, random),
            limit: `HTTP 429${remaining === undefined ? '' : `, RateLimit-Remaining ${remaining}`}`,
        };
    },
    pace(headers) {
        const remaining = Number(headers['ratelimit-remaining']);
        if (headers['ratelimit-remaining'] === undefined || !(remaining < LOW_REMAINING))
            return undefined;
        return {
            waitMs: HEROKU_REFILL_MS,
            limit: `RateLimit-Remaining ${remaining} on a shared key: one request per refill, 75 a minute`,
        };
    },
};

;// CONCATENATED MODULE: ./src/providers/heroku/client.ts


/**
 * The one HttpClient every Heroku resource client shares: the Platform API's
 * versioned media type and bearer auth. Resource clients (apps.ts, domains.ts...)
 * take this client, so a test or another action builds them over any base URL.
 */
const HEROKU_API_URL = 'https://api.heroku.com';
const HEROKU_ACCEPT = 'application/vnd.heroku+json; version=3';
function createHerokuHttp(options) {
    const { apiKey, baseUrl, ...rest } = options;
    return new core_http/* HttpClient */.Qq({
        // Every action takes the key as `heroku-api-key`: a 401 names it.
        credential: 'heroku-api-key',
        rateLimit: herokuRateLimit,
        ...rest,
        provider: 'Heroku',
        baseUrl: baseUrl ?? HEROKU_API_URL,
        headers: { accept: HEROKU_ACCEPT, authorization: `Bearer ${apiKey}` },
    });
}
/** Path segment for an app name, id, hostname or other identity. */
function seg(value) {
    return encodeURIComponent(value);
}

;// CONCATENATED MODULE: ./src/providers/heroku/account.ts
class HerokuAccounts {
    http;
    constructor(http) {
        this.http = http;
    }
    /** The account the API key belongs to; a 401 here means the key does not work. */
    async current() {
        const res = await this.http.request({ operation: 'account.info', path: '/account' });
        return { id: res.data.id, email: res.data.email };
    }
}

;// CONCATENATED MODULE: ./src/providers/heroku/acm.ts

/** Automated Certificate Management of an app. */
class HerokuAcm {
    http;
    constructor(http) {
        this.http = http;
    }
    /** Enabling twice leaves ACM enabled, so the POST may be retried. */
    async enable(app) {
        await this.http.request({
            operation: 'app.enable-acm',
            method: 'POST',
            path: `/apps/${seg(app)}/acm`,
            retrySafe: true,
        });
    }
}

;// CONCATENATED MODULE: ./src/providers/heroku/addon-attachments.ts


class HerokuAddonAttachments {
    http;
    constructor(http) {
        this.http = http;
    }
    async listByApp(app) {
        const res = await this.http.request({
            operation: 'add-on-attachment.list-by-app',
            path: `/apps/${seg(app)}/addon-attachments`,
            headers: { 'accept-inclusion': 'addon:plan,config_vars' },
        });
        return providerList(res.data, {
            provider: this.http.provider,
            operation: 'add-on-attachment.list-by-app',
            fields: { id: 'text', name: 'text', addon: 'object' },
            requestId: res.requestId,
            request: res.request,
        }).map((a) => ({
            id: a.id,
            name: a.name,
            addon: { id: a.addon.id, name: a.addon.name, app: a.addon.app?.name ?? '' },
            configVars: a.config_vars && a.config_vars.length > 0 ? a.config_vars : [`${a.name}_URL`],
        }));
    }
}

;// CONCATENATED MODULE: ./src/providers/heroku/apps.ts

/**
 * An app name that answers 403 exists and belongs to an account this key has no
 * access to (Heroku answers 404 only for names no app has).
 */
class HerokuAppForbidden extends Error {
    app;
    constructor(app, providerMessage) {
        super(`Heroku app ${app} exists but this heroku-api-key has no access to it (403: ${providerMessage})`);
        this.name = 'HerokuAppForbidden';
        this.app = app;
    }
}
class HerokuApps {
    http;
    constructor(http) {
        this.http = http;
    }
    /**
     * The app, or undefined when no app has that name or id.
     * @throws HerokuAppForbidden when the app exists but belongs to someone else (403).
     */
    async find(app) {
        const res = await this.http.request({
            operation: 'app.info',
            path: `/apps/${seg(app)}`,
            acceptStatus: [403, 404],
        });
        if (res.status === 403)
            throw new HerokuAppForbidden(app, res.data?.message ?? 'forbidden');
        return res.status === 404 ? undefined : toApp(res.data);
    }
    async get(app) {
        const res = await this.http.request({ operation: 'app.info', path: `/apps/${seg(app)}` });
        return toApp(res.data);
    }
    /**
     * Not retried: a create that timed out may have happened, and a second one answers
     * 422 (name taken). Callers re-observe instead.
     */
    async create(input) {
        const res = input.team
            ? await this.http.request({
                operation: 'team-app.create',
                method: 'POST',
                path: '/teams/apps',
                json: { name: input.name, region: input.region, stack: input.stack, team: input.team },
            })
            : await this.http.request({
                operation: 'app.create',
                method: 'POST',
                path: '/apps',
                json: { name: input.name, region: input.region, stack: input.stack },
            });
        return toApp(res.data);
    }
    /** Deleting an app that is already gone counts as done. */
    async delete(app) {
        const res = await this.http.request({
            operation: 'app.delete',
            method: 'DELETE',
            path: `/apps/${seg(app)}`,
            acceptStatus: [404],
        });
        return res.status !== 404;
    }
}
function toApp(json) {
    return {
        id: json.id,
        name: json.name,
        region: json.region?.name ?? '',
        stack: json.build_stack?.name ?? json.stack?.name ?? '',
        team: json.team?.name ?? json.organization?.name ?? undefined,
        ownerId: json.owner?.id ?? undefined,
        acm: json.acm === true,
        webUrl: json.web_url ?? '',
        createdAt: json.created_at ?? '',
        generation: json.generation?.name ?? 'cedar',
    };
}

;// CONCATENATED MODULE: ./src/providers/heroku/config-vars.ts

/** Config var values are secrets: callers register them before anything prints. */
class HerokuConfigVars {
    http;
    constructor(http) {
        this.http = http;
    }
    async get(app) {
        const res = await this.http.request({
            operation: 'config-var.info-for-app',
            path: `/apps/${seg(app)}/config-vars`,
        });
        const out = {};
        for (const [key, value] of Object.entries(res.data ?? {}))
            if (value !== null)
                out[key] = String(value);
        return out;
    }
    /**
     * One PATCH sets all given vars in one release; `null` removes a var. Sending the
     * same PATCH twice leaves the same config, so retrying it is safe.
     */
    async update(app, changes) {
        await this.http.request({
            operation: 'config-var.update',
            method: 'PATCH',
            path: `/apps/${seg(app)}/config-vars`,
            json: changes,
            retrySafe: true,
        });
    }
}

;// CONCATENATED MODULE: ./src/providers/heroku/domains.ts


class HerokuDomains {
    http;
    constructor(http) {
        this.http = http;
    }
    async find(app, hostname) {
        const res = await this.http.request({
            operation: 'domain.info',
            path: `/apps/${seg(app)}/domains/${seg(hostname)}`,
            acceptStatus: [404],
        });
        return res.status === 404 ? undefined : toDomain(res.data);
    }
    async list(app) {
        const res = await this.http.request({
            operation: 'domain.list',
            path: `/apps/${seg(app)}/domains`,
            // Heroku ranges a list by a field the schema declares for it; domain List declares
            // none, so the default `id` (platform-api schema, domain "List").
            headers: { range: 'id ..; max=1000' },
            acceptStatus: [206],
        });
        return providerList(res.data, {
            provider: this.http.provider,
            operation: 'domain.list',
            fields: { id: 'text', hostname: 'text', kind: 'text' },
            requestId: res.requestId,
            request: res.request,
        }).map(toDomain);
    }
    /** `sni_endpoint: null` lets ACM manage the certificate. Not retried: a second add answers 422. */
    async add(app, hostname) {
        const res = await this.http.request({
            operation: 'domain.create',
            method: 'POST',
            path: `/apps/${seg(app)}/domains`,
            json: { hostname, sni_endpoint: null },
        });
        return toDomain(res.data);
    }
}
function toDomain(json) {
    return {
        id: json.id,
        hostname: json.hostname,
        kind: json.kind,
        cname: json.cname ?? undefined,
        status: json.status ?? '',
        acmStatus: json.acm_status ?? undefined,
        acmStatusReason: json.acm_status_reason ?? undefined,
    };
}

;// CONCATENATED MODULE: ./src/providers/heroku/pipelines.ts

class HerokuPipelines {
    http;
    constructor(http) {
        this.http = http;
    }
    async get(pipeline) {
        const res = await this.http.request({
            operation: 'pipeline.info',
            path: `/pipelines/${seg(pipeline)}`,
        });
        return { id: res.data.id, name: res.data.name };
    }
}
class HerokuPipelineCouplings {
    http;
    constructor(http) {
        this.http = http;
    }
    /** The app's coupling, or undefined when the app is in no pipeline. */
    async findByApp(app) {
        const res = await this.http.request({
            operation: 'pipeline-coupling.info-by-app',
            path: `/apps/${seg(app)}/pipeline-couplings`,
            acceptStatus: [404],
        });
        return res.status === 404 ? undefined : toCoupling(res.data);
    }
    /** Not retried: a second create answers 422 (already a member); callers re-observe. */
    async create(input) {
        const res = await this.http.request({
            operation: 'pipeline-coupling.create',
            method: 'POST',
            path: '/pipeline-couplings',
            json: { app: input.app, pipeline: input.pipelineId, stage: input.stage },
        });
        return toCoupling(res.data);
    }
    async updateStage(couplingId, stage) {
        const res = await this.http.request({
            operation: 'pipeline-coupling.update',
            method: 'PATCH',
            path: `/pipeline-couplings/${seg(couplingId)}`,
            json: { stage },
            retrySafe: true,
        });
        return toCoupling(res.data);
    }
}
function toCoupling(json) {
    return { id: json.id, appId: json.app.id, pipelineId: json.pipeline.id, stage: json.stage };
}

;// CONCATENATED MODULE: ./src/providers/heroku/promotions.ts


class HerokuPromotions {
    http;
    constructor(http) {
        this.http = http;
    }
    /** Not retried: a second POST would promote again. */
    async create(input) {
        const source = { app: { id: input.sourceAppId } };
        if (input.sourceReleaseId)
            source.release = { id: input.sourceReleaseId };
        const res = await this.http.request({
            operation: 'pipeline-promotion.create',
            method: 'POST',
            path: '/pipeline-promotions',
            json: {
                pipeline: { id: input.pipelineId },
                source,
                targets: input.targetAppIds.map((id) => ({ app: { id } })),
            },
        });
        return { id: res.data.id, status: res.data.status };
    }
    async targets(promotionId) {
        const res = await this.http.request({
            operation: 'pipeline-promotion-target.list',
            path: `/pipeline-promotions/${seg(promotionId)}/promotion-targets`,
        });
        return providerList(res.data, {
            provider: this.http.provider,
            operation: 'pipeline-promotion-target.list',
            fields: { id: 'text', app: 'object', status: 'text' },
            requestId: res.requestId,
            request: res.request,
        }).map((t) => ({
            id: t.id,
            appId: t.app.id,
            status: t.status,
            errorMessage: t.error_message ?? undefined,
            releaseId: t.release?.id ?? undefined,
        }));
    }
}

;// CONCATENATED MODULE: ./src/providers/heroku/releases.ts


class HerokuReleases {
    http;
    constructor(http) {
        this.http = http;
    }
    /** The newest releases first (Heroku's `Range` paging, one page). */
    async latest(app, max = 25) {
        const res = await this.http.request({
            operation: 'release.list',
            path: `/apps/${seg(app)}/releases`,
            headers: { range: `version ..; max=${max}, order=desc` },
            acceptStatus: [206],
        });
        return providerList(res.data, {
            provider: this.http.provider,
            operation: 'release.list',
            fields: { id: 'text', version: 'number', status: 'text' },
            requestId: res.requestId,
            request: res.request,
        }).map(toRelease);
    }
    /** The release the app runs now: flagged `current`, else the newest that succeeded. */
    async current(app) {
        const releases = await this.latest(app);
        return releases.find((r) => r.current) ?? releases.find((r) => r.status === 'succeeded');
    }
}
function toRelease(r) {
    return {
        id: r.id,
        version: r.version,
        status: r.status,
        slugId: r.slug?.id ?? undefined,
        current: r.current === true,
        description: r.description ?? '',
        eligibleForRollback: r.eligible_for_rollback ?? r.status === 'succeeded',
    };
}

;// CONCATENATED MODULE: ./src/providers/heroku/index.ts









function herokuClients(http) {
    return {
        account: new HerokuAccounts(http),
        apps: new HerokuApps(http),
        configVars: new HerokuConfigVars(http),
        attachments: new HerokuAddonAttachments(http),
        pipelines: new HerokuPipelines(http),
        couplings: new HerokuPipelineCouplings(http),
        domains: new HerokuDomains(http),
        acm: new HerokuAcm(http),
        releases: new HerokuReleases(http),
        promotions: new HerokuPromotions(http),
    };
}

;// CONCATENATED MODULE: ./src/providers/hetzner/rate-limit.ts

/**
 * Hetzner Cloud's rate limit as hcloud-go waits it out. A 429 carries the error code
 * `rate_limit_exceeded` and `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (epoch seconds when the whole quota is back) and no `Retry-After` (docs.hetzner.cloud,
 * "Rate Limiting": 3600 requests an hour, one more every second).
 * hcloud-go reads the headers (hcloud/client_handler_rate_limit.go) and retries a 429 with its
 * default backoff (hcloud/client.go `NewClient`, hcloud/client_handler_retry.go): 1 s doubling,
 * capped at 60 s, with full jitter above the base, at most 5 retries (`retryMaxRetries`): the
 * sixth limited answer in a row fails. A wait never outlasts `RateLimit-Reset`.
 */
const HETZNER_FIRST_WAIT_MS = 1000;
const HETZNER_MAX_WAIT_MS = 60_000;
/** hcloud-go's `retryMaxRetries`: 5 retries, so the 6th rate-limited answer in a row is the last. */
const HETZNER_MAX_LIMITED_ANSWERS = 6;
const hetznerRateLimit = {
    maxLimited: HETZNER_MAX_LIMITED_ANSWERS,
    limited({ status, headers }, count, now, random) {
        if (status !== 429)
            return undefined;
        const backoff = (0,rate_limit/* doubling */.Bf)(count, HETZNER_FIRST_WAIT_MS, HETZNER_MAX_WAIT_MS);
        const jittered = HETZNER_FIRST_WAIT_MS + (backoff - HETZNER_FIRST_WAIT_MS) * random();
        const untilReset = (0,rate_limit/* untilEpochSeconds */.Ri)(headers['ratelimit-reset'], now);
        const waitMs = Math.round(untilReset === undefined ? jittered : Math.max(HETZNER_FIRST_WAIT_MS, Math.min(jittered, untilReset)));
        const parts = ['HTTP 429'];
        if (headers['ratelimit-remaining'] !== undefined)
            parts.push(`RateLimit-Remaining ${headers['ratelimit-remaining']}${headers['ratelimit-limit'] ? ` of ${headers['ratelimit-limit']}` : ''}`);
        if (untilReset !== undefined)
            parts.push(`RateLimit-Reset ${new Date(Number(headers['ratelimit-reset']) * 1000).toISOString()}`);
        return { waitMs, limit: parts.join(', ') };
    },
};

;// CONCATENATED MODULE: ./src/providers/hetzner/client.ts


/**
 * The HttpClient the Hetzner Cloud resource clients share (`Authorization: Bearer`).
 * DNS lives in the Cloud API since the old dns.hetzner.com API was shut down.
 */
const HETZNER_API_URL = 'https://api.hetzner.cloud/v1';
/**
 * hcloud-go's retry set (hcloud/client_handler_retry.go `retryPolicy`): the error codes
 * `conflict` ("the resource has changed during the request, please retry"), `rate_limit_exceeded`
 * (waited out by rate-limit.ts), `bad_gateway` and `timeout`, and an answer of HTTP 502 or 504
 * without a Hetzner error body. Beyond it, `locked` (HTTP 423, "there is already an action
 * running" on the resource): hcloud-go leaves it to its caller, and we are that caller. The
 * lock ends with the running action, so it is waited out with the same backoff and bound
 * (issues 15 and 16 ask for it). Not retried: a 500, or a 503 `maintenance`.
 * `conflict` and `locked` mean nothing was done, so they are sent again whatever the method;
 * a gateway error may hide work done, so only an idempotent request is.
 */
const REFUSED_ERROR_CODES = new Set(['conflict', 'locked']);
const TRANSIENT_ERROR_CODES = new Set(['bad_gateway', 'timeout']);
const TRANSIENT_STATUSES = new Set([502, 504]);
function hetznerErrorCode(body) {
    const error = body?.error;
    return typeof error?.code === 'string' ? error.code : undefined;
}
/** Whether hcloud-go would send a request answered `status` with `body` again (see above). */
function hcloudRetries(status, body) {
    const code = hetznerErrorCode(body);
    if (code !== undefined)
        return REFUSED_ERROR_CODES.has(code) || TRANSIENT_ERROR_CODES.has(code);
    return TRANSIENT_STATUSES.has(status);
}
function createHetznerHttp(options) {
    const { token, baseUrl, ...rest } = options;
    return new core_http/* HttpClient */.Qq({
        rateLimit: hetznerRateLimit,
        // hcloud-go's retry defaults (hcloud/client.go `NewClient`): 5 retries, 1 s doubling to 60 s.
        retry: { retries: 5, baseDelayMs: 1000, maxDelayMs: 60_000 },
        ...rest,
        provider: 'Hetzner',
        baseUrl: baseUrl ?? HETZNER_API_URL,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        isRefusedRetryable: (_status, body) => REFUSED_ERROR_CODES.has(hetznerErrorCode(body) ?? ''),
        isRetryable: hcloudRetries,
    });
}

// EXTERNAL MODULE: ./src/core/secrets.ts
var secrets = __webpack_require__(8198);
;// CONCATENATED MODULE: ./src/clone/config.ts

/**
 * How action-clone recognises an app it created: this config var, holding the
 * source app's id, is set on the new app by the first request after the create
 * (before any other change), so an app carrying it is ours to finish. See
 * `ownership` in plan.ts for the crash window between those two requests.
 */
const MARKER_VAR = 'OPS_ACTIONS_CLONE_OF';
function isExcluded(key, patterns) {
    return patterns.some((p) => (p.endsWith('*') ? key.startsWith(p.slice(0, -1)) : key === p));
}
/** Add-on values shorter than this are not looked for inside other values (a region, `1`, `true`). */
const MIN_ADDON_VALUE_LENGTH = 16;
const MIN_PASSWORD_LENGTH = 8;
/**
 * What gives an add-on's credentials away inside another var: the value itself,
 * and for a URL with credentials its password and its `host:port/path` (the same
 * database under another scheme, `postgresql://` for `postgres://`, or split into
 * PGHOST/PGPASSWORD-style parts).
 */
function addonFingerprints(value) {
    const prints = [];
    if (value.length >= MIN_ADDON_VALUE_LENGTH && !(0,secrets/* isPlainValue */.YJ)(value))
        prints.push(value);
    const url = URL.parse(value);
    if (url === null)
        return prints;
    const password = decodeURIComponent(url.password);
    if (password.length >= MIN_PASSWORD_LENGTH)
        prints.push(password);
    if (url.password !== '' && url.host !== '')
        prints.push(`${url.host}${url.pathname === '/' ? '' : url.pathname}`);
    return prints;
}
/**
 * Source config minus add-on-owned vars (and hand-set copies of their values), minus
 * `exclude-config`, minus the source's own marker (the source may itself be a clone);
 * then `config` overrides, `folder-var=folder` and our marker, each winning over what
 * came before.
 */
function desiredConfig(settings, source) {
    const owned = new Set(source.addonVars);
    const fingerprints = source.addonVars.flatMap((key) => {
        const value = source.config[key];
        return value === undefined ? [] : addonFingerprints(value);
    });
    const vars = {};
    const addonOwned = [];
    const addonDerived = [];
    const excluded = [];
    for (const key of Object.keys(source.config).sort()) {
        if (key === MARKER_VAR)
            continue;
        const value = source.config[key];
        if (owned.has(key)) {
            if (!(key in settings.config))
                addonOwned.push(key);
        }
        else if (isExcluded(key, settings.excludeConfig))
            excluded.push(key);
        else if (fingerprints.some((v) => value.includes(v))) {
            if (!(key in settings.config))
                addonDerived.push(key);
        }
        else
            vars[key] = value;
    }
    Object.assign(vars, settings.config);
    if (settings.folder !== undefined)
        vars[settings.folderVar] = settings.folder;
    vars[MARKER_VAR] = source.id;
    return { vars, addonOwned, addonDerived, excluded };
}
/** Keys whose value on the clone differs from the desired one (missing included), sorted. */
function configToSet(desired, current) {
    return Object.keys(desired)
        .filter((key) => current[key] !== desired[key])
        .sort();
}

;// CONCATENATED MODULE: ./src/providers/cloudflare/dns-records.ts
class CloudflareDnsRecords {
    cf;
    constructor(cf) {
        this.cf = cf;
    }
    /** Records of any type at a fully qualified name (a CNAME excludes every other type there). */
    async byName(zoneId, fqdn) {
        const result = await this.cf.list({
            operation: 'dns-records-for-a-zone-list-dns-records',
            path: `/zones/${encodeURIComponent(zoneId)}/dns_records`,
            query: { name: fqdn, per_page: 100 },
        });
        return result.map(pick);
    }
    /** Not retried: a second create answers 81053/81058 (exists); callers re-observe. */
    async create(zoneId, input) {
        const { result } = await this.cf.result({
            operation: 'dns-records-for-a-zone-create-dns-record',
            method: 'POST',
            path: `/zones/${encodeURIComponent(zoneId)}/dns_records`,
            json: input,
        });
        return pick(result);
    }
    /** PUT replaces the whole record, so it is idempotent. */
    async update(zoneId, id, input) {
        const { result } = await this.cf.result({
            operation: 'dns-records-for-a-zone-update-dns-record',
            method: 'PUT',
            path: `/zones/${encodeURIComponent(zoneId)}/dns_records/${encodeURIComponent(id)}`,
            json: input,
        });
        return pick(result);
    }
    /** Deleting a record that is already gone counts as done. */
    async delete(zoneId, id) {
        await this.cf.http.request({
            operation: 'dns-records-for-a-zone-delete-dns-record',
            method: 'DELETE',
            path: `/zones/${encodeURIComponent(zoneId)}/dns_records/${encodeURIComponent(id)}`,
            acceptStatus: [404],
        });
    }
}
function pick(r) {
    return { id: r.id, name: r.name, type: r.type, content: r.content, ttl: r.ttl, proxied: r.proxied };
}

;// CONCATENATED MODULE: ./src/providers/cloudflare/zones.ts
class CloudflareZones {
    cf;
    constructor(cf) {
        this.cf = cf;
    }
    async findByName(name) {
        const result = await this.cf.list({
            operation: 'zones-get',
            path: '/zones',
            query: { name },
        });
        const zone = result.find((z) => z.name === name);
        return zone ? { id: zone.id, name: zone.name } : undefined;
    }
}

;// CONCATENATED MODULE: ./src/providers/hetzner/actions.ts

function toAction(json) {
    return { id: json.id, command: json.command, status: json.status, error: json.error ?? undefined };
}
class HetznerActionFailed extends Error {
    action;
    constructor(action) {
        const why = action.error ? `${action.error.code}: ${action.error.message}` : 'no reason given';
        super(`Hetzner action ${action.command} (${action.id}) ended in error: ${why}`);
        this.name = 'HetznerActionFailed';
        this.action = action;
    }
}
class HetznerActions {
    http;
    sleep;
    constructor(http, sleep = core_http/* abortableSleep */.Mf) {
        this.http = http;
        this.sleep = sleep;
    }
    async get(id) {
        const res = await this.http.request({
            operation: 'get_zone_action',
            path: `/zones/actions/${id}`,
        });
        return toAction(res.data.action);
    }
    /** Polls until the action leaves `running`; an `error` outcome throws with Hetzner's reason. */
    async wait(action, options = {}) {
        let current = action;
        let interval = options.intervalMs ?? 200;
        while (current.status === 'running') {
            await this.sleep(interval, options.signal);
            interval = Math.min(interval * 2, options.maxIntervalMs ?? 2000);
            current = await this.get(current.id);
        }
        if (current.status === 'error')
            throw new HetznerActionFailed(current);
        return current;
    }
}

;// CONCATENATED MODULE: ./src/providers/hetzner/rrsets.ts


class HetznerRRSets {
    http;
    constructor(http) {
        this.http = http;
    }
    path(zone, name, type) {
        return `/zones/${encodeURIComponent(String(zone))}/rrsets/${encodeURIComponent(name)}/${type}`;
    }
    /** Every RRSet at a name, of any type (`GET /zones/{zone}/rrsets?name=`); a name holds few, one page. */
    async listByName(zone, name) {
        const res = await this.http.request({
            operation: 'list_rrsets',
            path: `/zones/${encodeURIComponent(String(zone))}/rrsets`,
            query: { name, per_page: 50 },
        });
        const where = {
            provider: this.http.provider,
            operation: 'list_rrsets',
            request: res.request,
            requestId: res.requestId,
        };
        const rrsets = providerList(res.data, {
            ...where,
            field: 'rrsets',
            fields: { name: 'text', type: 'text' },
        });
        return rrsets.map((r) => toRRSet(r, providerList(r, { ...where, field: 'records', fields: { value: 'string' } })));
    }
    /** Not retried: a second create answers 409 (uniqueness_error); callers re-observe. */
    async create(zone, input) {
        const res = await this.http.request({
            operation: 'create_rrset',
            method: 'POST',
            path: `/zones/${encodeURIComponent(String(zone))}/rrsets`,
            json: {
                name: input.name,
                type: input.type,
                ttl: input.ttl,
                records: input.values.map((value) => ({ value })),
                labels: input.labels ?? {},
            },
        });
        return toAction(res.data.action);
    }
    /** Replaces the records; sending it twice gives the same set, so it may be retried. */
    async setRecords(zone, name, type, values) {
        const res = await this.http.request({
            operation: 'set_records_of_rrset',
            method: 'POST',
            path: `${this.path(zone, name, type)}/actions/set_records`,
            json: { records: values.map((value) => ({ value })) },
            retrySafe: true,
        });
        return toAction(res.data.action);
    }
    async changeTtl(zone, name, type, ttl) {
        const res = await this.http.request({
            operation: 'change_rrsets_ttl',
            method: 'POST',
            path: `${this.path(zone, name, type)}/actions/change_ttl`,
            json: { ttl },
            retrySafe: true,
        });
        return toAction(res.data.action);
    }
    /** Deleting an RRSet that is already gone counts as done (undefined: no action to wait for). */
    async delete(zone, name, type) {
        const res = await this.http.request({
            operation: 'delete_rrset',
            method: 'DELETE',
            path: this.path(zone, name, type),
            acceptStatus: [404],
        });
        return res.status === 404 ? undefined : toAction(res.data.action);
    }
}
function toRRSet(r, records) {
    return {
        name: r.name,
        type: r.type,
        ttl: r.ttl,
        values: records.map((x) => x.value),
        protected: r.protection?.change === true,
    };
}

;// CONCATENATED MODULE: ./src/providers/hetzner/zones.ts
class HetznerZones {
    http;
    constructor(http) {
        this.http = http;
    }
    /** By id or name; undefined when the token sees no such zone. */
    async find(idOrName) {
        const res = await this.http.request({
            operation: 'get_zone',
            path: `/zones/${encodeURIComponent(String(idOrName))}`,
            acceptStatus: [404],
        });
        if (res.status === 404)
            return undefined;
        const z = res.data.zone;
        return { id: z.id, name: z.name, ttl: z.ttl, status: z.status ?? '' };
    }
}

;// CONCATENATED MODULE: ./src/clone/dns.ts
/**
 * The DNS record of the clone as provider-neutral data, and the one pure rule that
 * decides what to change: create it, or update only what differs.
 */
/**
 * Zones that could hold `domain`, longest first: the domain itself, then each parent
 * with at least two labels (`a.b.example.com` → itself, `b.example.com`, `example.com`).
 * The zone is the longest one the provider has, as resolvers delegate.
 */
function candidateZones(domain) {
    const labels = domain.toLowerCase().replace(/\.+$/, '').split('.');
    return labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
}
/** The record name of `label.domain` relative to `zone`; `zone` is `domain` or a parent of it. */
function relativeName(label, domain, zone) {
    const d = domain.toLowerCase().replace(/\.+$/, '');
    return d === zone ? label : `${label}.${d.slice(0, d.length - zone.length - 1)}`;
}
/** `xyz.herokudns.com` → `xyz.herokudns.com.` */
function fqdnValue(target) {
    return `${target.trim().toLowerCase().replace(/\.+$/, '')}.`;
}
function decideDns(existing, target, ttl) {
    if (!existing)
        return { op: 'create' };
    const changes = [];
    const want = fqdnValue(target);
    if (existing.values.length !== 1 || fqdnValue(existing.values[0]) !== want)
        changes.push('records');
    if (existing.ttl !== ttl)
        changes.push('ttl');
    if (existing.proxied === true)
        changes.push('proxied');
    return changes.length === 0 ? { op: 'none' } : { op: 'update', changes };
}

;// CONCATENATED MODULE: ./src/clone/dns-zones.ts







/** The clone's DNS step over Hetzner Cloud and Cloudflare, behind the `DnsZone` interface. */
class ZoneNotFound extends Error {
    constructor(provider, domain) {
        const tried = candidateZones(domain);
        super(`${provider} has no zone ${tried.length > 1 ? `for ${domain} (tried ${tried.join(', ')})` : domain} that this dns-token can see`);
        this.name = 'ZoneNotFound';
    }
}
/**
 * A token that cannot list zones: Cloudflare answers 403 (9109 "Unauthorized to
 * access requested resource") to `GET /zones` for a token without Zone:Zone:Read,
 * e.g. one made from the "Edit zone DNS" template (ddclient/ddclient#834,
 * octodns/octodns-cloudflare#60).
 */
class ZoneReadDenied extends Error {
    constructor(cause) {
        super(`dns-token was refused by Cloudflare when looking up the zone (${cause.status}: ${cause.providerMessage ?? 'forbidden'}): the token needs the Zone → Zone → Read permission as well as Zone → DNS → Edit. The "Edit zone DNS" template grants only DNS edit; edit the token in the Cloudflare dashboard (My Profile → API Tokens) and add Zone:Read for this zone`);
        this.name = 'ZoneReadDenied';
    }
}
/**
 * Cloudflare's 403 (9109) for a token that is not valid at all (wrong, expired, revoked: "Invalid
 * access token") or not from this address ("Cannot use the access token from location: …"), as
 * answered to `GET /zones` (jeessy2/ddns-go#890): no permission would help, the token itself is
 * refused, and the plain refusal of dns-token says so.
 */
function refusesTheToken(error) {
    return /invalid access token|cannot use the access token/i.test(error.providerMessage ?? '');
}
/** Another record type holds the name, so a CNAME cannot be added there. */
class NameTaken extends Error {
    constructor(fqdn, types) {
        super(`${fqdn} already has ${types.join(', ')} record(s); a CNAME cannot coexist with them`);
        this.name = 'NameTaken';
    }
}
/**
 * A read-only Hetzner token passes every read of the preflight and is refused on
 * the first write with 403 `token_readonly` ("the token is only allowed to perform
 * GET requests"; hcloud-go hcloud/error.go).
 */
class TokenReadOnly extends Error {
    constructor(cause) {
        super(`dns-token is a read-only Hetzner API token: Hetzner refused ${cause.request} (403: ${cause.providerMessage ?? 'token_readonly'}). Create a token with Read & Write permission in the Hetzner Console (your project → Security → API tokens) and store it as the dns-token secret`);
        this.name = 'TokenReadOnly';
    }
}
async function hetznerWrite(write) {
    try {
        return await write();
    }
    catch (error) {
        if (error instanceof errors/* ApiError */.hD &&
            error.status === 403 &&
            /^token_readonly\b/.test(error.providerMessage ?? ''))
            throw new TokenReadOnly(error);
        throw error;
    }
}
/**
 * A name between the zone and the record that holds NS records is delegated to
 * other name servers: a record written below it in this zone is never served.
 */
class NameDelegated extends Error {
    constructor(fqdn, servers) {
        super(`${fqdn} is delegated to other name servers (NS ${servers.join(', ')}): a record for it in this zone would never be served. Use the dns-provider and dns-token of the zone that serves ${fqdn}`);
        this.name = 'NameDelegated';
    }
}
/** The names strictly between the zone and a record: `tati.a.staging` → `a.staging`, `staging`. */
function namesAbove(name) {
    const labels = name.split('.');
    return labels.slice(1).map((_, i) => labels.slice(i + 1).join('.'));
}
/** The first zone `find` knows, longest candidate first. */
async function longestZone(domain, find) {
    for (const name of candidateZones(domain)) {
        const zone = await find(name);
        if (zone)
            return zone;
    }
    return undefined;
}
async function openHetznerZone(http, domain, signal) {
    const zones = new HetznerZones(http);
    const zone = await longestZone(domain, (name) => zones.find(name));
    if (!zone)
        throw new ZoneNotFound('Hetzner', domain);
    const rrsets = new HetznerRRSets(http);
    const actions = new HetznerActions(http);
    const wait = { signal };
    return {
        provider: 'hetzner',
        zone: zone.name,
        recordName: (label) => relativeName(label, domain, zone.name),
        async find(name) {
            for (const above of namesAbove(name)) {
                const ns = (await rrsets.listByName(zone.id, above)).find((r) => r.type === 'NS');
                if (ns)
                    throw new NameDelegated(`${above}.${zone.name}`, ns.values);
            }
            // Every type at the name: a CNAME cannot share it with any other (RFC 1034 §3.6.2).
            const all = await rrsets.listByName(zone.id, name);
            const rrset = all.find((r) => r.type === 'CNAME');
            if (!rrset) {
                if (all.length > 0)
                    throw new NameTaken(`${name}.${zone.name}`, [...new Set(all.map((r) => r.type))]);
                return undefined;
            }
            return {
                // A value without its final dot is relative to the zone, as in a zone file.
                values: rrset.values.map((v) => (v.endsWith('.') ? fqdnValue(v) : fqdnValue(`${v}.${zone.name}`))),
                ttl: rrset.ttl,
                protected: rrset.protected,
            };
        },
        create: (name, target, ttl) => hetznerWrite(async () => {
            const action = await rrsets.create(zone.id, {
                name,
                type: 'CNAME',
                ttl,
                values: [fqdnValue(target)],
                labels: { 'managed-by': 'ops-actions-clone' },
            });
            await actions.wait(action, wait);
            return { values: [fqdnValue(target)], ttl };
        }),
        update: (name, _existing, target, ttl, changes) => hetznerWrite(async () => {
            if (changes.includes('records')) {
                await actions.wait(await rrsets.setRecords(zone.id, name, 'CNAME', [fqdnValue(target)]), wait);
            }
            if (changes.includes('ttl')) {
                await actions.wait(await rrsets.changeTtl(zone.id, name, 'CNAME', ttl), wait);
            }
        }),
        restore: (name, _current, previous) => hetznerWrite(async () => {
            await actions.wait(await rrsets.setRecords(zone.id, name, 'CNAME', previous.values), wait);
            if (previous.ttl !== null)
                await actions.wait(await rrsets.changeTtl(zone.id, name, 'CNAME', previous.ttl), wait);
        }),
        remove: (name) => hetznerWrite(async () => {
            const action = await rrsets.delete(zone.id, name, 'CNAME');
            if (action)
                await actions.wait(action, wait);
        }),
    };
}
async function openCloudflareZone(cf, domain) {
    const zones = new CloudflareZones(cf);
    const zone = await longestZone(domain, (name) => zones.findByName(name).catch((error) => {
        if (error instanceof errors/* ApiError */.hD && error.status === 403 && !refusesTheToken(error))
            throw new ZoneReadDenied(error);
        throw error;
    }));
    if (!zone)
        throw new ZoneNotFound('Cloudflare', domain);
    const records = new CloudflareDnsRecords(cf);
    const fqdn = (name) => `${name}.${zone.name}`;
    // Proxied off: ACM validates the certificate against the Heroku target itself.
    const input = (name, target, ttl) => ({
        name: fqdn(name),
        type: 'CNAME',
        content: fqdnValue(target).slice(0, -1),
        ttl,
        proxied: false,
    });
    return {
        provider: 'cloudflare',
        zone: zone.name,
        recordName: (label) => relativeName(label, domain, zone.name),
        async find(name) {
            for (const above of namesAbove(name)) {
                const ns = (await records.byName(zone.id, fqdn(above))).filter((r) => r.type === 'NS');
                if (ns.length > 0)
                    throw new NameDelegated(fqdn(above), ns.map((r) => r.content));
            }
            const all = await records.byName(zone.id, fqdn(name));
            const cname = all.find((r) => r.type === 'CNAME');
            if (!cname) {
                if (all.length > 0)
                    throw new NameTaken(fqdn(name), [...new Set(all.map((r) => r.type))]);
                return undefined;
            }
            return { id: cname.id, values: [fqdnValue(cname.content)], ttl: cname.ttl, proxied: cname.proxied };
        },
        async create(name, target, ttl) {
            const created = await records.create(zone.id, input(name, target, ttl));
            return { id: created.id, values: [fqdnValue(created.content)], ttl: created.ttl, proxied: false };
        },
        async update(name, existing, target, ttl) {
            await records.update(zone.id, existing.id, input(name, target, ttl));
        },
        async restore(name, current, previous) {
            await records.update(zone.id, current.id ?? previous.id, {
                ...input(name, previous.values[0], previous.ttl ?? 1),
                proxied: previous.proxied === true,
            });
        },
        async remove(_name, existing) {
            if (existing.id)
                await records.delete(zone.id, existing.id);
        },
    };
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
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

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
;// CONCATENATED MODULE: ./src/clone/servers-file.ts


/**
 * The append-only servers file of seed 000: one line per clone,
 * `<name>,<folder>,<heroku_url>,<subdomain_url>,<created_at>`, no header.
 */
/** `2025-11-21T18:42:10Z`: UTC to the second. */
function formatUtc(date) {
    return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
/** The seed writes the app's base URL without a trailing slash. */
function baseUrl(webUrl) {
    return webUrl.replace(/\/+$/, '');
}
function subdomainUrl(settings) {
    return settings.dns.domain === undefined ? '' : `https://${settings.name}.${settings.dns.domain}`;
}
/** Everything of the line but the timestamp: what identifies a clone's record. */
function recordPrefix(settings, webUrl) {
    return [settings.name, settings.folder ?? '', baseUrl(webUrl), subdomainUrl(settings)].join(',');
}
function formatRecord(settings, webUrl, createdAt) {
    return `${recordPrefix(settings, webUrl)},${formatUtc(createdAt)}`;
}
/** The line of an earlier successful run for the same clone, so a re-run does not add a second. */
function findRecord(text, prefix) {
    return text.split(/\r?\n/).find((line) => line.startsWith(`${prefix},`));
}
/** Relative paths are relative to the workspace (the repository root on a runner). */
function resolveServersFile(file, workspace) {
    return (0,external_node_path_.isAbsolute)(file) ? file : (0,external_node_path_.resolve)(workspace ?? process.cwd(), file);
}
/** `line` goes through `redact` (the run's secrets) first: the file is committed or uploaded by workflows. */
function appendRecord(path, line, redact) {
    (0,external_node_fs_.mkdirSync)((0,external_node_path_.dirname)(path), { recursive: true });
    const text = (0,external_node_fs_.existsSync)(path) ? (0,external_node_fs_.readFileSync)(path, 'utf8') : '';
    const lead = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
    (0,external_node_fs_.appendFileSync)(path, `${lead}${redact(line)}\n`, 'utf8');
}

;// CONCATENATED MODULE: ./src/clone/observe.ts







function hostnameOf(settings) {
    return settings.dns.domain === undefined ? undefined : `${settings.name}.${settings.dns.domain}`;
}
/** The clone's DNS record; a provider's refusal or failure says which record could not be read. */
function readDnsRecord(dns, name) {
    const record = dns.recordName(name);
    return dns.find(record).catch((error) => {
        if (error instanceof errors/* ApiError */.hD)
            throw new errors/* StepError */.zg('preflight', (0,core_message/* msg */.ab) `read the DNS record ${record}.${dns.zone}`, error);
        throw error;
    });
}
async function observe(settings, deps) {
    const { heroku } = deps;
    const fail = (source, message) => new errors/* StepError */.zg('preflight', (0,core_message/* msg */.ab) `clone source app ${source}`, new Error(message));
    const [account, sourceApp] = await Promise.all([
        heroku.account.current(),
        heroku.apps.find(settings.sourceApp).catch((error) => {
            if (error instanceof HerokuAppForbidden)
                throw fail(settings.sourceApp, error.message);
            throw error;
        }),
    ]);
    if (!sourceApp)
        throw fail(settings.sourceApp, `Heroku has no app ${settings.sourceApp} that this key can see`);
    if (sourceApp.generation === 'fir') {
        throw fail(settings.sourceApp, `${settings.sourceApp} is a Fir-generation app: its releases are OCI images, not slugs, and action-clone copies a slug through a pipeline promotion, which only Cedar-generation apps have`);
    }
    const [config, attachments, coupling, release, target, record] = await Promise.all([
        heroku.configVars.get(sourceApp.id),
        heroku.attachments.listByApp(sourceApp.id),
        heroku.couplings.findByApp(sourceApp.id),
        heroku.releases.current(sourceApp.id),
        observeTarget(settings, deps),
        deps.dns ? readDnsRecord(deps.dns, settings.name) : Promise.resolve(undefined),
    ]);
    registerSecrets(config, settings, deps);
    if (!coupling) {
        throw fail(settings.sourceApp, `${settings.sourceApp} is in no pipeline: the clone's release is promoted through the source's pipeline`);
    }
    if (!release?.slugId) {
        throw fail(settings.sourceApp, `${settings.sourceApp} has no release with code to promote`);
    }
    const pipeline = await heroku.pipelines.get(coupling.pipelineId);
    const serversRecord = 'forbidden' in target || target.found === undefined
        ? undefined
        : findRecord(readIfExists(deps.serversPath), recordPrefix(settings, target.found.app.webUrl));
    return {
        account,
        source: {
            app: sourceApp,
            config,
            addonVars: [...new Set(attachments.flatMap((a) => a.configVars))].sort(),
            pipeline,
            stage: coupling.stage,
            release: { id: release.id, version: release.version, slugId: release.slugId },
        },
        target: 'forbidden' in target ? undefined : target.found,
        targetForbidden: 'forbidden' in target ? target.forbidden : undefined,
        dns: deps.dns
            ? { provider: deps.dns.provider, zone: deps.dns.zone, name: deps.dns.recordName(settings.name), record }
            : undefined,
        serversRecord,
    };
}
async function observeTarget(settings, deps) {
    const { heroku } = deps;
    let app;
    try {
        app = await heroku.apps.find(settings.appName);
    }
    catch (error) {
        if (error instanceof HerokuAppForbidden)
            return { forbidden: error.message };
        throw error;
    }
    if (!app)
        return { found: undefined };
    const hostname = hostnameOf(settings);
    const [config, coupling, domains, releases] = await Promise.all([
        heroku.configVars.get(app.id),
        heroku.couplings.findByApp(app.id),
        heroku.domains.list(app.id),
        heroku.releases.latest(app.id),
    ]);
    registerSecrets(config, settings, deps);
    const current = releases.find((r) => r.current) ?? releases.find((r) => r.status === 'succeeded');
    return {
        found: {
            app,
            config,
            coupling,
            domain: hostname === undefined ? undefined : domains.find((d) => d.hostname === hostname),
            customDomains: domains.filter((d) => d.kind === 'custom').length,
            currentSlugId: current?.slugId,
            hasCode: releases.some((r) => r.slugId !== undefined),
        },
    };
}
/**
 * Config values are secrets (core `isSecretConfigValue`: every value of a secret-named
 * var, any other but plain words and numbers), except two we print on purpose: our
 * marker (an app id) and the `folder` input, which the servers file records by design.
 */
function registerSecrets(config, settings, deps) {
    for (const [key, value] of Object.entries(config)) {
        if (key === MARKER_VAR || value === settings.folder)
            continue;
        if ((0,secrets/* isSecretConfigValue */.qW)(key, value))
            deps.secret(value);
    }
}
function readIfExists(path) {
    try {
        return (0,external_node_fs_.existsSync)(path) ? (0,external_node_fs_.readFileSync)(path, 'utf8') : '';
    }
    catch {
        return '';
    }
}

;// CONCATENATED MODULE: ./src/clone/plan.ts





/**
 * The rule that recognises our app. An app carrying MARKER_VAR equal to the source's
 * id is ours (we set it in the first request after the create). Between the create
 * and that request a run can die (crash, timeout, a failed PATCH): the app then has
 * no marker. Such an app is claimed only when it is pristine, so that claiming it can
 * hurt nobody: owned by this key's account (or the clone's team), no config vars at
 * all, in no pipeline, no custom domain, ACM off, and no release that ever carried
 * code. Any other app of the name — one with another source's marker included — is
 * refused, named, and never modified.
 */
function ownership(settings, observed) {
    if (observed.targetForbidden !== undefined) {
        throw new errors/* StepError */.zg('app.create', (0,core_message/* msg */.ab) `create Heroku app ${settings.appName}`, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `${observed.targetForbidden}: the name is taken by an app of another account, so refusing to touch it. Choose another app-name or name`));
    }
    const target = observed.target;
    if (!target)
        return 'absent';
    const marker = target.config[MARKER_VAR];
    if (marker === observed.source.app.id)
        return 'ours';
    if (marker === undefined && isPristine(target, observed, teamOf(settings, observed)))
        return 'claimable';
    const why = marker === undefined
        ? `it has no ${MARKER_VAR} config var, so action-clone did not create it`
        : `its ${MARKER_VAR} names another source app (${marker})`;
    throw new errors/* StepError */.zg('app.create', (0,core_message/* msg */.ab) `create Heroku app ${settings.appName}`, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `Heroku app ${settings.appName} already exists and ${why}: refusing to modify it. Choose another app-name or name, or delete that app`));
}
function isPristine(target, observed, team) {
    const owned = target.app.team !== undefined ? target.app.team === team : target.app.ownerId === observed.account.id;
    return (owned &&
        Object.keys(target.config).length === 0 &&
        target.coupling === undefined &&
        target.customDomains === 0 &&
        !target.app.acm &&
        !target.hasCode);
}
function teamOf(settings, observed) {
    return settings.team ?? observed.source.app.team;
}
function buildPlan(settings, observed) {
    const own = ownership(settings, observed);
    const app = settings.appName;
    const { source } = observed;
    const target = observed.target;
    const steps = [];
    steps.push({
        kind: 'app.create',
        app,
        region: settings.region ?? source.app.region,
        stack: settings.stack ?? source.app.stack,
        team: teamOf(settings, observed),
        exists: own !== 'absent',
    });
    if (own === 'claimable')
        steps.push({ kind: 'app.claim', app, marker: MARKER_VAR, exists: false });
    const desired = desiredConfig(settings, {
        id: source.app.id,
        config: source.config,
        addonVars: source.addonVars,
    });
    const current = target?.config ?? {};
    // The marker goes with the create (or the claim), never with the copied config.
    const missing = configToSet(desired.vars, current).filter((key) => key !== MARKER_VAR);
    const keys = missing.length > 0 ? missing : Object.keys(desired.vars).filter((k) => k !== MARKER_VAR);
    steps.push({ kind: 'config.set', app, keys: keys.sort(), exists: missing.length === 0 });
    const stage = settings.stage ?? source.stage;
    const coupling = target?.coupling;
    if (coupling && coupling.pipelineId !== source.pipeline.id) {
        throw new errors/* StepError */.zg('pipeline.couple', (0,core_message/* msg */.ab) `couple ${app} to pipeline ${source.pipeline.name}`, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `${app} is coupled to another pipeline (${coupling.pipelineId}), not ${source.pipeline.name}`));
    }
    steps.push({
        kind: 'pipeline.couple',
        app,
        pipelineId: source.pipeline.id,
        pipeline: source.pipeline.name,
        stage,
        couplingId: coupling && coupling.stage !== stage ? coupling.id : undefined,
        exists: coupling !== undefined && coupling.stage === stage,
    });
    const hostname = hostnameOf(settings);
    if (hostname !== undefined) {
        steps.push({ kind: 'acm.enable', app, exists: target?.app.acm === true });
        const domain = target?.domain;
        steps.push({ kind: 'domain.add', app, hostname, exists: domain !== undefined });
        const dnsTarget = domain?.cname;
        const dns = observed.dns;
        if (dns) {
            const decision = dnsTarget === undefined ? undefined : decideDns(dns.record, dnsTarget, settings.dns.ttl);
            if (dns.record?.protected && decision?.op !== 'none') {
                throw new errors/* StepError */.zg('dns.upsert', (0,core_message/* msg */.ab) `point ${hostname} at Heroku app ${app}`, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `the CNAME ${dns.name} in ${dns.zone} is protected against changes`));
            }
            refuseForeignCname(settings, dns, dnsTarget, hostname);
            steps.push({
                kind: 'dns.upsert',
                provider: dns.provider,
                zone: dns.zone,
                name: dns.name,
                ttl: settings.dns.ttl,
                target: dnsTarget,
                existing: dns.record,
                changes: decision?.op === 'update' ? decision.changes : [],
                exists: decision?.op === 'none',
            });
        }
        else {
            steps.push({ kind: 'dns.manual', hostname, target: dnsTarget, exists: false });
        }
    }
    steps.push({
        kind: 'release.promote',
        app,
        source: source.app.name,
        sourceId: source.app.id,
        pipelineId: source.pipeline.id,
        pipeline: source.pipeline.name,
        releaseId: source.release.id,
        version: source.release.version,
        exists: target?.currentSlugId !== undefined && target.currentSlugId === source.release.slugId,
    });
    if (settings.waitForCertificate && hostname !== undefined) {
        steps.push({
            kind: 'certificate.wait',
            app,
            hostname,
            exists: target?.domain?.acmStatus === 'cert issued',
        });
    }
    steps.push({
        kind: 'servers.append',
        file: settings.serversFile,
        exists: observed.serversRecord !== undefined,
    });
    return steps;
}
/**
 * A CNAME at the name that points anywhere but this app's DNS target belongs to
 * something else (another app, a service outside Heroku): it is refused before
 * anything is created, unless `dns-overwrite` says to repoint it. Before the
 * domain exists its target is unknown, so any existing CNAME is foreign then.
 */
function refuseForeignCname(settings, dns, dnsTarget, hostname) {
    const current = dns.record?.values[0];
    if (current === undefined || settings.dns.overwrite)
        return;
    if (dnsTarget !== undefined && fqdnValue(current) === fqdnValue(dnsTarget))
        return;
    throw new errors/* StepError */.zg('dns.upsert', (0,core_message/* msg */.ab) `point ${hostname} at Heroku app ${settings.appName}`, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `the CNAME ${dns.name} in ${dns.zone} points at ${current}, not at this app's Heroku DNS target: refusing to repoint it. Set dns-overwrite: true to repoint it, or choose another name`));
}
/** What a plan says a CNAME points at before Heroku has given the new domain its DNS target. */
const UNKNOWN_TARGET = "the new domain's DNS target (known once Heroku has added the domain)";
/**
 * The step with the DNS target this run has learnt since planning (from the domain it
 * added), so that what is printed about it names the target instead of saying it is unknown.
 */
function withKnownTarget(step, dnsTarget) {
    if ((step.kind === 'dns.upsert' || step.kind === 'dns.manual') && step.target === undefined && dnsTarget)
        return { ...step, target: dnsTarget };
    return step;
}
/** One line a person reads: what the step does (or did). Never a config value. */
/** A step in words: our words around its names and targets (values, core/message.ts). */
function describe(step) {
    switch (step.kind) {
        case 'app.create':
            return (0,core_message/* msg */.ab) `create app ${step.app} in ${step.region}${step.team ? (0,core_message/* msg */.ab) ` for team ${step.team}` : ''}`;
        case 'app.claim':
            return (0,core_message/* msg */.ab) `claim app ${step.app} (left empty by an interrupted run): set ${(0,core_message/* own */.ZV)(step.marker)}`;
        case 'config.set':
            return (0,core_message/* msg */.ab) `set ${(0,core_message/* own */.ZV)(step.keys.length)} config var${step.keys.length === 1 ? '' : (0,core_message/* own */.ZV)('s')} (values hidden)`;
        case 'pipeline.couple':
            return step.couplingId
                ? (0,core_message/* msg */.ab) `move ${step.app} to stage ${step.stage} of pipeline ${step.pipeline}`
                : (0,core_message/* msg */.ab) `couple ${step.app} to pipeline ${step.pipeline} at ${step.stage}`;
        case 'acm.enable':
            return (0,core_message/* msg */.ab) `enable ACM on ${step.app}`;
        case 'domain.add':
            return (0,core_message/* msg */.ab) `add domain ${step.hostname} to ${step.app}`;
        case 'dns.upsert': {
            const target = step.target === undefined ? (0,core_message/* own */.ZV)(UNKNOWN_TARGET) : fqdnValue(step.target);
            if (!step.existing)
                return (0,core_message/* msg */.ab) `create CNAME ${step.name} -> ${target}`;
            const what = step.changes.length > 0 ? (0,core_message/* own */.ZV)(` (${step.changes.join(', ')})`) : '';
            return (0,core_message/* msg */.ab) `${(0,core_message/* own */.ZV)(step.exists ? 'keep' : 'update')} CNAME ${step.name} -> ${target}${what}`;
        }
        case 'dns.manual': {
            const target = step.target === undefined ? (0,core_message/* own */.ZV)(UNKNOWN_TARGET) : fqdnValue(step.target);
            return (0,core_message/* msg */.ab) `print CNAME ${step.hostname}. -> ${target} for you to create`;
        }
        case 'release.promote':
            return (0,core_message/* msg */.ab) `promote v${step.version} of ${step.source} to ${step.app} through pipeline ${step.pipeline}`;
        case 'certificate.wait':
            return (0,core_message/* msg */.ab) `wait for the certificate of ${step.hostname}`;
        case 'servers.append':
            return (0,core_message/* msg */.ab) `append a line to ${step.file}`;
    }
}
/** The resource a step works on, for the operations log. */
function resourceOf(step) {
    switch (step.kind) {
        case 'domain.add':
        case 'dns.manual':
        case 'certificate.wait':
            return step.hostname;
        case 'dns.upsert':
            return `${step.name}.${step.zone}`;
        case 'servers.append':
            return step.file;
        default:
            return step.app;
    }
}

;// CONCATENATED MODULE: ./src/clone/poll.ts

/**
 * Reads until `done` says the answer is final, sleeping between reads with a
 * growing interval; the clone's deadline (the signal) ends the wait.
 */
async function pollUntil(read, done, options) {
    let interval = options.intervalMs ?? 250;
    for (;;) {
        const value = await read();
        options.onValue?.(value);
        if (done(value))
            return value;
        await (0,core_http/* abortableSleep */.Mf)(interval, options.signal);
        interval = Math.min(Math.round(interval * 1.5), options.maxIntervalMs ?? 5000);
    }
}

;// CONCATENATED MODULE: ./src/clone/execute.ts











function initialRuntime(observed) {
    return {
        appId: observed.target?.app.id,
        webUrl: observed.target?.app.webUrl,
        dnsTarget: observed.target?.domain?.cname,
        createdApp: undefined,
        createdRecord: undefined,
        repointedRecord: undefined,
        record: observed.serversRecord,
    };
}
/** Runs the plan; `results` gets one entry per step even when a step throws. */
async function execute(steps, deps, runtime, results) {
    const progress = new Progress(steps.length, deps.info);
    for (const [index, planned] of steps.entries()) {
        const step = withKnownTarget(planned, runtime.dnsTarget);
        if (step.exists) {
            results.push({ step, status: 'exists', ms: 0 });
            deps.log.write({ step: step.kind, outcome: 'skipped', ids: ids(step, runtime), detail: (0,core_message/* own */.ZV)('exists') });
            progress.done({ id: String(describe(step)), outcome: 'exists', ms: 0 });
            continue;
        }
        const started = performance.now();
        if (deps.signal.reason instanceof cancellation/* CancelledError */.cc) {
            // No step starts after a cancellation, not even one that sends no request (the servers file).
            for (const rest of steps.slice(index))
                results.push({ step: withKnownTarget(rest, runtime.dnsTarget), status: 'not-run', ms: 0 });
            throw new cancellation/* CancelledError */.cc(deps.signal.reason.signalName, (0,core_message/* msg */.ab) `stopped before step ${(0,core_message/* own */.ZV)(index + 1)}, ${describe(step)}`);
        }
        try {
            const outcome = await deps.log.step(step.kind, ids(step, runtime), () => runStep(step, deps, runtime));
            const ms = performance.now() - started;
            results.push({ step, status: outcome.status, ms, note: outcome.note });
            progress.done({ id: String(describe(step)), outcome: outcome.status, ms, note: outcome.note });
        }
        catch (error) {
            const ms = performance.now() - started;
            const cause = !deps.signal.aborted
                ? error
                : deps.signal.reason instanceof cancellation/* CancelledError */.cc
                    ? deps.signal.reason
                    : new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `the clone's timeout of ${(0,core_message/* own */.ZV)(deps.settings.timeoutMs / 1000)} s ran out`);
            const failure = error instanceof errors/* StepError */.zg ? error : new errors/* StepError */.zg(step.kind, describe(step), cause);
            results.push({ step, status: 'failed', ms, note: failure.message });
            progress.done({ id: String(describe(step)), outcome: 'failed', ms });
            for (const rest of steps.slice(index + 1))
                results.push({ step: withKnownTarget(rest, runtime.dnsTarget), status: 'not-run', ms: 0 });
            throw failure;
        }
    }
}
function ids(step, runtime) {
    return { resource: resourceOf(step), app: runtime.appId };
}
async function runStep(step, deps, runtime) {
    const { heroku } = deps;
    const appId = () => {
        if (!runtime.appId)
            throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `app ${deps.settings.appName} is not known yet`);
        return runtime.appId;
    };
    const poll = { signal: deps.signal, intervalMs: deps.pollIntervalMs ?? 250 };
    switch (step.kind) {
        case 'app.create': {
            let app;
            try {
                app = await heroku.apps.create({
                    name: step.app,
                    region: step.region,
                    stack: step.stack,
                    team: step.team,
                });
            }
            catch (error) {
                if (error instanceof errors/* ApiError */.hD && error.status === 422 && /taken/i.test(error.message)) {
                    throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `Heroku app ${step.app} was created by someone else since this run looked: refusing to use it (${error.message})`);
                }
                throw error;
            }
            runtime.createdApp = { id: app.id, name: app.name };
            runtime.appId = app.id;
            runtime.webUrl = app.webUrl;
            // First request after the create: the marker that lets a re-run recognise this app.
            await heroku.configVars.update(app.id, { [MARKER_VAR]: deps.observed.source.app.id });
            return { status: 'done', note: app.id };
        }
        case 'app.claim':
            await heroku.configVars.update(appId(), { [MARKER_VAR]: deps.observed.source.app.id });
            deps.warning((0,core_message/* msg */.ab) `Claimed Heroku app ${step.app}: it has no ${MARKER_VAR} but is empty, as a run interrupted right after creating it leaves it`);
            return { status: 'done' };
        case 'config.set': {
            const changes = {};
            for (const key of step.keys)
                changes[key] = deps.desired[key];
            if (step.keys.length > 0)
                await heroku.configVars.update(appId(), changes);
            return { status: 'done' };
        }
        case 'pipeline.couple':
            if (step.couplingId)
                await heroku.couplings.updateStage(step.couplingId, step.stage);
            else
                await heroku.couplings.create({ app: appId(), pipelineId: step.pipelineId, stage: step.stage });
            return { status: 'done' };
        case 'acm.enable':
            await heroku.acm.enable(appId()).catch((error) => {
                throw acmRefusal(error, step.app);
            });
            return { status: 'done' };
        case 'domain.add': {
            const domain = await heroku.domains.add(appId(), step.hostname);
            const cname = await dnsTargetOf(heroku, appId(), domain, deps);
            runtime.dnsTarget = cname;
            return { status: 'done', note: `dns target ${cname}` };
        }
        case 'dns.upsert': {
            const dns = deps.dns;
            const target = step.target ?? runtime.dnsTarget ?? (await pendingDnsTarget(deps, appId()));
            if (!target)
                throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `no DNS target known for ${step.name}.${step.zone}`);
            const decision = decideDns(step.existing, target, step.ttl);
            if (decision.op === 'none')
                return { status: 'exists' };
            if (decision.op === 'create') {
                const record = await dns.create(step.name, target, step.ttl);
                runtime.createdRecord = { name: step.name, record };
                return { status: 'done', note: `CNAME ${step.name} -> ${fqdnValue(target)}` };
            }
            const existing = step.existing;
            await dns.update(step.name, existing, target, step.ttl, decision.changes);
            if (decision.changes.includes('records')) {
                const before = existing.values.join(' ');
                runtime.repointedRecord = {
                    name: step.name,
                    previous: existing,
                    current: { ...existing, values: [fqdnValue(target)], ttl: step.ttl, proxied: false },
                };
                deps.info((0,core_message/* msg */.ab) `CNAME ${step.name}.${step.zone} pointed at ${before}; repointed to ${fqdnValue(target)} (dns-overwrite)`);
                return { status: 'done', note: `repointed from ${before}` };
            }
            return { status: 'done', note: `changed ${decision.changes.join(', ')}` };
        }
        case 'dns.manual': {
            const target = step.target ?? runtime.dnsTarget;
            deps.info((0,core_message/* msg */.ab) `Create this DNS record at your DNS provider: ${step.hostname}. ${deps.settings.dns.ttl} IN CNAME ${target ? fqdnValue(target) : (0,core_message/* own */.ZV)('(unknown target)')}`);
            return { status: 'done' };
        }
        case 'release.promote': {
            const id = appId();
            const promotion = await heroku.promotions.create({
                pipelineId: step.pipelineId,
                sourceAppId: step.sourceId,
                sourceReleaseId: step.releaseId,
                targetAppIds: [id],
            });
            const targets = await pollUntil(() => heroku.promotions.targets(promotion.id), (list) => list.some((t) => t.appId === id && t.status !== 'pending'), poll);
            const mine = targets.find((t) => t.appId === id);
            if (mine.status !== 'succeeded') {
                throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `promotion ${promotion.id} to ${step.app} ${mine.status}: ${mine.errorMessage ?? (0,core_message/* own */.ZV)('Heroku gave no reason')}`);
            }
            return { status: 'done', note: `promotion ${promotion.id}` };
        }
        case 'certificate.wait': {
            let last;
            const domain = await pollUntil(() => heroku.domains.find(appId(), step.hostname), (d) => d === undefined || d.acmStatus === 'cert issued' || d.acmStatus === 'failed', {
                ...poll,
                onValue: (d) => {
                    if (d?.acmStatus && d.acmStatus !== last && d.acmStatus !== 'cert issued') {
                        deps.info((0,core_message/* msg */.ab) `certificate of ${step.hostname}: ${d.acmStatus}`);
                    }
                    last = d?.acmStatus;
                },
            });
            if (!domain)
                throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `domain ${step.hostname} is gone from ${step.app}`);
            if (domain.acmStatus !== 'cert issued') {
                throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `ACM could not issue the certificate of ${step.hostname}: ${domain.acmStatusReason ?? domain.acmStatus}`);
            }
            return { status: 'done' };
        }
        case 'servers.append':
            return appendServers(deps, runtime);
    }
}
/** How long a new domain may stay without a DNS target (`cname: null`) before the step gives up. */
const DNS_TARGET_WAIT_MS = 30_000;
/**
 * The domain's DNS target. Heroku may answer a new domain with `cname: null` and
 * status `pending`; the Heroku CLI then polls the domain until it is no longer
 * pending (heroku/cli src/lib/domains/wait-for-domain.ts, every 5 s). We poll every
 * second, up to DNS_TARGET_WAIT_MS, because the clone waits on it.
 */
async function dnsTargetOf(heroku, app, domain, deps) {
    if (domain.cname)
        return domain.cname;
    const { signal } = deps;
    deps.info((0,core_message/* msg */.ab) `Heroku has not assigned ${domain.hostname} a DNS target yet (status ${domain.status || 'unknown'}); waiting up to ${DNS_TARGET_WAIT_MS / 1000} s`);
    const wait = AbortSignal.any([signal, AbortSignal.timeout(DNS_TARGET_WAIT_MS)]);
    let last = domain;
    try {
        await pollUntil(async () => (last = (await heroku.domains.find(app, domain.id)) ?? last), (d) => d.cname !== undefined || d.status === 'failed', { signal: wait, intervalMs: 1000, maxIntervalMs: 5000 });
    }
    catch (error) {
        if (signal.aborted)
            throw error;
    }
    if (last.cname)
        return last.cname;
    throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `Heroku gave ${domain.hostname} no DNS target within ${DNS_TARGET_WAIT_MS / 1000} s (Heroku's domain status: ${last.status || 'unknown'}); run again to pick it up once Heroku has assigned one`);
}
/** A domain a previous run added while its DNS target was still pending. */
async function pendingDnsTarget(deps, app) {
    const hostname = hostnameOf(deps.settings);
    const domain = await deps.heroku.domains.find(app, hostname);
    if (!domain)
        throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `domain ${hostname} is gone from ${deps.settings.appName}`);
    return dnsTargetOf(deps.heroku, app, domain, deps);
}
/**
 * Heroku refuses ACM for apps it cannot manage certificates for, e.g. on Eco dynos
 * (devcenter.heroku.com/articles/automated-certificate-management: ACM needs paid
 * dynos). The step fails here, before the domain and the DNS record are touched.
 */
function acmRefusal(error, app) {
    if (!(error instanceof errors/* ApiError */.hD) || error.status === undefined || error.status < 400 || error.status >= 500)
        return error;
    if (error.status === 401 || error.status === 403)
        return error;
    return new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `Heroku refused to enable Automated Certificate Management on ${app} (${error.status}: ${error.providerMessage ?? (0,core_message/* own */.ZV)('no reason given')}). ACM needs dynos of type Basic or above: change the dyno type (heroku ps:type basic -a ${app}) and run again, or clone without a domain (dns-provider: none and no domain)`);
}
/** A write failure is a warning: the clone itself is complete. */
function appendServers(deps, runtime) {
    const webUrl = runtime.webUrl ?? '';
    const now = deps.now?.() ?? new Date();
    try {
        const existing = findRecord(readText(deps.serversPath), recordPrefix(deps.settings, webUrl));
        if (existing) {
            runtime.record = existing;
            return { status: 'exists' };
        }
        const line = formatRecord(deps.settings, webUrl, now);
        appendRecord(deps.serversPath, line, deps.redact);
        runtime.record = line;
        return { status: 'done' };
    }
    catch (error) {
        runtime.record = formatRecord(deps.settings, webUrl, now);
        const why = error instanceof Error ? error.message : String(error);
        deps.warning((0,core_message/* msg */.ab) `could not write the servers file ${deps.settings.serversFile}: ${why}`);
        return { status: 'warning', note: why };
    }
}
function readText(path) {
    try {
        return (0,external_node_fs_.readFileSync)(path, 'utf8');
    }
    catch (error) {
        if (error.code === 'ENOENT')
            return '';
        throw error;
    }
}
/**
 * `on-failure: delete`: removes what this run created — its DNS record, then its
 * app — and nothing else. Returns one line per thing removed or not.
 */
async function removeCreated(runtime, deps) {
    const removed = [];
    const failed = [];
    if (runtime.repointedRecord && deps.dns) {
        const { name, previous, current } = runtime.repointedRecord;
        const what = `CNAME ${name}.${deps.dns.zone} (put back to ${previous.values.join(' ')})`;
        try {
            await deps.dns.restore(name, current, previous);
            removed.push(what);
        }
        catch (error) {
            failed.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        }
    }
    if (runtime.createdRecord && deps.dns) {
        const what = `CNAME ${runtime.createdRecord.name}.${deps.dns.zone}`;
        try {
            await deps.dns.remove(runtime.createdRecord.name, runtime.createdRecord.record);
            removed.push(what);
        }
        catch (error) {
            failed.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        }
    }
    if (runtime.createdApp) {
        const what = `Heroku app ${runtime.createdApp.name}`;
        try {
            await deps.heroku.apps.delete(runtime.createdApp.id);
            removed.push(what);
        }
        catch (error) {
            failed.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        }
    }
    return { removed, failed };
}

// EXTERNAL MODULE: ./src/core/summary.ts
var summary = __webpack_require__(1363);
;// CONCATENATED MODULE: ./src/clone/report.ts


function described(results) {
    return results.map((r) => ({ ...r, description: describe(r.step) }));
}
function planEntries(results) {
    return results.map((r) => ({
        step: r.step.kind,
        resource: resourceOf(r.step),
        description: String(r.description),
        status: r.status,
    }));
}
/** Before anything runs (and in dry-run): what exists and what would be created. */
function plannedResults(steps) {
    return steps.map((step) => ({ step, status: step.exists ? 'exists' : 'would-create', ms: 0 }));
}
/**
 * The fields of a `CloneReport` that hold our own words (a step's kind, its status): kept as they
 * are when the report is redacted field by field (core/redacted-data.ts) before it is rendered.
 */
const REPORT_WORDS = ['kind', 'status'];
const ICON = {
    exists: '✔ exists',
    done: '✅ done',
    'would-create': '➕ would create',
    failed: '❌ failed',
    'not-run': '⏸ not run',
    warning: '⚠️ warning',
};
function renderSummary(report) {
    const title = report.dryRun
        ? `### Clone ${report.source} → ${report.appName} (dry run: nothing changed)`
        : report.failure
            ? `### Clone ${report.source} → ${report.appName} ${report.cancelled ? 'cancelled' : 'failed'}`
            : `### Clone ${report.source} → ${report.appName}`;
    const table = (0,summary/* summaryTable */.jb)(['#', 'step', 'status', 'time'], report.results.map((r, i) => [i + 1, r.description, ICON[r.status], r.ms > 0 ? (0,summary/* formatMs */._V)(r.ms) : '']));
    const parts = [title, '', table, ''];
    const o = report.outputs;
    const facts = [
        ['app id', o.appId],
        ['Heroku URL', o.herokuUrl],
        ['subdomain', o.subdomainUrl],
        ['DNS target', o.dnsTarget],
        ['servers-file line', o.record],
    ];
    const shown = facts.filter(([, v]) => v);
    if (shown.length > 0) {
        parts.push(...shown.map(([k, v]) => `- ${k}: \`${(0,summary/* escapeCell */.kq)(v)}\``), '');
    }
    if (report.addonOwned.length > 0) {
        parts.push(`Not copied, owned by the source's add-ons: ${report.addonOwned.map((k) => `\`${k}\``).join(', ')}`, '');
    }
    if (report.addonDerived.length > 0) {
        parts.push(`Not copied, their values hold an add-on's value (set them in \`config\` to copy them on purpose): ${report.addonDerived.map((k) => `\`${k}\``).join(', ')}`, '');
    }
    if (report.excluded.length > 0) {
        parts.push(`Not copied, excluded: ${report.excluded.map((k) => `\`${k}\``).join(', ')}`, '');
    }
    if (report.failure)
        parts.push(`**${report.cancelled ? 'Cancelled' : 'Failed'}:** ${(0,summary/* escapeCell */.kq)(report.failure)}`, '');
    if (report.cleanup) {
        const { removed, failed } = report.cleanup;
        if (removed.length > 0)
            parts.push(`on-failure delete removed: ${removed.join(', ')}`, '');
        if (failed.length > 0)
            parts.push(`on-failure delete could not remove: ${failed.join('; ')}`, '');
    }
    return parts.join('\n');
}

;// CONCATENATED MODULE: ./src/clone/flow.ts















/**
 * Real clients for one deadline: the whole clone's, or a fresh one for the clean-up. A rate
 * limit is waited out only when the wait ends before `waitBound` (the clone's deadline).
 */
function connect(settings, ctx, signal, waitBound) {
    const common = {
        redact: (text) => ctx.secrets.redact(text),
        signal,
        waitBound,
        // One line per wait, rate limit or retry, from the client itself.
        log: (line) => ctx.info(line),
    };
    const heroku = herokuClients(createHerokuHttp({ ...common, baseUrl: settings.heroku.apiUrl, apiKey: settings.heroku.apiKey }));
    const openDns = async () => {
        const { provider, domain, token } = settings.dns;
        if (provider === 'none' || domain === undefined)
            return undefined;
        if (provider === 'hetzner') {
            const http = createHetznerHttp({
                ...common,
                credential: 'dns-token',
                baseUrl: settings.hetznerApiUrl,
                token: token,
            });
            return openHetznerZone(http, domain, signal);
        }
        return openCloudflareZone(new CloudflareHttp({
            ...common,
            credential: 'dns-token',
            baseUrl: settings.cloudflareApiUrl,
            token: token,
        }), domain);
    };
    return { heroku, openDns };
}
/** Preflight (observe), plan, then create and wire the clone step by step; dry-run stops after the plan. */
async function runClone(settings, ctx) {
    const deadline = ctx.cancellation.within(settings.timeoutMs);
    const { heroku, openDns } = connect(settings, ctx, deadline, {
        budgetMs: settings.timeoutMs,
        deadlineAt: Date.now() + settings.timeoutMs,
        name: 'the input timeout',
    });
    const serversPath = resolveServersFile(settings.serversFile, ctx.env.GITHUB_WORKSPACE);
    // Our wording as written; the values in it (names, URLs, provider messages) redacted one by one.
    const outside = (data) => redactedData(data, ctx.secrets.redactor, REPORT_WORDS);
    const { dns, observed } = await ctx.log.step('preflight', { app: settings.appName }, async () => {
        try {
            return await preflight();
        }
        catch (error) {
            if ((0,cancellation/* isCancelled */.mm)(error)) {
                const [source, app, why] = outside([settings.sourceApp, settings.appName, (0,core_message/* composedOf */.s5)(error)]);
                await ctx.writeSummary(`### Clone ${source} → ${app} cancelled\n\n**Cancelled:** during the preflight, before any change: ${why}\n`, { fromRedactedData: true });
            }
            throw error;
        }
    });
    async function preflight() {
        const dns = await openDns().catch((error) => {
            throw new errors/* StepError */.zg('preflight', (0,core_message/* msg */.ab) `read the DNS zone of ${settings.dns.domain ?? (0,core_message/* own */.ZV)('the domain')}`, error);
        });
        const observed = await observe(settings, {
            heroku,
            dns,
            serversPath,
            secret: (value) => ctx.secrets.add(value, 'config-var'),
        }).catch((error) => {
            if (error instanceof errors/* StepError */.zg || (0,cancellation/* isCancelled */.mm)(error))
                throw error;
            throw new errors/* StepError */.zg('preflight', (0,core_message/* msg */.ab) `read Heroku app ${settings.sourceApp} and the clone's target`, error);
        });
        return { dns, observed };
    }
    const desired = desiredConfig(settings, {
        id: observed.source.app.id,
        config: observed.source.config,
        addonVars: observed.source.addonVars,
    });
    const steps = buildPlan(settings, observed);
    ctx.info((0,core_message/* msg */.ab) `Plan to clone ${settings.sourceApp} into ${settings.appName}${settings.dryRun ? (0,core_message/* own */.ZV)(' (dry run)') : ''}:`);
    for (const [i, step] of steps.entries()) {
        ctx.info((0,core_message/* msg */.ab) `  ${i + 1}. ${describe(step)}${step.exists ? (0,core_message/* own */.ZV)(' (exists)') : ''}`);
    }
    if (desired.addonOwned.length > 0) {
        ctx.info((0,core_message/* msg */.ab) `Not copied, owned by ${settings.sourceApp}'s add-ons: ${desired.addonOwned.join(', ')}`);
    }
    for (const key of desired.addonDerived) {
        ctx.warning((0,core_message/* msg */.ab) `${key} of ${settings.sourceApp} is not copied: its value contains the value of an add-on config var, so the clone would use ${settings.sourceApp}'s add-on. To copy it on purpose, set it in the config input (${key}=...)`);
    }
    const runtime = initialRuntime(observed);
    const report = (results, extra = {}) => ({
        appName: settings.appName,
        source: settings.sourceApp,
        dryRun: settings.dryRun,
        results: described(results),
        outputs: {
            appId: runtime.appId,
            herokuUrl: runtime.webUrl,
            subdomainUrl: subdomainUrl(settings),
            dnsTarget: runtime.dnsTarget,
            record: runtime.record,
        },
        addonOwned: desired.addonOwned,
        addonDerived: desired.addonDerived,
        excluded: desired.excluded,
        ...extra,
    });
    // A failed clone or a dry run sets only `plan` (what was done or would be): outputs that name the
    // new app would let a later `if: steps.clone.outputs.app-name` treat it as a clone.
    const publish = async (r) => {
        const shown = outside(r);
        ctx.setOwnOutput('plan', JSON.stringify(planEntries(shown.results)));
        await ctx.writeSummary(renderSummary(shown), { fromRedactedData: true });
        if (r.failure !== undefined || r.dryRun)
            return;
        ctx.setOutput('app-name', settings.appName);
        ctx.setOutput('subdomain-url', subdomainUrl(settings));
        if (r.outputs.appId)
            ctx.setOutput('app-id', r.outputs.appId);
        if (r.outputs.herokuUrl)
            ctx.setOutput('heroku-url', r.outputs.herokuUrl);
        if (r.outputs.dnsTarget)
            ctx.setOutput('dns-target', r.outputs.dnsTarget);
        if (r.outputs.record)
            ctx.setOutput('record', r.outputs.record);
    };
    if (settings.dryRun) {
        for (const step of steps)
            ctx.log.write({ step: step.kind, outcome: step.exists ? 'skipped' : 'planned' });
        await publish(report(plannedResults(steps)));
        ctx.info((0,core_message/* msg */.ab) `Dry run: ${steps.filter((s) => !s.exists).length} step(s) would run; nothing was changed.`);
        return;
    }
    const results = [];
    try {
        await execute(steps, {
            settings,
            observed,
            heroku,
            dns,
            desired: desired.vars,
            signal: deadline,
            log: ctx.log,
            info: ctx.info,
            warning: ctx.warning,
            serversPath,
            redact: (text) => ctx.secrets.redact(text),
        }, runtime, results);
    }
    catch (error) {
        let cleanup;
        const cancelled = (0,cancellation/* isCancelled */.mm)(error) || (0,cancellation/* isCancelled */.mm)(deadline.reason);
        if (settings.onFailure === 'delete' &&
            (runtime.createdApp || runtime.createdRecord || runtime.repointedRecord)) {
            // After a cancellation the deletion gets what is left of the runner's grace, not a minute.
            const fresh = connect(settings, ctx, cancelled ? ctx.cancellation.cleanupSignal() : AbortSignal.timeout(60_000), { budgetMs: cancelled ? 0 : 60_000, name: 'the clean-up' });
            const zone = runtime.createdRecord || runtime.repointedRecord
                ? await fresh.openDns().catch(() => undefined)
                : undefined;
            cleanup = await removeCreated(runtime, { heroku: fresh.heroku, dns: zone });
            ctx.log.write({
                step: 'on-failure.delete',
                outcome: cleanup.failed.length === 0 ? 'ok' : 'failed',
                detail: (0,core_message/* joinMessages */.hw)([...cleanup.removed.map((r) => (0,core_message/* msg */.ab) `removed ${r}`), ...cleanup.failed], '; '),
            });
            if (cleanup.removed.length > 0) {
                runtime.appId = undefined;
                runtime.webUrl = undefined;
                runtime.dnsTarget = undefined;
            }
        }
        await publish(report(results, { failure: (0,core_message/* composedOf */.s5)(error), cleanup, cancelled }));
        throw withCleanupNote(error, settings, cleanup);
    }
    await publish(report(results));
    ctx.info((0,core_message/* msg */.ab) `Cloned ${settings.sourceApp} into ${settings.appName}${hostnameOf(settings) ? (0,core_message/* msg */.ab) ` at ${subdomainUrl(settings)}` : ''}`);
}
function withCleanupNote(error, settings, cleanup) {
    if (error instanceof cancellation/* CancelledError */.cc && !cleanup && settings.onFailure === 'keep')
        return new cancellation/* CancelledError */.cc(error.signalName, (0,core_message/* msg */.ab) `${error.detail ?? error.composed}; everything made so far is kept: run again to finish the clone`);
    if (!(error instanceof errors/* StepError */.zg))
        return error;
    let note;
    if (cleanup) {
        const removed = cleanup.removed.length > 0
            ? (0,core_message/* msg */.ab) ` on-failure delete removed ${(0,core_message/* joinMessages */.hw)(cleanup.removed, ' and ')}.`
            : '';
        const failed = cleanup.failed.length > 0
            ? (0,core_message/* msg */.ab) ` on-failure delete could not remove ${(0,core_message/* joinMessages */.hw)(cleanup.failed, '; ')}.`
            : '';
        note = (0,core_message/* msg */.ab) `${removed}${failed}`;
    }
    else if (settings.onFailure === 'keep') {
        note = (0,core_message/* msg */.ab) ` Everything made so far is kept: run again to finish the clone.`;
    }
    else {
        note = (0,core_message/* msg */.ab) ` This run created nothing, so nothing was deleted.`;
    }
    return new errors/* StepError */.zg(error.step, error.doing, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `${(0,core_message/* withoutSuffix */.al)((0,core_message/* composedOf */.s5)(error.cause), '.')}.${note}`));
}


/***/ }),

/***/ 6468:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   TL: () => (/* binding */ parseInputs),
/* harmony export */   pH: () => (/* binding */ SECRET_INPUTS)
/* harmony export */ });
/* unused harmony exports HEROKU_APP_NAME, renderAppName */
/* harmony import */ var _core_errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1915);
/* harmony import */ var _core_message_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3252);


const SECRET_INPUTS = ['heroku-api-key', 'dns-token'];
/** Heroku's app name rule. */
const HEROKU_APP_NAME = /^[a-z][a-z0-9-]{1,28}[a-z0-9]$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STAGES = ['review', 'development', 'staging', 'production'];
function parseInputs(inputs) {
    const name = inputs.required('name', 'is required: the instance name (a DNS label)');
    if (!DNS_LABEL.test(name)) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('name', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `must be a lowercase DNS label (letters, digits, inner dashes); got ${JSON.stringify(name)}`);
    }
    const sourceApp = inputs.required('source-app', 'is required: the Heroku app to clone');
    const appName = renderAppName(inputs.raw('app-name') || '{source-app}-{name}', { name, sourceApp });
    const provider = inputs.choice('dns-provider', ['hetzner', 'cloudflare', 'none'], 'hetzner');
    const domain = inputs.optional('domain')?.toLowerCase().replace(/\.$/, '');
    if (domain !== undefined && !DOMAIN.test(domain)) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('domain', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `must be a DNS zone like example.com; got ${JSON.stringify(domain)}`);
    }
    if (provider !== 'none' && domain === undefined) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('domain', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `is required when dns-provider is ${provider}`);
    }
    const token = inputs.optional('dns-token');
    if (provider !== 'none' && token === undefined) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('dns-token', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `is required when dns-provider is ${provider}`);
    }
    const folderVar = inputs.raw('folder-var') || 'IMAGE_FOLDER';
    if (!ENV_NAME.test(folderVar))
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('folder-var', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `must be a config var name like IMAGE_FOLDER`);
    const folder = inputs.optional('folder');
    // The servers file is comma-separated, one record per line.
    if (folder !== undefined && /[,\r\n]/.test(folder)) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('folder', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `must not contain a comma or a line break; got ${JSON.stringify(folder)}`);
    }
    const exclude = inputs.list('exclude-config');
    for (const pattern of exclude) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(pattern)) {
            throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('exclude-config', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `takes KEY or PREFIX_* entries; ${JSON.stringify(pattern)} is neither`);
        }
    }
    return {
        name,
        folder,
        folderVar,
        sourceApp,
        appName,
        stage: inputs.raw('stage') === '' ? undefined : inputs.choice('stage', STAGES),
        region: inputs.optional('region'),
        stack: inputs.optional('stack'),
        team: inputs.optional('team'),
        config: inputs.keyValues('config', { secretValues: true }),
        excludeConfig: exclude,
        dns: {
            provider,
            domain,
            token,
            ttl: inputs.integer('dns-ttl', 300, { min: 60, max: 86_400 }),
            overwrite: inputs.boolean('dns-overwrite', false),
        },
        heroku: {
            apiKey: inputs.required('heroku-api-key'),
            apiUrl: inputs.url('heroku-api-url', { fallback: 'https://api.heroku.com' }),
        },
        hetznerApiUrl: inputs.url('hetzner-api-url', { fallback: 'https://api.hetzner.cloud/v1' }),
        cloudflareApiUrl: inputs.url('cloudflare-api-url', { fallback: 'https://api.cloudflare.com/client/v4' }),
        waitForCertificate: inputs.boolean('wait-for-certificate', false),
        timeoutMs: inputs.seconds('timeout', 600, { max: 6 * 3600 }),
        serversFile: inputs.raw('servers-file') || 'scripts/servers.txt',
        onFailure: inputs.choice('on-failure', ['keep', 'delete'], 'keep'),
        dryRun: inputs.boolean('dry-run', false),
    };
}
function renderAppName(template, values) {
    const unknown = /\{(?!name\}|source-app\})[^}]*\}/.exec(template);
    if (unknown)
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('app-name', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `knows {name} and {source-app}; ${unknown[0]} is neither`);
    const rendered = template.replaceAll('{name}', values.name).replaceAll('{source-app}', values.sourceApp);
    if (!HEROKU_APP_NAME.test(rendered)) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('app-name', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `gives ${JSON.stringify(rendered)}, which Heroku refuses: 3-30 characters, lowercase letters, digits and dashes, starting with a letter and not ending with a dash`);
    }
    return rendered;
}


/***/ }),

/***/ 9084:
/***/ ((module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
__webpack_require__.r(__webpack_exports__);
/* harmony import */ var _core_action_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8446);
/* harmony import */ var _core_secrets_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8198);
/* harmony import */ var _flow_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(6951);
/* harmony import */ var _inputs_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(6468);




await (0,_core_action_js__WEBPACK_IMPORTED_MODULE_0__/* .runAction */ .Cs)({
    action: 'clone',
    secretInputs: _inputs_js__WEBPACK_IMPORTED_MODULE_3__/* .SECRET_INPUTS */ .pH,
    parseInputs: (inputs) => (0,_inputs_js__WEBPACK_IMPORTED_MODULE_3__/* .parseInputs */ .TL)(inputs),
    // Plain overrides (`INSTANCE=tati`, `ASSET_HOST=https://tati.shibari.photo`) are not secrets:
    // masking them would corrupt the outputs that name the app and its URLs.
    derivedSecrets: (settings) => Object.entries(settings.config)
        .filter(([key, value]) => (0,_core_secrets_js__WEBPACK_IMPORTED_MODULE_1__/* .isSecretOverride */ .P$)(key, value))
        .map(([, value]) => value),
    run: _flow_js__WEBPACK_IMPORTED_MODULE_2__/* .runClone */ .H,
    failureTitle: (s, redact) => `clone ${redact(s.sourceApp)} → ${redact(s.appName)}`,
});

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 8446:
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
// EXTERNAL MODULE: external "node:buffer"
var external_node_buffer_ = __webpack_require__(4573);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/core/message.ts
var core_message = __webpack_require__(3252);
// EXTERNAL MODULE: ./src/core/redact.ts
var redact = __webpack_require__(2258);
;// CONCATENATED MODULE: ./src/core/inputs.ts






function fromRecord(values) {
    return (name) => (values[name] ?? '').trim();
}
/** A bad value quoted in its error: credential shapes redacted first, then cut to 60 characters. */
function shown(value) {
    const clean = new redact/* Redactor */.pO().redact(value);
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
    if ((0,external_node_buffer_.isUtf8)(bytes))
        return bytes.toString('utf8');
    const lines = bytes.toString('latin1').split(/\r\n|\r|\n/);
    const bad = lines.findIndex((line) => !(0,external_node_buffer_.isUtf8)(Buffer.from(line, 'latin1')));
    throw new NotUtf8Error(bad + 1);
}
/**
 * Files as the runner's workspace holds them: relative paths resolve against
 * GITHUB_WORKSPACE, and the real path (symlinks followed) must lie inside it,
 * so an input can never make the action read `/etc/passwd` or a runner secret.
 */
function workspaceFiles(workspace) {
    return (path) => {
        const root = (0,external_node_fs_.realpathSync)(workspace ?? process.cwd());
        const target = (0,external_node_path_.resolve)(root, path);
        let real;
        try {
            real = (0,external_node_fs_.realpathSync)(target);
        }
        catch (error) {
            // A missing file out there is refused as outside too, so that no answer tells what exists outside.
            if (!isInside(root, (0,external_node_fs_.realpathSync)(nearestExisting(target))))
                throw new OutsideWorkspaceError(path);
            throw error;
        }
        if (!isInside(root, real))
            throw new OutsideWorkspaceError(path);
        const stat = (0,external_node_fs_.statSync)(real);
        if (stat.isDirectory())
            throw new NotAListFileError('is a directory');
        if (!stat.isFile())
            throw new NotAListFileError('is not a regular file (a FIFO, a socket or a device)');
        if (stat.size > LIST_FILE_MAX_BYTES)
            throw new NotAListFileError(`is ${stat.size} bytes, more than a list file may hold (${LIST_FILE_MAX_BYTES})`);
        return utf8Text((0,external_node_fs_.readFileSync)(real));
    };
}
function isInside(root, real) {
    const inside = (0,external_node_path_.relative)(root, real);
    return !(inside === '..' || inside.startsWith(`..${external_node_path_.sep}`) || (0,external_node_path_.isAbsolute)(inside));
}
/** `path`, or the nearest of its parent folders that exists. */
function nearestExisting(path) {
    let at = path;
    while (!(0,external_node_fs_.existsSync)(at) && (0,external_node_path_.dirname)(at) !== at)
        at = (0,external_node_path_.dirname)(at);
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
            throw new errors/* InputError */.dz(name, why);
        return value;
    }
    /** A value from a fixed set; the error lists the set. */
    choice(name, allowed, fallback) {
        const value = this.read(name);
        if (value === '') {
            if (fallback !== undefined)
                return fallback;
            throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `is required: one of ${allowed.join(', ')}`);
        }
        const match = allowed.find((a) => a === value.toLowerCase());
        if (!match)
            throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must be one of ${allowed.join(', ')}; got ${shown(value)}`);
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
        throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must be true or false; got ${shown(value)}`);
    }
    integer(name, fallback, range) {
        const value = this.read(name);
        if (value === '')
            return fallback;
        const max = range.max ?? Number.MAX_SAFE_INTEGER;
        const bounds = range.max === undefined ? `>= ${range.min}` : `from ${range.min} to ${range.max}`;
        if (!/^[+-]?\d+$/.test(value))
            throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must be a whole number ${bounds}; got ${shown(value)}`);
        const n = Number(value);
        if (n < range.min || n > max)
            throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must be a whole number ${bounds}; got ${shown(value)}`);
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
            throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must be a number of seconds of at least ${least} and at most ${max}; got ${shown(value)}`);
        }
        return Math.round(n * 1000);
    }
    url(name, options = {}) {
        const value = this.read(name) || options.fallback || '';
        if (value === '') {
            if (options.required)
                throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `is required: an http(s) URL`);
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
                throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `names ${shown(file)}, which is outside the workspace (links followed); give a path inside GITHUB_WORKSPACE, the repository checkout`);
            if (error instanceof NotAListFileError)
                throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `names ${shown(file)}, which ${error.why}; give a file with one entry per line`);
            if (error instanceof NotUtf8Error)
                throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `${fileLine(file, error.line)}: holds bytes that are not UTF-8 text; save the file as UTF-8`);
            const code = error.code ?? 'unreadable';
            throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `names ${shown(file)}, which cannot be read (${code}); give a workspace path to a file with one entry per line`);
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
                throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must hold one KEY=value per line; ${what} is not of that form`);
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
                throw new errors/* InputError */.dz(name, `must hold one 'Name: value' header per line; a line has no valid header name`);
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
        if (error instanceof errors/* InputError */.dz)
            throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `${fileLine(file, line)}: ${error.problem}`);
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
        throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must be one http(s) URL per line, without spaces or control characters; the entry has ${blank} (a comment after a URL starts with " #")${urlExcerpt(value)}`);
    }
    let parsed;
    try {
        parsed = new URL(value);
    }
    catch {
        throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must be an http(s) URL${urlExcerpt(value)}`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must be an http(s) URL${urlExcerpt(value)}`);
    }
    if (parsed.username || parsed.password) {
        throw new errors/* InputError */.dz(name, (0,core_message/* msg */.ab) `must not carry credentials in the URL; use the token inputs`);
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

// EXTERNAL MODULE: ./src/core/secrets.ts
var core_secrets = __webpack_require__(8198);
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
            for (const { value, spellings } of (0,core_secrets/* urlSecrets */.Fn)(env[name] ?? ''))
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
    const secrets = new core_secrets/* Secrets */.Sb((value) => toolkit.setSecret(value));
    const redact = (line) => (0,core_message/* redactMessage */.b6)(line, secrets.redactor);
    const log = new OpLog({ path: logFilePath(env, action), action, redact });
    let summaryWritten = false;
    const outputsSet = new Set();
    return {
        action,
        inputs: new InputReader((name) => toolkit.getInput(name), workspaceFiles(env.GITHUB_WORKSPACE)),
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
/* harmony export */   dz: () => (/* binding */ InputError),
/* harmony export */   eG: () => (/* binding */ EnvironmentError),
/* harmony export */   hD: () => (/* binding */ ApiError),
/* harmony export */   zg: () => (/* binding */ StepError)
/* harmony export */ });
/* unused harmony export messageOf */
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
    return String(composedOf(error));
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

/***/ 3252:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   QB: () => (/* binding */ Message),
/* harmony export */   R7: () => (/* binding */ redactedValues),
/* harmony export */   ZV: () => (/* binding */ own),
/* harmony export */   ab: () => (/* binding */ msg),
/* harmony export */   al: () => (/* binding */ withoutSuffix),
/* harmony export */   b6: () => (/* binding */ redactMessage),
/* harmony export */   hw: () => (/* binding */ joinMessages),
/* harmony export */   qY: () => (/* binding */ outside),
/* harmony export */   s5: () => (/* binding */ composedOf),
/* harmony export */   vf: () => (/* binding */ ComposedError)
/* harmony export */ });
/* unused harmony exports lineText, redactPieces */
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
/* harmony export */   Mt: () => (/* binding */ randomized),
/* harmony export */   Ri: () => (/* binding */ untilEpochSeconds),
/* harmony export */   Rn: () => (/* binding */ retryLine),
/* harmony export */   Un: () => (/* binding */ MAX_LIMITED_ANSWERS),
/* harmony export */   Vs: () => (/* binding */ retryAfterMs),
/* harmony export */   h4: () => (/* binding */ DEFAULT_WAIT_BOUND),
/* harmony export */   oD: () => (/* binding */ MIN_RETRY_AFTER_MS),
/* harmony export */   vV: () => (/* binding */ judgeWait)
/* harmony export */ });
/* unused harmony exports epochMsOf, WAIT_SCALE_VARIABLE */
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

/***/ 8198:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Fn: () => (/* binding */ urlSecrets),
/* harmony export */   P$: () => (/* binding */ isSecretOverride),
/* harmony export */   Sb: () => (/* binding */ Secrets),
/* harmony export */   YJ: () => (/* binding */ isPlainValue),
/* harmony export */   qW: () => (/* binding */ isSecretConfigValue)
/* harmony export */ });
/* unused harmony exports SECRET_NAME, isTrivialValue */
/* harmony import */ var _redact_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(2258);

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
    constructor(mask, redactor = new _redact_js__WEBPACK_IMPORTED_MODULE_0__/* .Redactor */ .pO()) {
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


/***/ }),

/***/ 1363:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   ZD: () => (/* binding */ escapeHtml),
/* harmony export */   _V: () => (/* binding */ formatMs),
/* harmony export */   jb: () => (/* binding */ summaryTable),
/* harmony export */   kq: () => (/* binding */ escapeCell)
/* harmony export */ });
/* unused harmony exports countsLine, rowsWithin, markdownTable, mermaidGantt */
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
