export const id = 941;
export const ids = [941];
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

/***/ 7394:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   AK: () => (/* binding */ upstreamFile),
/* harmony export */   LQ: () => (/* binding */ removeImageIfUnused),
/* harmony export */   Rn: () => (/* binding */ pickPort),
/* harmony export */   TF: () => (/* binding */ remove),
/* harmony export */   UR: () => (/* binding */ tailLogs),
/* harmony export */   a$: () => (/* binding */ pull),
/* harmony export */   ay: () => (/* binding */ proxiedHealth),
/* harmony export */   dP: () => (/* binding */ upstreamName),
/* harmony export */   ds: () => (/* binding */ stop),
/* harmony export */   eQ: () => (/* binding */ parseContainers),
/* harmony export */   mC: () => (/* binding */ switchUpstream),
/* harmony export */   ni: () => (/* binding */ start),
/* harmony export */   pz: () => (/* binding */ parsePort),
/* harmony export */   q9: () => (/* binding */ shellQuote),
/* harmony export */   ts: () => (/* binding */ listContainers),
/* harmony export */   uP: () => (/* binding */ CONTAINER_GONE),
/* harmony export */   vt: () => (/* binding */ create),
/* harmony export */   xN: () => (/* binding */ containerName),
/* harmony export */   ys: () => (/* binding */ healthAttempt)
/* harmony export */ });
/* unused harmony exports LABEL_SERVICE, LABEL_DEPLOY, LABEL_IMAGE, LABEL_DEPLOY_ID, LABEL_PORT, upstreamConfig */
/**
 * Every remote command of the ssh target as plain text, built from data and
 * nothing else (Kamal's `commands/app.rb`): the host runs them with its own
 * `docker`, exactly as an operator would type them. Values are single-quoted;
 * `run-args` and `health-cmd` are the user's own shell text and go in as is.
 */
const LABEL_SERVICE = 'ops-actions.service';
const LABEL_DEPLOY = 'ops-actions.deploy';
const LABEL_IMAGE = 'ops-actions.image';
const LABEL_DEPLOY_ID = 'ops-actions.deploy-id';
/** The host port a container behind the proxy listens on (`proxy: nginx`). */
const LABEL_PORT = 'ops-actions.port';
/** Marks our own lines in remote output, so a chatty login shell cannot be mistaken for data. */
const ROW = 'ops-actions-container';
function shellQuote(value) {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}
/** `<service>-<deploy tag>`, with anything Docker refuses in a name turned into `-`. */
function containerName(service, deployTag) {
    return `${service}-${deployTag.replace(/[^a-zA-Z0-9_.-]/g, '-')}`;
}
function listContainers(service) {
    const format = [
        ROW,
        '{{.ID}}',
        '{{.Names}}',
        `{{.Label "${LABEL_DEPLOY}"}}`,
        `{{.Label "${LABEL_IMAGE}"}}`,
        '{{.State}}',
        '{{.CreatedAt}}',
        '{{.Image}}',
        `{{.Label "${LABEL_PORT}"}}`,
    ].join('\t');
    return `docker ps --all --no-trunc --filter ${shellQuote(`label=${LABEL_SERVICE}=${service}`)} --format ${shellQuote(format)}`;
}
/** Rows of `listContainers`, newest first. */
function parseContainers(output) {
    const rows = [];
    for (const line of output.split('\n')) {
        const cells = line.split('\t');
        if (cells[0] !== ROW || cells.length < 8)
            continue;
        const [, id, name, deployTag, label, state, createdAt, image, port] = cells;
        rows.push({
            id: id,
            name: name,
            deployTag: deployTag,
            image: label || image,
            state: state,
            createdAt: createdAt,
            port: port && /^\d+$/.test(port) ? Number(port) : undefined,
        });
    }
    return rows.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}
/**
 * Pull by digest. With credentials, the login goes to a throwaway DOCKER_CONFIG
 * removed when the command ends, so no password stays on the host; the password
 * itself arrives on stdin, never in argv.
 */
function pull(image, login) {
    if (!login)
        return `docker pull ${shellQuote(image)}`;
    const server = login.server ? ` ${shellQuote(login.server)}` : '';
    return [
        'set -e',
        'cfg=$(mktemp -d)',
        `trap 'rm -rf "$cfg"' EXIT`,
        `DOCKER_CONFIG="$cfg" docker login --username ${shellQuote(login.username)} --password-stdin${server} >/dev/null`,
        `DOCKER_CONFIG="$cfg" docker pull ${shellQuote(image)}`,
    ].join('; ');
}
function create(spec) {
    const labels = [
        `${LABEL_SERVICE}=${spec.service}`,
        `${LABEL_DEPLOY}=${spec.deployTag}`,
        `${LABEL_IMAGE}=${spec.image}`,
        `${LABEL_DEPLOY_ID}=${spec.deployId}`,
        ...(spec.port !== undefined ? [`${LABEL_PORT}=${spec.port}`] : []),
    ].flatMap((label) => ['--label', shellQuote(label)]);
    const runArgs = spec.runArgs.trim() === '' ? [] : [spec.runArgs.trim()];
    return ['docker create --name', shellQuote(spec.name), ...labels, ...runArgs, shellQuote(spec.image)].join(' ');
}
/**
 * Prints a free TCP port in 20000-29999: random candidates, skipping every
 * port the host's kernel lists as listening (`/proc/net/tcp*`, state 0A).
 */
function pickPort() {
    return [
        `used=" $(awk 'FNR>1 && $4=="0A" {n=split($2,a,":"); print a[n]}' /proc/net/tcp /proc/net/tcp6 2>/dev/null | tr '\n' ' ') "`,
        'for i in $(seq 1 100); do p=$(( $(od -An -N2 -tu2 /dev/urandom) % 10000 + 20000 )); h=$(printf "%04X" "$p"); case "$used" in *" $h "*) continue;; esac; echo "port $p"; exit 0; done',
        'echo "no free port found in 20000-29999" >&2; exit 1',
    ].join('; ');
}
/** The port `pickPort` printed. */
function parsePort(output) {
    const match = /^port (\d+)$/m.exec(output);
    return match ? Number(match[1]) : undefined;
}
/**
 * The health check of a container behind the proxy: `health-cmd` with `PORT`
 * exported, and/or `health-path` fetched from its own port.
 */
