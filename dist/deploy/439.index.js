export const id = 439;
export const ids = [439];
export const modules = {

/***/ 3082:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   v: () => (/* binding */ LineStream)
/* harmony export */ });
/* harmony import */ var node_string_decoder__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6193);
/* harmony import */ var node_string_decoder__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_string_decoder__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _redact_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2258);


/**
 * A byte stream (a child's stdout, an HTTP body, a build log) turned into
 * lines. Chunks go through one streaming UTF-8 decoder, so a character split
 * across two chunks arrives whole; with a redactor, the text is redacted
 * across chunk boundaries (`StreamRedactor`: a secret, a private key block or
 * an Authorization header split between chunks or lines is still found)
 * before any line is handed on. Lines end at `\n`; a `\r` before it is
 * dropped. `end()` hands on the last line even without its newline.
 */
class LineStream {
    decoder = new node_string_decoder__WEBPACK_IMPORTED_MODULE_0__.StringDecoder('utf8');
    redacting;
    onLine;
    pending = [];
    constructor(onLine, options = {}) {
        this.onLine = onLine;
        this.redacting = options.redactor ? new _redact_js__WEBPACK_IMPORTED_MODULE_1__/* .StreamRedactor */ .d6(options.redactor) : undefined;
    }
    /** Bytes, or text a decoder of the caller's already produced. */
    write(chunk) {
        const text = typeof chunk === 'string'
            ? chunk
            : this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        this.emit(this.redacting ? this.redacting.push(text) : text, false);
    }
    end() {
        const rest = this.decoder.end();
        this.emit(this.redacting ? this.redacting.push(rest) + this.redacting.end() : rest, true);
    }
    /** Scans only the new text, and joins a line's pieces once it ends: linear however long a line is. */
    emit(text, final) {
        let start = 0;
        for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
            this.pending.push(text.slice(start, nl));
            this.onLine(withoutCr(this.pending.join('')));
            this.pending = [];
            start = nl + 1;
        }
        if (start < text.length)
            this.pending.push(start === 0 ? text : text.slice(start));
        if (final && this.pending.length > 0) {
            this.onLine(withoutCr(this.pending.join('')));
            this.pending = [];
        }
    }
}
function withoutCr(line) {
    return line.endsWith('\r') ? line.slice(0, -1) : line;
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

/***/ 9439:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  connectHeroku: () => (/* binding */ connectHeroku)
});