function proxiedHealth(port, healthCmd, healthPath) {
    const parts = [];
    if (healthCmd)
        parts.push(`(PORT=${port}; export PORT; ${healthCmd})`);
    if (healthPath)
        parts.push(`curl -fsS -o /dev/null --max-time 5 ${shellQuote(`http://127.0.0.1:${port}${healthPath}`)}`);
    return parts.join(' && ');
}
/** `$HOME/.ops-actions/nginx/<service>.conf`: the one file the action writes for nginx. */
function upstreamFile(service) {
    return `$HOME/.ops-actions/nginx/${service}.conf`;
}
/**
 * Upstream name for the operator's `proxy_pass http://<name>;`: `<service>_app`, one name per
 * service. nginx compares upstream names without case (a second `upstream Shop_app` next to
 * `shop_app` fails `nginx -t` with "duplicate upstream"), so the name is written in lower case
 * with `_` as an escape: `_` becomes `__` and a capital letter `_` plus its lower case
 * (`shop-api` → `shop-api_app`, `shop_api` → `shop__api_app`, `Shop` → `_shop_app`). Letters,
 * digits, `-` and `.` stay as they are; every service name allowed by the `service` input gets
 * a name no other one gets.
 */
function upstreamName(service) {
    const escaped = service.replace(/[A-Z_]/g, (c) => (c === '_' ? '__' : `_${c.toLowerCase()}`));
    return `${escaped}_app`;
}
function upstreamConfig(service, port) {
    return [
        '# Written by ops-actions action-deploy (proxy: nginx); replaced on every deploy.',
        `upstream ${upstreamName(service)} {`,
        `    server 127.0.0.1:${port};`,
        '    keepalive 16;',
        '}',
    ].join('\n');
}
/**
 * Points the service's upstream at `port`: the new file goes in place, `nginx -t`
 * checks the whole configuration, and only then `nginx -s reload` (a graceful
 * reload: old workers finish their requests, nginx.org/en/docs/control.html).
 * When `nginx -t` refuses, the previous file is put back before anything
 * reloads, and the command fails with nginx's message. `nginx` is the host's
 * own, unless the ssh session sets `OPS_ACTIONS_NGINX` (e.g. `sudo -n nginx`,
 * or nginx with its `-p`/`-c` for a non-default install).
 *
 * However the script ends before the reload went through (nginx -t refused, the
 * reload failed, a signal: the session cut on cancel is SIGHUP or SIGPIPE), its
 * EXIT trap puts the previous file back (or removes a first one) and leaves no
 * `.next`/`.good` file behind. `moved=1` is set before the file is overwritten: the
 * shell runs a trap only between commands, and putting back an unchanged file
 * is harmless.
 */
function switchUpstream(service, port) {
    const file = upstreamFile(service);
    return [
        'set -e',
        `f="${file}"`,
        'had=0; moved=0; live=0',
        'trap \'if [ "$live" != 1 ] && [ "$moved" = 1 ]; then if [ "$had" = 1 ]; then mv -f "$f.good" "$f"; else rm -f "$f"; fi; fi; rm -f "$f.good" "$f.next"\' EXIT',
        "trap 'exit 1' HUP INT TERM PIPE",
        'mkdir -p "$(dirname "$f")"',
        `printf '%s\n' ${shellQuote(upstreamConfig(service, port))} > "$f.next"`,
        'if [ -f "$f" ]; then cp -p "$f" "$f.good"; had=1; fi',
        'moved=1; cp "$f.next" "$f"',
        `n=\${OPS_ACTIONS_NGINX:-nginx}`,
        'if ! out=$($n -t 2>&1); then printf \'%s\\n\' "$out"; echo "nginx -t refused the new upstream; the previous one stays"; exit 1; fi',
        '$n -s reload',
        'live=1',
        `echo "upstream ${upstreamName(service)} -> 127.0.0.1:${port}"`,
    ].join('; ');
}
function start(name) {
    return `docker start ${shellQuote(name)}`;
}
function stop(name) {
    return `docker stop ${shellQuote(name)}`;
}
function remove(name) {
    return `docker rm --force ${shellQuote(name)}`;
}
/** Removes an image only when no container uses it any more; Docker refuses otherwise, which is fine. */
function removeImageIfUnused(image) {
    return `docker image rm ${shellQuote(image)} >/dev/null 2>&1 || true`;
}
function tailLogs(name, lines = 20) {
    return `docker logs --tail ${lines} ${shellQuote(name)}`;
}
/** Exit code of a health attempt when the container has stopped for good: waiting longer cannot help. */
const CONTAINER_GONE = 86;
/**
 * One health attempt: fail fast when the container exited and will not be
 * restarted, otherwise the user's command decides.
 */
function healthAttempt(name, healthCmd) {
    const state = `docker inspect --format '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}' ${shellQuote(name)}`;
    const check = [
        `s=$(${state}) || exit ${CONTAINER_GONE}`,
        `case "$s" in "exited no"|"exited "|"dead "*) echo "container ${name.replace(/[^a-zA-Z0-9_.-]/g, '')} is $s"; exit ${CONTAINER_GONE};; esac`,
    ].join('; ');
    return healthCmd ? `${check}; ${healthCmd}` : check;
}


/***/ }),

/***/ 9775:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  G: () => (/* binding */ resolveHosts)
});

// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
// EXTERNAL MODULE: ./src/core/http.ts
var http = __webpack_require__(1983);
// EXTERNAL MODULE: ./src/core/rate-limit.ts
var rate_limit = __webpack_require__(2743);
;// CONCATENATED MODULE: ./src/providers/digitalocean/rate-limit.ts

/**
 * DigitalOcean's two rate limits (the droplets contract, components.responses.too_many_requests
 * and components.headers; docs.digitalocean.com/notes/changelog/add-burst-rate-limits):
 * 5000 requests an hour, and a burst limit of 250 requests a minute. A 429 carries
 * `ratelimit-limit`, `ratelimit-remaining` (of the hourly quota) and `ratelimit-reset`
 * (epoch seconds when the oldest request expires), and no `Retry-After`.
 * - hourly quota used up (`ratelimit-remaining: 0`): wait until `ratelimit-reset`, when one
 *   request is free again;
 * - otherwise it is the burst limit: godo's `RetryConfig` backoff (go-retryablehttp's default:
 *   `Retry-After` when sent, else 1 s doubling, capped at 30 s), spread up to 25 % later so
 *   jobs limited together do not all send again at once.
 */
const DO_FIRST_WAIT_MS = 1000;
const DO_MAX_WAIT_MS = 30_000;
const DO_SPREAD = 0.25;
const digitalOceanRateLimit = {
    limited({ status, headers }, count, now, random) {
        if (status !== 429)
            return undefined;
        const untilReset = (0,rate_limit/* untilEpochSeconds */.Ri)(headers['ratelimit-reset'], now);
        if (headers['ratelimit-remaining'] === '0' && untilReset !== undefined) {
            return {
                waitMs: Math.max(DO_FIRST_WAIT_MS, untilReset),
                limit: `HTTP 429, hourly limit: ratelimit-remaining 0, ratelimit-reset ${new Date((0,rate_limit/* epochMsOf */.DS)(headers['ratelimit-reset'])).toISOString()}`,
            };
        }
        return {
            waitMs: (0,rate_limit/* retryAfterMs */.Vs)(headers, now) ??
                Math.round((0,rate_limit/* doubling */.Bf)(count, DO_FIRST_WAIT_MS, DO_MAX_WAIT_MS) * (1 + DO_SPREAD * random())),
            limit: `HTTP 429, burst limit of 250 requests a minute${headers['ratelimit-remaining'] ? ` (ratelimit-remaining ${headers['ratelimit-remaining']})` : ''}`,
        };
    },
};

;// CONCATENATED MODULE: ./src/providers/digitalocean/client.ts


/**
 * The one sender every DigitalOcean resource client shares: base URL, bearer
 * token and the core retry policy. Resource clients (droplets.ts) take the
 * `HttpClient` this returns.
 */