// EXTERNAL MODULE: ./src/core/http.ts
var http = __webpack_require__(1983);
// EXTERNAL MODULE: ./src/core/rate-limit.ts
var rate_limit = __webpack_require__(2743);
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
    return new http/* HttpClient */.Qq({
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
function client_seg(value) {
    return encodeURIComponent(value);
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
            path: `/apps/${client_seg(app)}`,
            acceptStatus: [403, 404],
        });
        if (res.status === 403)
            throw new HerokuAppForbidden(app, res.data?.message ?? 'forbidden');
        return res.status === 404 ? undefined : toApp(res.data);
    }
    async get(app) {
        const res = await this.http.request({ operation: 'app.info', path: `/apps/${client_seg(app)}` });
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
            path: `/apps/${client_seg(app)}`,
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

// EXTERNAL MODULE: ./src/core/line-stream.ts
var line_stream = __webpack_require__(3082);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
// EXTERNAL MODULE: ./src/core/provider-list.ts
var provider_list = __webpack_require__(4023);
// EXTERNAL MODULE: ./src/core/undici.ts + 1 modules
var undici = __webpack_require__(1263);
;// CONCATENATED MODULE: ./src/providers/heroku/builds.ts





class HerokuBuilds {
    http;
    constructor(http) {
        this.http = http;
    }
    /** Not retried: a second POST starts a second build. */
    async create(app, source) {
        const res = await this.http.request({
            operation: 'build.create',
            method: 'POST',
            path: `/apps/${client_seg(app)}/builds`,
            json: { source_blob: { url: source.url, ...(source.version ? { version: source.version } : {}) } },
        });
        return toBuild(res.data);
    }
    /** The app's newest builds first (Heroku's `Range` paging on `started_at`, one page). */
    async recent(app, max = 20) {
        const res = await this.http.request({
            operation: 'build.list',
            path: `/apps/${client_seg(app)}/builds`,
            headers: { range: `started_at ..; max=${max}, order=desc` },
            acceptStatus: [206],
        });
        return (0,provider_list/* providerList */.M)(res.data, {
            provider: this.http.provider,
            operation: 'build.list',
            fields: { id: 'text', status: 'text' },
            requestId: res.requestId,
            request: res.request,
        }).map(toBuild);
    }
    /**
     * Cancels a running build (Platform API schema, build "Cancel": DELETE /apps/{app}/builds/{id});
     * it ends `failed`, with no release. `signal` bounds it (and its retries: DELETE is idempotent).
     */
    async cancel(app, id, signal) {
        const res = await this.http.request({
            operation: 'build.cancel',
            method: 'DELETE',
            path: `/apps/${client_seg(app)}/builds/${client_seg(id)}`,
            ...(signal ? { signal } : {}),
        });
        return toBuild(res.data);
    }
    async get(app, id) {
        const res = await this.http.request({
            operation: 'build.info',
            path: `/apps/${client_seg(app)}/builds/${client_seg(id)}`,
        });
        return toBuild(res.data);
    }
}
function toBuild(json) {
    return {
        id: json.id,
        status: json.status,
        version: json.source_blob?.version ?? undefined,
        outputStreamUrl: json.output_stream_url ?? undefined,
        releaseId: json.release?.id ?? undefined,
    };
}
/**
 * Reads a build's output stream (a signed URL, no credentials) and hands over
 * each complete line as it arrives, decoded and (with a redactor) redacted as
 * a stream (`LineStream`); the stream ends when the build does.
 */
async function streamLines(url, onLine, options = {}) {
    const { request } = await (0,undici/* loadUndici */.b7)();
    const res = await request(url, {
        method: 'GET',
        headers: { accept: 'text/plain', 'user-agent': 'ops-actions/0.1' },
        ...(options.signal ? { signal: options.signal } : {}),
        bodyTimeout: options.idleTimeoutMs ?? 10 * 60_000,
    });
    if (res.statusCode !== 200) {
        await res.body.dump();
        throw new message/* ComposedError */.vf((0,message/* msg */.ab) `build output stream answered HTTP ${res.statusCode}`);
    }
    const lines = new line_stream/* LineStream */.v(onLine, { redactor: options.redactor });
    for await (const chunk of res.body)
        lines.write(chunk);
    lines.end();
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
            path: `/apps/${client_seg(app)}/pipeline-couplings`,
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
            path: `/pipeline-couplings/${client_seg(couplingId)}`,
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
            path: `/pipeline-promotions/${client_seg(promotionId)}/promotion-targets`,
        });
        return (0,provider_list/* providerList */.M)(res.data, {
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
            path: `/apps/${client_seg(app)}/releases`,
            headers: { range: `version ..; max=${max}, order=desc` },
            acceptStatus: [206],
        });
        return (0,provider_list/* providerList */.M)(res.data, {
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

;// CONCATENATED MODULE: ./src/providers/heroku/rollbacks.ts


/**
 * The Releases API calls a deploy needs beyond listing: one release by id or
 * version, and a rollback (`POST /apps/{app}/releases {release}`), which makes
 * a new release with the slug and config of the one named.
 */
class HerokuReleaseActions {
    http;
    constructor(http) {
        this.http = http;
    }
    async get(app, release) {
        const res = await this.http.request({
            operation: 'release.info',
            path: `/apps/${client_seg(app)}/releases/${client_seg(release)}`,
            acceptStatus: [404],
        });
        return res.status === 404 ? undefined : toRelease(res.data);
    }
    /** Not retried: a second POST would make a second release. */
    async rollback(app, releaseId) {
        const res = await this.http.request({
            operation: 'release.rollback',
            method: 'POST',
            path: `/apps/${client_seg(app)}/releases`,
            json: { release: releaseId },
        });
        return toRelease(res.data);
    }
}

// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/progress.ts
var core_progress = __webpack_require__(4664);
;// CONCATENATED MODULE: ./src/deploy/heroku.ts





function releaseLabel(r) {
    return r ? `release v${r.version}` : undefined;
}
/**
 * The release a `previous` rollback goes to: the newest one before the current that
 * Heroku marks `eligible_for_rollback` and that carries a slug, as the Heroku CLI
 * picks it (heroku/cli src/lib/releases/releases.ts, findByPreviousOrId).
 */
function releaseBefore(releases, current) {
    return releases
        .filter((r) => r.eligibleForRollback && r.slugId && (!current || r.version < current.version))
        .sort((a, b) => b.version - a.version)[0];
}
function createHerokuTarget(settings, deps) {
    const sleep = deps.sleep ?? http/* abortableSleep */.Mf;
    const pollMs = deps.pollMs ?? 1000;
    const stream = deps.streamLines ?? streamLines;
    let observed;
    const look = () => {
        if (deps.skipObserve)
            observed ??= Promise.resolve({ current: undefined, webUrl: '' });
        observed ??= Promise.all([deps.apps.get(settings.app), deps.releases.current(settings.app)])
            .then(([app, current]) => ({ current, webUrl: app.webUrl }))
            .catch((error) => {
            throw new errors/* StepError */.zg('heroku.observe', (0,message/* msg */.ab) `read Heroku app ${settings.app} and its current release`, error);
        });
        return observed;
    };
    async function observe() {
        const { current, webUrl } = await look();
        return { previousImage: releaseLabel(current), url: webUrl || undefined };
    }
    async function run(request) {
        const { current, webUrl } = await look();
        const t0 = performance.now();
        const unit = {
            id: settings.app,
            previousImage: releaseLabel(current),
            outcome: 'planned',
            batch: 1,
            startedMs: 0,
            endedMs: 0,
        };
        const plan = describe(request);
        const base = { previousImage: releaseLabel(current), url: webUrl || undefined, plan };
        if (request.dryRun)
            return { ...base, status: 'success', units: [unit] };
        const progress = new core_progress/* Progress */.k(1, request.log);
        const finish = (outcome) => {
            unit.endedMs = performance.now() - t0;
            progress.done({
                id: unit.id,
                outcome: unit.outcome,
                status: unit.newImage,
                ms: unit.endedMs,
                note: (0,message/* lineText */.oZ)(unit.error),
            });
            return outcome;
        };
        if (request.operation === 'rollback' && current && request.release === current.id) {
            unit.outcome = 'unchanged';
            unit.newImage = releaseLabel(current);
            request.log((0,message/* msg */.ab) `${settings.app} already runs release v${current.version}; nothing to roll back`);
            return finish({ ...base, status: 'success', units: [unit], release: current.id });
        }
        try {
            const release = request.operation === 'rollback'
                ? await rollback(request)
                : settings.source?.kind === 'promote'
                    ? await promote(settings.source.from, request)
                    : await build(request);
            unit.outcome = 'updated';
            unit.health = 'passing';
            unit.newImage = releaseLabel(release);
            return finish({ ...base, status: 'success', units: [unit], release: release.id });
        }
        catch (error) {
            unit.outcome = 'failed';
            unit.health = 'failing';
            unit.error = (0,message/* composedOf */.s5)(error);
            return finish({ ...base, status: 'failed', units: [unit], error: unit.error });
        }
    }
    function describe(request) {
        const app = settings.app;
        if (request.operation === 'rollback')
            return [
                (0,message/* msg */.ab) `POST /apps/${app}/releases {release: ${request.release ?? (0,message/* own */.ZV)('the release before the current one')}}`,
            ];
        if (settings.source?.kind === 'promote')
            return [
                (0,message/* msg */.ab) `promote ${settings.source.from} -> ${app}: POST /pipeline-promotions`,
                (0,message/* msg */.ab) `wait for the promotion target to succeed`,
            ];
        return [
            (0,message/* msg */.ab) `POST /apps/${app}/builds {source_blob.url: ${settings.source?.url ?? (0,message/* own */.ZV)('?')}, version: ${request.deployTag}} unless a build of ${request.deployTag} is already under way`,
            (0,message/* msg */.ab) `stream the build output, wait for the build and its release`,
        ];
    }
    async function build(request) {
        const source = settings.source;
        if (source?.kind !== 'url')
            throw new Error('source-url is required to build');
        const created = await startBuild(source.url, request);
        let streamed = Promise.resolve();
        const cut = new AbortController();
        if (created.outputStreamUrl) {
            streamed = stream(created.outputStreamUrl, (line) => request.log((0,message/* msg */.ab) `  ${line}`), {
                signal: request.signal ? AbortSignal.any([request.signal, cut.signal]) : cut.signal,
                redactor: deps.redactor,
            }).catch((error) => request.log((0,message/* msg */.ab) `warning: build output stream ended early: ${cut.signal.aborted ? (0,message/* msg */.ab) `no more output ${(0,message/* own */.ZV)(deps.streamGraceMs ?? 5000)} ms after the build ended` : error}`));
        }
        const deadline = performance.now() + request.healthTimeoutMs + 30 * 60_000;
        let done = created;
        try {
            while (done.status === 'pending') {
                if (performance.now() > deadline)
                    throw new message/* ComposedError */.vf((0,message/* msg */.ab) `build ${created.id} still pending`);
                await sleep(pollMs, request.signal);
                done = await deps.builds.get(settings.app, created.id);
            }
        }
        catch (error) {
            if (request.signal?.aborted)
                await cancelBuild(created.id, request);
            throw error;
        }
        // The build's outcome comes from the API; a stream that never ends must not hold the deploy.
        const grace = setTimeout(() => cut.abort(), deps.streamGraceMs ?? 5000);
        await streamed;
        clearTimeout(grace);
        if (done.status !== 'succeeded')
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `build ${created.id} ${done.status}`);
        if (!done.releaseId)
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `build ${created.id} succeeded without a release`);
        return waitRelease(done.releaseId, request);
    }
    /**
     * A cancelled step cancels its build, so no release lands after the step said it stopped; a
     * build that cannot be cancelled in the runner's grace is named in the log.
     */
    async function cancelBuild(id, request) {
        try {
            const after = await deps.builds.cancel(settings.app, id, request.cleanupSignal);
            request.log((0,message/* msg */.ab) `Cancelled: build ${id} cancelled (now ${after.status}); the app keeps its release`);
        }
        catch (error) {
            request.log((0,message/* msg */.ab) `warning: could not cancel build ${id}: ${error}`);
        }
    }
    /**
     * The build POST is never sent twice: its answer may be lost after Heroku started the build.
     * Each build carries the deploy tag as `source_blob.version`, and a re-run (which continues
     * the earlier attempt's deploy, tag included) first looks for it among the app's newest builds:
     * one still running or succeeded is followed instead of building again; a failed one is not.
     */
    async function startBuild(url, request) {
        const mine = (await deps.builds.recent(settings.app)).find((b) => b.version === request.deployTag);
        if (mine && mine.status !== 'failed') {
            request.log((0,message/* msg */.ab) `build ${mine.id} of ${request.deployTag} was started by an earlier attempt: following it`);
            return mine;
        }
        const created = await deps.builds.create(settings.app, { url, version: request.deployTag });
        request.log((0,message/* msg */.ab) `build ${created.id} started`);
        return created;
    }
    async function promote(from, request) {
        const [source, target] = await Promise.all([
            deps.couplings.findByApp(from),
            deps.couplings.findByApp(settings.app),
        ]);
        if (!source)
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `app ${from} is in no pipeline`);
        if (!target || target.pipelineId !== source.pipelineId)
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `app ${settings.app} is not in the pipeline of ${from}`);
        const promotion = await deps.promotions.create({
            pipelineId: source.pipelineId,
            sourceAppId: source.appId,
            targetAppIds: [target.appId],
        });
        request.log((0,message/* msg */.ab) `promotion ${promotion.id} from ${from} started`);
        const deadline = performance.now() + request.healthTimeoutMs;
        for (;;) {
            const mine = (await deps.promotions.targets(promotion.id)).find((t) => t.appId === target.appId);
            if (mine && mine.status === 'succeeded' && mine.releaseId)
                return waitRelease(mine.releaseId, request);
            if (mine && mine.status === 'failed')
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `promotion to ${settings.app} failed: ${mine.errorMessage ?? (0,message/* own */.ZV)('no reason given')}`);
            if (performance.now() > deadline)
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `promotion ${promotion.id} still pending`);
            await sleep(pollMs, request.signal);
        }
    }
    async function rollback(request) {
        let releaseId = request.release;
        if (!releaseId) {
            const { current } = await look();
            const before = releaseBefore(await deps.releases.latest(settings.app, 50), current);
            if (!before)
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `app ${settings.app} has no earlier release to roll back to`);
            releaseId = before.id;
        }
        const made = await deps.releaseActions.rollback(settings.app, releaseId);
        request.log((0,message/* msg */.ab) `rollback release v${made.version} created`);
        return waitRelease(made.id, request);
    }
    /** A release with a release phase stays `pending` until that phase finishes. */
    async function waitRelease(id, request) {
        const deadline = performance.now() + request.healthTimeoutMs;
        for (;;) {
            const release = await deps.releaseActions.get(settings.app, id);
            if (!release)
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `release ${id} not found`);
            if (release.status === 'succeeded')
                return release;
            if (release.status === 'failed' || release.status === 'expired')
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `release v${release.version} ${release.status}`);
            if (performance.now() > deadline)
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `release v${release.version} still ${release.status}`);
            await sleep(pollMs, request.signal);
        }
    }
    return { observe, run };
}

// EXTERNAL MODULE: ./src/deploy/rate-limit-waits.ts
var rate_limit_waits = __webpack_require__(7680);
;// CONCATENATED MODULE: ./src/deploy/connect-heroku.ts









/** The heroku target on the real Platform API; main.ts loads this only for `target: heroku`. */
function connectHeroku(settings, deploy, ctx, 
/** Epoch ms of the step's start: rate-limit waits end by it + health-timeout. */
startedAt) {
    const redactor = ctx.secrets.redactor;
    const redact = (text) => redactor.redact(text);
    const http = createHerokuHttp({
        baseUrl: settings.apiUrl,
        apiKey: settings.apiKey,
        redact,
        ...(0,rate_limit_waits/* rateLimitWaits */.Q)(deploy, ctx, startedAt),
    });
    return createHerokuTarget(settings, {
        apps: new HerokuApps(http),
        builds: new HerokuBuilds(http),
        releases: new HerokuReleases(http),
        releaseActions: new HerokuReleaseActions(http),
        couplings: new HerokuPipelineCouplings(http),
        promotions: new HerokuPromotions(http),
        skipObserve: deploy.dryRun && deploy.operation === 'deploy',
        redactor,
    });
}


/***/ })

};