const DIGITALOCEAN_API_URL = 'https://api.digitalocean.com/v2';
function createDigitalOceanClient(options) {
    return new http/* HttpClient */.Qq({
        provider: 'DigitalOcean',
        credential: options.credential ?? 'digitalocean-token',
        baseUrl: options.baseUrl ?? DIGITALOCEAN_API_URL,
        headers: { authorization: `Bearer ${options.token.trim()}`, accept: 'application/json' },
        redact: options.redact,
        rateLimit: digitalOceanRateLimit,
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

// EXTERNAL MODULE: external "node:net"
var external_node_net_ = __webpack_require__(7030);
// EXTERNAL MODULE: ./src/core/provider-list.ts
var provider_list = __webpack_require__(4023);
;// CONCATENATED MODULE: ./src/providers/digitalocean/droplets.ts


const PER_PAGE = 200;
const MAX_PAGES = 1000;
async function listDropletsByTag(client, tag) {
    const out = [];
    for (let page = 1, pages = 0; pages < MAX_PAGES; pages++) {
        const res = await client.request({
            operation: 'droplets.list',
            path: '/droplets',
            query: { tag_name: tag, per_page: PER_PAGE, page },
        });
        const droplets = (0,provider_list/* providerList */.M)(res.data, {
            provider: client.provider,
            operation: 'droplets.list',
            field: 'droplets',
            // The droplet fields hosts are chosen by (DigitalOcean API reference, List All Droplets).
            fields: { id: 'number', name: 'text', status: 'text', tags: 'list?', networks: 'object?' },
            requestId: res.requestId,
            request: res.request,
        });
        for (const droplet of droplets) {
            if (!(droplet.tags ?? []).includes(tag))
                continue;
            out.push(toDroplet(droplet));
        }
        // `next` is an absolute URL on the real API host; only its page number is followed,
        // so the configured base URL (a sandbox, a proxy) stays the one spoken to.
        const next = nextPage(res.data?.links?.pages?.next);
        if (next === undefined || next <= page)
            break;
        page = next;
    }
    return out;
}
function nextPage(link) {
    if (!link)
        return undefined;
    try {
        const value = Number(new URL(link).searchParams.get('page'));
        return Number.isInteger(value) && value > 0 ? value : undefined;
    }
    catch {
        return undefined;
    }
}
function toDroplet(d) {
    return { id: d.id, name: d.name, status: d.status, tags: d.tags ?? [], publicIpv4: publicIpv4(d) };
}
/**
 * The `ip_address` of the `type: public` entry of `networks.v4` (DigitalOcean API reference,
 * List All Droplets), only when it is an IPv4 address: it becomes the ssh destination, where
 * anything else (`null`, a name, `-J…`) would be another host or an ssh option. A droplet
 * without one is skipped, and the log says why.
 */
function publicIpv4(d) {
    const v4 = d.networks?.v4;
    if (!Array.isArray(v4))
        return undefined;
    const address = v4.find((n) => n?.type === 'public')?.ip_address;
    return typeof address === 'string' && (0,external_node_net_.isIPv4)(address) ? address : undefined;
}

// EXTERNAL MODULE: ./src/core/inputs.ts
var inputs = __webpack_require__(9114);
;// CONCATENATED MODULE: ./src/deploy/ssh/hosts.ts



/** `user@host:port` as shown in progress and errors (`[::1]:22` for an IPv6 address). */
function hostKey(login) {
    const host = login.host.includes(':') ? `[${login.host}]` : login.host;
    return `${login.user ? `${login.user}@` : ''}${host}:${login.port}`;
}
function fromHostsInput(hosts) {
    return hosts.map((login) => ({ id: login.host, where: hostKey(login), login }));
}
function fromDroplets(tag, droplets, hostsInput) {
    const { unique, merged } = oncePerId(droplets.filter((d) => d.tags.includes(tag)));
    const skipped = [];
    const usable = [];
    for (const d of unique) {
        if (!d.publicIpv4)
            skipped.push({ name: d.name, reason: 'it has no public IPv4 address' });
        else if (d.status !== 'active')
            skipped.push({ name: d.name, reason: `its status is ${d.status}` });
        else
            usable.push({ ...d, publicIpv4: d.publicIpv4 });
    }
    const linesOf = new Map();
    for (const line of hostsInput) {
        const named = unique.filter((d) => names(line, d));
        if (named.length === 0) {
            throw new errors/* StepError */.zg('hosts', (0,message/* msg */.ab) `deploy to hosts entry ${hostKey(line)}`, `this hosts entry is not a droplet tagged ${JSON.stringify(tag)}; droplets without the tag are never touched`);
        }
        for (const d of named)
            linesOf.set(d.id, [...(linesOf.get(d.id) ?? []), line]);
    }
    const hosts = usable.map((d) => {
        const lines = linesOf.get(d.id) ?? [];
        if (lines.length > 1) {
            throw new errors/* StepError */.zg('hosts', (0,message/* msg */.ab) `deploy to droplet ${d.name}`, `the hosts entries ${lines.map(hostKey).join(' and ')} both name it (by name or IP); give one entry per droplet`);
        }
        const named = lines[0];
        const login = { user: named ? named.user : 'root', host: d.publicIpv4, port: named?.port ?? 22 };
        return { id: d.name, where: hostKey(login), login };
    });
    if (hosts.length === 0) {
        const why = skipped.length > 0 ? `: ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : '';
        throw new errors/* StepError */.zg('hosts', (0,message/* msg */.ab) `find the droplets tagged ${JSON.stringify(tag)} on DigitalOcean`, `no active droplet with a public IPv4 address carries this tag${why}`);
    }
    refuseSharedMachines(hosts, tag);
    return { hosts, skipped, merged };
}
/** A `hosts` line names a droplet by its public IPv4 or its name, compared as `sshHostKey` compares hosts. */
function names(line, d) {
    const host = machineOf(line.host);
    return [d.publicIpv4, d.name].some((h) => h !== undefined && machineOf(h) === host);
}
/** The host part of `sshHostKey`; a droplet name no URL parser takes is compared lower-cased. */
function machineOf(host) {
    try {
        return (0,inputs/* sshHostKey */.mh)({ user: undefined, host, port: 22 });
    }
    catch {
        return `${host.toLowerCase()}:22`;
    }
}
/**
 * The listing can answer one droplet twice (a droplet created or deleted while the pages were
 * read shifts them): one droplet is one host, and the log says so.
 */
function oncePerId(droplets) {
    const seen = new Map();
    const unique = [];
    for (const d of droplets) {
        seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
        if (seen.get(d.id) === 1)
            unique.push(d);
    }
    const merged = unique
        .filter((d) => seen.get(d.id) > 1)
        .map((d) => `droplet ${d.name} (id ${d.id}) was listed ${seen.get(d.id)} times by DigitalOcean; it is deployed once`);
    return { unique, merged };
}
/** Two droplets that would be reached as one machine (a stale listing): which one is meant is unknown. */
function refuseSharedMachines(hosts, tag) {
    const byMachine = new Map();
    for (const h of hosts) {
        const key = (0,inputs/* sshHostKey */.mh)(h.login);
        const first = byMachine.get(key);
        if (first) {
            throw new errors/* StepError */.zg('hosts', (0,message/* msg */.ab) `find the droplets tagged ${JSON.stringify(tag)} on DigitalOcean`, `droplets ${first.id} and ${h.id} are both reached as ${key}; one machine would be deployed twice (check the droplets' public IPv4 addresses)`);
        }
        byMachine.set(key, h);
    }
}

;// CONCATENATED MODULE: ./src/deploy/ssh/discover-hosts.ts





/** The hosts to deploy to: the `hosts` input, or the droplets carrying `digitalocean-tag` when a token is given. */
async function resolveHosts(settings, ctx) {
    const token = settings.digitalocean.token;
    if (!token)
        return fromHostsInput(settings.hosts);
    const tag = settings.digitalocean.tag;
    const client = createDigitalOceanClient({
        baseUrl: settings.digitalocean.apiUrl,
        token,
        redact: (text) => ctx.secrets.redact(text),
        // Discovery comes before any lock is taken: a rate limit may hold it up as long as a lock may.
        // All pages of the listing share one deadline; the runner's cancellation cuts any wait.
        waitBound: {
            budgetMs: settings.lockTimeoutMs,
            deadlineAt: Date.now() + settings.lockTimeoutMs,
            name: 'the input lock-timeout',
        },
        signal: ctx.cancellation.signal,
        log: (line) => ctx.info(line),
    });
    const droplets = await ctx.log.step('digitalocean.droplets.list', { tag }, () => listDropletsByTag(client, tag).catch((error) => {
        if (!(error instanceof errors/* ApiError */.hD))
            throw error;
        throw new errors/* StepError */.zg('digitalocean.droplets.list', (0,message/* msg */.ab) `find the droplets tagged ${JSON.stringify(tag)} on DigitalOcean`, error);
    }));
    const choice = fromDroplets(tag, droplets, settings.hosts);
    for (const m of choice.merged)
        ctx.info((0,message/* msg */.ab) `DigitalOcean: ${m}.`);
    for (const s of choice.skipped)
        ctx.warning((0,message/* msg */.ab) `Droplet ${s.name} carries ${tag} but is skipped: ${s.reason}.`);
    ctx.info((0,message/* msg */.ab) `DigitalOcean: ${choice.hosts.length} droplet(s) tagged ${tag}: ${choice.hosts.map((h) => (0,message/* msg */.ab) `${h.id} (${h.where})`).join(', ')}`);
    return choice.hosts;
}


/***/ }),

/***/ 6958:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  IZ: () => (/* binding */ acquireLock),
  $S: () => (/* binding */ describeOwner),
  g5: () => (/* binding */ failureOf),
  QR: () => (/* binding */ inspectCommand),
  w$: () => (/* binding */ lastLines),
  G8: () => (/* binding */ parseAcquire),
  F_: () => (/* binding */ parseOwnerLine),
  BC: () => (/* binding */ parseRelease),
  Pw: () => (/* binding */ releaseCommand)
});

// UNUSED EXPORTS: LOCK_DIR, acquireCommand, adoptCommand, isEarlierAttempt, ownerLine

// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
// EXTERNAL MODULE: ./src/core/summary.ts
var summary = __webpack_require__(1363);
;// CONCATENATED MODULE: ./src/providers/ssh/ssh-reason.ts
/**
 * Why the ssh client could not run a command, from what it printed on its own
 * stderr: its last line, as OpenSSH words it (`Permission denied (publickey).`,
 * `Host key verification failed.`, `ssh: connect to host h port 22: Connection
 * refused`, `ssh: Could not resolve hostname h: Name or service not known`),
 * preceded by a `Load key` line when the key did not load, and for host keys
 * followed by which known_hosts entry was wrong (OpenSSH sshconnect.c
 * `check_host_key` prints "Host key for %s has changed" and "No %s host key is
 * known for %s"). The files the session wrote are named by the inputs they hold
 * (`ssh-key`, `ssh-known-hosts`): their temp paths are gone when anyone reads
 * this. Empty when ssh printed nothing.
 */
function sshReason(stderr) {
    const lines = stderr
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('@@@') && !line.startsWith('[output over'))
        .map(namedByInput);
    const last = lines.at(-1);
    if (last === undefined)
        return '';
    const changed = lines.map((l) => /^Host key for (\S+) has changed/.exec(l)?.[1]).find(Boolean);
    if (changed)
        return `${last} The host key of ${changed} is not the one ssh-known-hosts gives.`;
    const unknown = lines.map((l) => /^No (\S+) host key is known for (\S+)/.exec(l)).find(Boolean);
    if (unknown)
        return `${last} ssh-known-hosts has no ${unknown[1]} key for ${unknown[2]}.`;
    const load = lines.find((l) => l.startsWith('Load key '));
    return load && load !== last ? `${load} / ${last}` : last;
}
/** ssh's own failure, when the run had one: exit 255 with a message from the client. */
function sshFailure(result) {
    if (result.code !== 255 || result.timedOut)
        return undefined;
    return sshReason(result.sshErrors ?? '') || undefined;
}
function namedByInput(line) {
    return line
        .replace(/"?\/\S*\/ops-ssh-[^/\s"]+\/id"?/g, '(ssh-key)')
        .replace(/"?\/\S*\/ops-ssh-[^/\s"]+\/known_hosts"?(:\d+)?/g, '(ssh-known-hosts)');
}
/**
 * ssh's reason as one sentence naming what could not be reached and what to
 * check, when the reason is that the host could not be reached at all
 * (OpenSSH sshconnect.c: "ssh: connect to host %s port %s: %s",
 * "ssh: Could not resolve hostname %s: %s"); `input` is the input that gave
 * the host. undefined for any other reason (login, host key), which ssh's own
 * words say well enough.
 */
function unreachable(reason, input) {
    const connect = /^ssh: connect to host (\S+) port (\d+): (.+)$/.exec(reason);
    if (connect) {
        const [, host, port, why] = connect;
        const what = why === 'Connection refused'
            ? `nothing listens there: check the host and port in ${input} and that sshd runs on it`
            : `check the host and port in ${input} and that a firewall lets the runner reach it`;
        return `ssh could not connect to ${host} port ${port} (${why}): ${what}`;
    }
    const resolve = /^ssh: Could not resolve hostname (\S+): (.+)$/.exec(reason);
    if (resolve)
        return `ssh could not find host ${resolve[1]} (${resolve[2]}): check the host name in ${input}`;
    return undefined;
}

// EXTERNAL MODULE: ./src/deploy/ssh/commands.ts
var commands = __webpack_require__(7394);
;// CONCATENATED MODULE: ./src/deploy/ssh/lock.ts




/**
 * The per-host deploy lock: `~/.ops-actions/locks/<service>.lock`, one line
 * naming its owner (token, repository, run, job, actor, time). It is taken
 * atomically by hard-linking a fully written file to the lock name (`ln`
 * fails when the name exists), so a lock is never seen half-written, and it is
 * only ever removed by the holder of its token: this run, or this run's post
 * step. There is no automatic breaking of other runs' locks (Kamal does not
 * either): a lock whose owner is gone is reported with its owner and age, and
 * removed by hand (`rm ~/.ops-actions/locks/<service>.lock`).
 *
 * One exception: a re-run adopts the lock an earlier attempt of the same
 * repository, run and job left (GitHub's "Re-run jobs" keeps GITHUB_RUN_ID and
 * GITHUB_JOB and bumps GITHUB_RUN_ATTEMPT; a run's attempts never overlap, so
 * that holder is gone). The attempt must be lower: matrix legs of one job share
 * run and job, run side by side, and must still wait for each other.
 */
const LOCK_DIR = '"$HOME/.ops-actions/locks"';
function ownerLine(owner) {
    return Object.entries(owner)
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `${k}=${String(v).replace(/\s+/g, '_')}`)
        .join(' ');
}
function parseOwnerLine(line) {
    const out = {};
    for (const part of line.trim().split(/\s+/)) {
        const eq = part.indexOf('=');
        if (eq > 0)
            out[part.slice(0, eq)] = part.slice(eq + 1);
    }
    return out;
}
function paths(service, token) {
    const lock = `${LOCK_DIR}/${(0,commands/* shellQuote */.q9)(`${service}.lock`)}`;
    const temp = `${LOCK_DIR}/${(0,commands/* shellQuote */.q9)(`.${service}.${token}`)}`;
    return { lock, temp };
}
/** One attempt: prints `ops-actions-lock acquired` or `ops-actions-lock held <owner line>`. */
function acquireCommand(service, owner) {
    const { lock, temp } = paths(service, owner.token);
    const mine = (0,commands/* shellQuote */.q9)(`token=${owner.token} `);
    return [
        `mkdir -p ${LOCK_DIR}`,
        `printf '%s \\n' ${(0,commands/* shellQuote */.q9)(ownerLine(owner))} > ${temp}`,
        `if ln ${temp} ${lock} 2>/dev/null || grep -qF ${mine} ${lock} 2>/dev/null; then rm -f ${temp}; echo 'ops-actions-lock acquired'; else rm -f ${temp}; printf 'ops-actions-lock held %s\\n' "$(cat ${lock} 2>/dev/null)"; fi`,
    ].join(' && ');
}
/**
 * Takes over the lock from an earlier attempt of this run: moves it aside (a rename: of two takers,
 * one wins), checks it still names `heldToken`, and links ours in its place; puts it back otherwise.
 * Prints `ops-actions-lock adopted`, or `ops-actions-lock held <owner line>` as acquireCommand does.
 */
function adoptCommand(service, owner, heldToken) {
    const { lock, temp } = paths(service, owner.token);
    const aside = `${LOCK_DIR}/${(0,commands/* shellQuote */.q9)(`.${service}.adopt.${owner.token}`)}`;
    const theirs = (0,commands/* shellQuote */.q9)(`token=${heldToken} `);
    const held = `printf 'ops-actions-lock held %s\\n' "$(cat ${lock} 2>/dev/null)"`;
    return [
        `mkdir -p ${LOCK_DIR}`,
        `printf '%s \\n' ${(0,commands/* shellQuote */.q9)(ownerLine(owner))} > ${temp}`,
        `if ! mv ${lock} ${aside} 2>/dev/null; then rm -f ${temp}; ${held};` +
            ` elif ! grep -qF ${theirs} ${aside}; then ln ${aside} ${lock} 2>/dev/null; rm -f ${aside} ${temp}; ${held};` +
            ` elif ln ${temp} ${lock} 2>/dev/null; then rm -f ${aside} ${temp}; echo 'ops-actions-lock adopted';` +
            ` else rm -f ${aside} ${temp}; ${held}; fi`,
    ].join(' && ');
}
/**
 * Whether a lock's owner line names an earlier attempt of the same repository, run and job as `me`.
 * Outside Actions (no repository, run or job) nothing is adopted.
 */
function isEarlierAttempt(holder, me) {
    const field = (v) => (v ? v.replace(/\s+/g, '_') : undefined);
    const [repository, run, job] = [field(me.repository), field(me.run), field(me.job)];
    if (!repository || !run || !job || !holder.token)
        return false;
    if (holder.repository !== repository || holder.run !== run || holder.job !== job)
        return false;
    const theirs = Number(holder.attempt ?? '1');
    const mine = Number(me.attempt ?? '1');
    return Number.isInteger(theirs) && Number.isInteger(mine) && theirs < mine;
}
/** Reads the lock without touching it: prints `ops-actions-lock held <owner line>` or `ops-actions-lock absent`. */
function inspectCommand(service) {
    const { lock } = paths(service, 'inspect');
    return `if [ -e ${lock} ]; then printf 'ops-actions-lock held %s\\n' "$(cat ${lock} 2>/dev/null)"; else echo 'ops-actions-lock absent'; fi`;
}
/** Removes the lock only when it holds `token`; prints `released`, `absent` or `other <owner line>`. */
function releaseCommand(service, token) {
    const { lock } = paths(service, token);
    const mine = (0,commands/* shellQuote */.q9)(`token=${token} `);
    return `if [ ! -e ${lock} ]; then echo 'ops-actions-lock absent'; elif grep -qF ${mine} ${lock}; then rm -f ${lock} && echo 'ops-actions-lock released'; else printf 'ops-actions-lock other %s\\n' "$(cat ${lock})"; fi`;
}
function parseAcquire(output) {
    for (const line of output.split('\n')) {
        if (line === 'ops-actions-lock acquired')
            return { kind: 'acquired' };
        if (line === 'ops-actions-lock adopted')
            return { kind: 'adopted' };
        if (line.startsWith('ops-actions-lock held')) {
            return { kind: 'held', owner: line.slice('ops-actions-lock held'.length).trim() };
        }
    }
    return { kind: 'unknown' };
}
function parseRelease(output) {
    for (const line of output.split('\n')) {
        if (line === 'ops-actions-lock released')
            return 'released';
        if (line === 'ops-actions-lock absent')
            return 'absent';
        if (line.startsWith('ops-actions-lock other'))
            return 'other';
    }
    return 'unknown';
}
/** How a held lock reads in a message: who holds it and since when. */
function describeOwner(line, now = Date.now()) {
    const owner = parseOwnerLine(line);
    if (!owner.token)
        return 'an unknown owner (the lock file is empty or unreadable)';
    const who = [
        owner.repository,
        owner.run ? `run ${owner.run}${owner.attempt ? `.${owner.attempt}` : ''}` : undefined,
        owner.job ? `job ${owner.job}` : undefined,
        owner.actor ? `by ${owner.actor}` : undefined,
    ].filter(Boolean);
    const since = owner.time ? Date.parse(owner.time) : Number.NaN;
    const age = Number.isNaN(since) ? '' : `, since ${owner.time} (${(0,summary/* formatMs */._V)(Math.max(0, now - since))} ago)`;
    return `${who.length > 0 ? who.join(' ') : `deploy ${owner.token}`}${age}`;
}
/**
 * Polls until the lock is ours or `timeoutMs` passed; returns the last holder on timeout. A lock an
 * earlier attempt of this run left is adopted at once (`adopted` names its owner line).
 */
async function acquireLock(remote, host, service, owner, options) {
    const started = Date.now();
    const deadline = started + options.timeoutMs;
    const run = (command) => remote.run(host, command, { timeoutMs: 30_000, ...(options.signal ? { signal: options.signal } : {}) });
    let lastOwner = '';
    for (;;) {
        let result = await run(acquireCommand(service, owner));
        let answer = parseAcquire(result.output);
        if (answer.kind === 'held' && isEarlierAttempt(parseOwnerLine(answer.owner), owner)) {
            const held = answer.owner;
            result = await run(adoptCommand(service, owner, parseOwnerLine(held).token));
            answer = parseAcquire(result.output);
            if (answer.kind === 'adopted')
                return { acquired: true, waitedMs: Date.now() - started, adopted: held };
        }
        if (answer.kind === 'acquired' || answer.kind === 'adopted')
            return { acquired: true, waitedMs: Date.now() - started };
        if (answer.kind === 'unknown') {
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `could not take the lock${failureOf(result)}`);
        }
        if (answer.owner !== lastOwner) {
            lastOwner = answer.owner;
            options.onWait?.(answer.owner);
        }
        const left = deadline - Date.now();
        if (left <= 0)
            return { acquired: false, owner: lastOwner, waitedMs: Date.now() - started };
        await sleep(Math.min(options.pollMs ?? 1000, left), options.signal);
    }
}
/**
 * `: ssh could not connect …` when ssh itself failed: one sentence naming host, port and what to
 * check when the host could not be reached (as action-evidence words it), else ssh's own reason;
 * otherwise the exit code and the last lines.
 */
function failureOf(result) {
    const reason = sshFailure(result);
    if (!reason)
        return (0,message/* msg */.ab) ` (exit ${(0,message/* own */.ZV)(result.code)}): ${lastLines(result.shown)}`;
    return (0,message/* msg */.ab) `: ${unreachable(reason, 'hosts, hosts-file or the droplets tagged digitalocean-tag') ?? (0,message/* msg */.ab) `ssh could not connect: ${reason}`}`;
}
function lastLines(output, count = 5) {
    const lines = output.trim().split('\n').filter(Boolean);
    return lines.slice(-count).join(' | ') || '(no output)';
}
function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal?.aborted)
            return reject(signal.reason);
        const timer = setTimeout(done, ms);
        function done() {
            signal?.removeEventListener('abort', abort);
            resolve();
        }
        function abort() {
            clearTimeout(timer);
            reject(signal?.reason);
        }
        signal?.addEventListener('abort', abort, { once: true });
    });
}


/***/ }),

/***/ 7594:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  vM: () => (/* binding */ SshSession)
});

// UNUSED EXPORTS: EXIT_MARKER_GRACE_MS, collect

// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(1421);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: external "node:string_decoder"
var external_node_string_decoder_ = __webpack_require__(6193);
;// CONCATENATED MODULE: ./src/core/bounded-output.ts

/**
 * Output beyond this is dropped at a line boundary, so one runaway command
 * cannot exhaust memory: the text kept is copied about three times on its way
 * to the evidence file (decoded, joined, redacted), and every check runs at
 * once. An evidence file shows `max-lines` of it anyway.
 */
const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;
/**
 * A command's output or an HTTP body, decoded as it arrives (a character split
 * across chunks arrives whole) and kept up to `maxBytes` (16 MiB by default);
 * later bytes are only counted. `text()` cuts at the last complete line, so no
 * partial secret is kept without its context, and ends with a note of how
 * much was cut. Memory stays near `maxBytes` whatever the source sends.
 */
class BoundedOutput {
    decoder = new external_node_string_decoder_.StringDecoder('utf8');
    parts = [];
    maxBytes;
    bytes = 0;
    dropped = 0;
    stopped = false;
    constructor(maxBytes = MAX_CAPTURE_BYTES) {
        this.maxBytes = maxBytes;
    }
    /** True once `maxBytes` are kept: what comes next is only counted. */
    get full() {
        return this.bytes >= this.maxBytes;
    }
    add(chunk) {
        if (this.full) {
            this.dropped += chunk.byteLength;
            return;
        }
        this.parts.push(this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
        this.bytes += chunk.byteLength;
    }
    /** The source was left unread once full (an HTTP body): the note says so instead of counting. */
    stop() {
        this.stopped = true;
    }
    /** Whether anything was left out: bytes past `maxBytes` (exactly `maxBytes` is all of it). */
    get over() {
        return this.stopped || this.dropped > 0 || this.bytes > this.maxBytes;
    }
    text() {
        this.parts.push(this.decoder.end());
        const all = this.parts.join('');
        this.parts.length = 0;
        this.parts.push(all);
        if (!this.over)
            return all;
        const nl = all.lastIndexOf('\n');
        const tail = Buffer.byteLength(all.slice(nl + 1));
        const kept = all.slice(0, nl + 1);
        if (this.stopped)
            return `${kept}[output over ${this.maxBytes} bytes: the rest was not read (${tail} bytes of it were after the last complete line)]\n`;
        return `${kept}[output over ${this.maxBytes} bytes: the last ${this.dropped + tail} bytes were not kept]\n`;
    }
}

// EXTERNAL MODULE: ./src/core/line-stream.ts
var line_stream = __webpack_require__(3082);
;// CONCATENATED MODULE: ./src/providers/ssh/exit-marker.ts
/**
 * Takes the line `<marker> <code>\n` a remote wrapper prints when the shell it
 * ran exits out of the byte stream, so what passes on is exactly what the
 * command wrote. The marker holds a random per-run nonce, so the command
 * cannot print it by chance or on purpose. The line may arrive split across
 * chunks: the last bytes that could start it are held back until the next
 * chunk or `end()`. Bytes after it (a daemon still writing) pass on as usual.
 */
class ExitMarkerFilter {
    marker;
    /** Longest possible marker line: marker, space, a code of up to 3 digits, newline. */
    longest;
    held = Buffer.alloc(0);
    /** The shell's exit code, once the marker line has passed. */
    code;
    constructor(marker) {
        this.marker = Buffer.from(`${marker} `, 'latin1');
        this.longest = this.marker.length + 4;
    }
    /** The bytes of `chunk` (with any held back before it) that are surely not the marker line. */
    write(chunk) {
        if (this.code !== undefined)
            return chunk;
        const seen = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
        const at = seen.indexOf(this.marker);
        if (at >= 0) {
            const end = seen.indexOf(0x0a, at + this.marker.length);
            if (end < 0 && seen.length - at < this.longest) {
                this.held = Buffer.from(seen.subarray(at));
                return seen.subarray(0, at);
            }
            const digits = end < 0 ? '' : seen.subarray(at + this.marker.length, end).toString('latin1');
            if (/^\d{1,3}$/.test(digits)) {
                this.code = Number(digits);
                this.held = Buffer.alloc(0);
                return Buffer.concat([seen.subarray(0, at), seen.subarray(end + 1)]);
            }
        }
        const cut = seen.length - this.markerStartAtEnd(seen);
        this.held = Buffer.from(seen.subarray(cut));
        return seen.subarray(0, cut);
    }
    /** How many of the last bytes of `seen` are the first bytes of the marker (so may become it). */
    markerStartAtEnd(seen) {
        for (let n = Math.min(seen.length, this.marker.length - 1); n > 0; n--)
            if (seen.subarray(seen.length - n).equals(this.marker.subarray(0, n)))
                return n;
        return 0;
    }
    /** Whatever was held back: the stream ended without (the rest of) a marker line. */
    end() {
        const rest = this.held;
        this.held = Buffer.alloc(0);
        return rest;
    }
}

;// CONCATENATED MODULE: ./src/providers/ssh/session.ts






/** How long the stream may stay open after the exit marker (as local checks' STREAM_GRACE_MS). */
const EXIT_MARKER_GRACE_MS = 1000;
class SshSession {
    dir;
    keyFile;
    knownHostsFile;
    strict;
    redactor;
    constructor(dir, keyFile, knownHostsFile, strict, redactor) {
        this.dir = dir;
        this.keyFile = keyFile;
        this.knownHostsFile = knownHostsFile;
        this.strict = strict;
        this.redactor = redactor;
    }
    /** With a `redactor`, the lines handed to `onLine` and `RemoteRun.shown` are redacted as they stream. */
    static async open(credentials, tempRoot, options = {}) {
        const dir = await (0,promises_.mkdtemp)((0,external_node_path_.join)(tempRoot, 'ops-ssh-'));
        let keyFile;
        if (credentials.key) {
            keyFile = (0,external_node_path_.join)(dir, 'id');
            const text = credentials.key.endsWith('\n') ? credentials.key : `${credentials.key}\n`;
            await (0,promises_.writeFile)(keyFile, text, { mode: 0o600 });
        }
        const knownHostsFile = (0,external_node_path_.join)(dir, 'known_hosts');
        await (0,promises_.writeFile)(knownHostsFile, `${credentials.knownHosts.trim()}\n`, { mode: 0o600 });
        return new SshSession(dir, keyFile, knownHostsFile, credentials.trustOnFirstUse ? 'accept-new' : 'yes', options.redactor);
    }
    /** The `ssh` arguments up to and including the destination. */
    args(host) {
        const args = [
            '-T',
            '-o',
            'BatchMode=yes',
            '-o',
            `StrictHostKeyChecking=${this.strict}`,
            '-o',
            `UserKnownHostsFile=${this.knownHostsFile}`,
            '-o',
            'GlobalKnownHostsFile=/dev/null',
            '-o',
            'ConnectTimeout=15',
            '-o',
            'ServerAliveInterval=15',
            '-o',
            'ServerAliveCountMax=3',
            '-o',
            'LogLevel=ERROR',
            '-p',
            String(host.port),
        ];
        if (this.keyFile)
            args.push('-o', 'IdentitiesOnly=yes', '-i', this.keyFile);
        args.push(host.user ? `${host.user}@${host.host}` : host.host);
        return args;
    }
    /** Runs one shell command on the host; stderr is folded into stdout there, so the order is the remote's. */
    run(host, command, options = {}) {
        const piped = options.input !== undefined || options.holdStdin === true;
        const child = (0,external_node_child_process_.spawn)('ssh', [...this.args(host), `exec 2>&1; ${command}`], {
            stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        });
        // A remote command that exits without reading its stdin must not crash us with EPIPE.
        child.stdin?.on('error', () => { });
        if (options.input !== undefined)
            child.stdin?.end(options.input);
        child.on('close', () => child.stdin?.destroy());
        return collect(child, { redactor: this.redactor, ...options });
    }
    async close() {
        await (0,promises_.rm)(this.dir, { recursive: true, force: true });
    }
}
/** ssh's own messages kept for the error line: its last lines are its reason. */
const SSH_STDERR_BYTES = 16 * 1024;
/**
 * Reads a child's output until it exits, killing it at the timeout or on
 * abort. The output is kept up to `MAX_CAPTURE_BYTES` with a note of what was
 * cut (`BoundedOutput`); only the kept bytes become lines (for `onLine` and
 * `shown`, redacted across chunk boundaries when a redactor is given). The
 * child's own stderr (ssh's messages: the remote command's stderr is folded
 * into its stdout) is also kept apart, bounded, in `sshErrors`.
 */
function collect(child, options) {
    return new Promise((resolve, reject) => {
        const output = new BoundedOutput();
        const sshErrors = new BoundedOutput(SSH_STDERR_BYTES);
        const shown = [];
        // One stream per pipe, so a character split across chunks of one pipe is decoded whole.
        const toLines = () => new line_stream/* LineStream */.v((line) => {
            shown.push(line);
            options.onLine?.(line);
        }, { redactor: options.redactor });
        // Without a redactor or a listener, lines are only made if `shown` is read: a check's output is not held twice.
        const streaming = options.redactor !== undefined || options.onLine !== undefined;
        const stdoutLines = streaming ? toLines() : undefined;
        const stderrLines = streaming ? toLines() : undefined;
        let timedOut = false;
        let graceTimer;
        const marker = options.exitMarker === undefined ? undefined : new ExitMarkerFilter(options.exitMarker);
        const fromStdout = (bytes) => {
            if (bytes.length === 0)
                return;
            if (!output.full)
                stdoutLines?.write(bytes);
            output.add(bytes);
        };
        child.stdout?.on('data', (chunk) => {
            if (!marker)
                return fromStdout(chunk);
            const marked = marker.code !== undefined;
            fromStdout(marker.write(chunk));
            if (!marked && marker.code !== undefined)
                graceTimer = setTimeout(() => child.kill('SIGKILL'), EXIT_MARKER_GRACE_MS);
        });
        child.stderr?.on('data', (chunk) => {
            if (!output.full)
                stderrLines?.write(chunk);
            output.add(chunk);
            sshErrors.add(chunk);
        });
        const kill = () => child.kill('SIGKILL');
        const timer = options.timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                timedOut = marker?.code === undefined;
                kill();
            }, options.timeoutMs);
        options.signal?.addEventListener('abort', kill, { once: true });
        child.on('error', reject);
        child.on('close', (code) => {
            if (timer)
                clearTimeout(timer);
            if (graceTimer)
                clearTimeout(graceTimer);
            options.signal?.removeEventListener('abort', kill);
            if (marker)
                fromStdout(marker.end());
            stdoutLines?.end();
            stderrLines?.end();
            const text = output.text();
            if (output.full && streaming)
                shown.push(text.slice(text.lastIndexOf('[output over')).trimEnd());
            resolve({
                code: marker?.code ?? code ?? 255,
                output: text,
                get shown() {
                    return streaming ? shown.join('\n') : asLines(text);
                },
                sshErrors: sshErrors.text(),
                timedOut,
            });
        });
    });
}
/** Output as `LineStream` would have shown it: no `\r` before a newline, no final newline. */
function asLines(text) {
    return text.replace(/\r\n/g, '\n').replace(/\r?\n$/, '');
}


/***/ })

};
