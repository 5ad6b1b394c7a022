export const id = 104;
export const ids = [104];
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

/***/ 9104:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  createSshTarget: () => (/* binding */ createSshTarget)
});

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: ./src/providers/ssh/session.ts + 2 modules
var session = __webpack_require__(7594);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
// EXTERNAL MODULE: ./src/deploy/ssh/commands.ts
var commands = __webpack_require__(7394);
// EXTERNAL MODULE: ./src/deploy/ssh/lock.ts + 1 modules
var ssh_lock = __webpack_require__(6958);
;// CONCATENATED MODULE: ./src/deploy/ssh/containers.ts



/** The service's containers on one host (`docker ps -a`, read-only). */
async function listOn(remote, host, service) {
    const result = await remote.run(host.login, commands/* listContainers */.ts(service), { timeoutMs: 60_000 });
    if (result.code !== 0)
        throw new message/* ComposedError */.vf((0,message/* msg */.ab) `docker ps${(0,ssh_lock/* failureOf */.g5)(result)}`);
    return commands/* parseContainers */.eQ(result.output);
}

// EXTERNAL MODULE: ./src/deploy/ssh/discover-hosts.ts + 4 modules
var discover_hosts = __webpack_require__(9775);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/fanout.ts
var fanout = __webpack_require__(9880);
// EXTERNAL MODULE: ./src/core/http.ts
var http = __webpack_require__(1983);
// EXTERNAL MODULE: ./src/core/progress.ts
var progress = __webpack_require__(4664);
// EXTERNAL MODULE: ./src/core/summary.ts
var summary = __webpack_require__(1363);
// EXTERNAL MODULE: ./src/providers/registry/reference.ts
var reference = __webpack_require__(9749);
// EXTERNAL MODULE: ./src/deploy/registry-credentials.ts
var registry_credentials = __webpack_require__(6971);
;// CONCATENATED MODULE: ./src/deploy/ssh/health.ts





/**
 * Runs `health-cmd` on the host until it exits 0, or the container stops, or
 * `timeoutMs` passes; then shows the container's last log lines and throws a
 * `StepError('ssh.health')` naming the host and the last attempt's output.
 */
async function waitHealthy(w) {
    const deadline = Date.now() + w.timeoutMs;
    let lastNote = '';
    for (let attempt = 1;; attempt++) {
        const left = deadline - Date.now();
        const result = await w.remote.run(w.host.login, commands/* healthAttempt */.ys(w.name, w.healthCmd), {
            timeoutMs: Math.max(1000, Math.min(left, 60_000)),
            ...(w.signal ? { signal: w.signal } : {}),
        });
        if (result.code === 0) {
            w.line(w.healthCmd ? `healthy after ${attempt} attempt(s)` : `${w.name} is running (no health-cmd)`);
            return w.healthCmd ? 'passing' : 'skipped';
        }
        const note = `exit ${result.timedOut ? 'timeout' : result.code}: ${(0,ssh_lock/* lastLines */.w$)(result.shown, 1)}`;
        if (note !== lastNote) {
            lastNote = note;
            w.line(`health attempt ${attempt}: ${note}`);
        }
        const gone = result.code === commands/* CONTAINER_GONE */.uP;
        if (gone || Date.now() + w.intervalMs > deadline) {
            await showLogs(w);
            throw new errors/* StepError */.zg('ssh.health', (0,message/* msg */.ab) `get a healthy ${w.name} on ${w.host.where}`, gone
                ? `${w.name} stopped: ${(0,ssh_lock/* lastLines */.w$)(result.shown, 1)}`
                : `${w.name} not healthy within ${(0,summary/* formatMs */._V)(w.timeoutMs)} (${attempt} attempts; last ${note})`);
        }
        await new Promise((r) => setTimeout(r, w.intervalMs));
    }
}
async function showLogs(w) {
    w.line(`last log lines of ${w.name}:`);
    await w.remote
        .run(w.host.login, commands/* tailLogs */.UR(w.name), { onLine: (l) => w.line(`  ${l}`), timeoutMs: 30_000 })
        .catch(() => undefined);
}

// EXTERNAL MODULE: ./src/core/inputs.ts
var inputs = __webpack_require__(9114);
;// CONCATENATED MODULE: ./src/deploy/ssh/release.ts



/**
 * Releasing locks, shared by the main step (on every path) and the post step
 * (for a run that was killed or cancelled before it could): a lock is removed
 * only when it still holds our token, so releasing twice, or after someone
 * else took the lock, is harmless.
 */
function parseHeldLocks(state) {
    if (state.trim() === '')
        return [];
    try {
        const value = JSON.parse(state);
        if (!Array.isArray(value))
            return [];
        return value.filter((l) => typeof l === 'object' &&
            l !== null &&
            typeof l.host === 'string' &&
            typeof l.service === 'string' &&
            typeof l.token === 'string' &&
            (l.taken === undefined || typeof l.taken === 'boolean'));
    }
    catch {
        return [];
    }
}
async function releaseLock(ctx, remote, lock) {
    try {
        const host = (0,inputs/* parseSshHost */.wh)('locks', lock.host);
        const result = await remote.run(host, (0,ssh_lock/* releaseCommand */.Pw)(lock.service, lock.token), { timeoutMs: 30_000 });
        const answer = (0,ssh_lock/* parseRelease */.BC)(result.output);
        if (answer === 'released') {
            ctx.info((0,message/* msg */.ab) `Released the ${lock.service} deploy lock on ${lock.host}.`);
            return 'released';
        }
        if (answer === 'absent') {
            ctx.info(lock.taken === false
                ? `The ${lock.service} deploy lock on ${lock.host} was never taken.`
                : `The ${lock.service} deploy lock on ${lock.host} was already released.`);
            return 'absent';
        }
        if (answer === 'other') {
            const owner = result.output.split('ops-actions-lock other')[1]?.split('\n')[0] ?? '';
            ctx.info((0,message/* msg */.ab) `The ${lock.service} deploy lock on ${lock.host} now belongs to ${(0,ssh_lock/* describeOwner */.$S)(owner)}; left alone.`);
            return 'other';
        }
        return cannotRelease(ctx, lock, (0,ssh_lock/* failureOf */.g5)(result));
    }
    catch (error) {
        return cannotRelease(ctx, lock, (0,message/* msg */.ab) `: ${error}`);
    }
}
/**
 * A lock this run took and cannot release stays on the host until someone removes it: a warning
 * that says how. One it never got an answer for (the host could not be reached to take it) most
 * likely does not exist: said as such, with no advice to remove anything.
 */
function cannotRelease(ctx, lock, why) {
    if (lock.taken === false) {
        ctx.info((0,message/* msg */.ab) `Could not check the ${lock.service} deploy lock on ${lock.host}${why}. This run never got an answer that it took it, so there is most likely none to release.`);
        return 'failed';
    }
    ctx.warning((0,message/* msg */.ab) `Could not release the ${lock.service} deploy lock on ${lock.host}${why}. Remove ~/.ops-actions/locks/${lock.service}.lock there by hand if it remains.`);
    return 'failed';
}

;// CONCATENATED MODULE: ./src/deploy/ssh/lock-set.ts





/** State name under which the main step records its locks for the post step. */
const LOCKS_STATE = 'locks';
/**
 * The deploy locks of one rollout, one per host. Each lock is recorded in the
 * step's state before it is taken, so the post step can release what a killed
 * run held; `releaseAll` runs on every path of the main step.
 */
class LockSet {
    held = [];
    ctx;
    remote;
    options;
    constructor(ctx, remote, options) {
        this.ctx = ctx;
        this.remote = remote;
        this.options = options;
    }
    /** Takes the lock on one host, waiting up to `lockTimeoutMs` for another deploy's lock. */
    async take(host) {
        const { service, token } = this.options;
        const lock = { host: host.where, service, token, taken: false };
        // Recorded before the lock exists, so a run killed right after taking it is still cleaned up.
        this.held.push(lock);
        this.save();
        const result = await this.ctx.log.step('ssh.lock', { host: host.id }, async () => {
            const r = await (0,ssh_lock/* acquireLock */.IZ)(this.remote, host.login, service, this.owner(), {
                timeoutMs: this.options.lockTimeoutMs,
                ...(this.options.pollMs ? { pollMs: this.options.pollMs } : {}),
                ...(this.options.signal ? { signal: this.options.signal } : {}),
                onWait: (owner) => this.options.line(host, `waiting for the ${service} deploy lock, held by ${(0,ssh_lock/* describeOwner */.$S)(owner)}`),
            });
            if (!r.acquired) {
                // Never ours: nothing for this run or its post step to release.
                this.held.splice(this.held.indexOf(lock), 1);
                this.save();
                throw new message/* ComposedError */.vf((0,message/* msg */.ab) `the ${service} deploy lock is still held by ${(0,ssh_lock/* describeOwner */.$S)(r.owner)} after ${(0,summary/* formatMs */._V)(r.waitedMs)} (lock-timeout); if that run is gone, release it with operation: release-lock (or remove ~/.ops-actions/locks/${service}.lock on the host)`);
            }
            return r;
        });
        lock.taken = true;
        this.save();
        this.options.line(host, result.adopted
            ? `adopted the ${service} deploy lock that an earlier attempt of this run left (${(0,ssh_lock/* describeOwner */.$S)(result.adopted)})`
            : `took the ${service} deploy lock${result.waitedMs >= 1000 ? ` after waiting ${(0,summary/* formatMs */._V)(result.waitedMs)}` : ''}`);
    }
    /** Releases every lock still held; one that cannot be released stays recorded for the post step. */
    async releaseAll() {
        await (0,fanout/* mapConcurrent */._)([...this.held], async (lock) => {
            const result = await this.ctx.log.step('ssh.unlock', { host: lock.host }, () => releaseLock(this.ctx, this.remote, lock));
            if (result !== 'failed')
                this.held.splice(this.held.indexOf(lock), 1);
        }, { concurrency: this.options.concurrency });
        this.save();
    }
    owner() {
        const env = this.ctx.env;
        return {
            token: this.options.token,
            repository: env.GITHUB_REPOSITORY,
            run: env.GITHUB_RUN_ID,
            attempt: env.GITHUB_RUN_ATTEMPT,
            job: env.GITHUB_JOB,
            actor: env.GITHUB_ACTOR,
            time: new Date().toISOString(),
        };
    }
    save() {
        this.ctx.saveState(LOCKS_STATE, JSON.stringify(this.held));
    }
}

;// CONCATENATED MODULE: ./src/deploy/ssh/plan.ts


function planHost(input, containers) {
    const name = (0,commands/* containerName */.xN)(input.service, input.deployTag);
    const existing = containers.find((c) => c.name === name || c.deployTag === input.deployTag);
    const target = existing?.name ?? name;
    const running = containers.filter((c) => isRunning(c) && c.name !== target);
    const previousImage = running[0]?.image ?? (existing && isRunning(existing) ? existing.image : undefined);
    if (existing && isRunning(existing) && running.length === 0) {
        return { target, reuse: true, previous: [], previousImage, unchanged: true, steps: [] };
    }
    if (input.proxy) {
        return { ...proxiedPlan(input, input.proxy, existing, running, target), previousImage };
    }
    const steps = [];
    if (!existing) {
        if (!input.image) {
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `no kept container of ${input.deployTag} on this host and no image to pull it from`);
        }
        steps.push({ kind: 'pull', image: input.image }, { kind: 'create', name: target, image: input.image });
    }
    for (const c of running)
        steps.push({ kind: 'stop', name: c.name });
    steps.push({ kind: 'start', name: target }, { kind: 'health', name: target, cmd: input.healthCmd });
    return { target, reuse: existing !== undefined, previous: running, previousImage, unchanged: false, steps };
}
function proxiedPlan(input, proxy, existing, running, target) {
    if (existing && existing.port === undefined) {
        throw new message/* ComposedError */.vf((0,message/* msg */.ab) `kept container ${existing.name} was not created behind the proxy (no own port); deploy it again`);
    }
    const steps = [];
    if (!existing) {
        if (!input.image) {
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `no kept container of ${input.deployTag} on this host and no image to pull it from`);
        }
        steps.push({ kind: 'pull', image: input.image }, { kind: 'port', publish: proxy.publish }, { kind: 'create', name: target, image: input.image });
    }
    steps.push({ kind: 'start', name: target }, { kind: 'health', name: target, cmd: input.healthCmd, path: proxy.healthPath }, { kind: 'switch', service: input.service, name: target, port: existing?.port, from: running[0]?.port });
    if (running.length > 0)
        steps.push({ kind: 'drain', ms: proxy.drainMs });
    for (const c of running)
        steps.push({ kind: 'stop', name: c.name });
    return { target, reuse: existing !== undefined, previous: running, unchanged: false, steps };
}
function isRunning(c) {
    return c.state === 'running' || c.state === 'restarting';
}
/**
 * Containers to remove once the whole rollout is healthy: all but `keep`,
 * counting the one now running and then the newest others.
 */
function planPrune(containers, running, keep) {
    const others = containers.filter((c) => c.name !== running);
    return others.slice(Math.max(0, keep - 1));
}
/** One step as a plan line: our words, the names and images as values (core/message.ts). */
function describeStep(step) {
    switch (step.kind) {
        case 'pull':
            return (0,message/* msg */.ab) `docker pull ${step.image}`;
        case 'create':
            return (0,message/* msg */.ab) `docker create ${step.name} from ${step.image}`;
        case 'stop':
            return (0,message/* msg */.ab) `docker stop ${step.name}`;
        case 'start':
            return (0,message/* msg */.ab) `docker start ${step.name}`;
        case 'port':
            return step.publish
                ? (0,message/* msg */.ab) `choose a free host port for the new container (published as -p 127.0.0.1:<port>:${step.publish})`
                : (0,message/* msg */.ab) `choose a free host port for the new container (given to it as PORT)`;
        case 'switch':
            return (0,message/* msg */.ab) `nginx upstream ${(0,commands/* upstreamName */.dP)(step.service)} in ${(0,commands/* upstreamFile */.AK)(step.service)}: server ${step.from ? (0,message/* msg */.ab) `127.0.0.1:${step.from}` : (0,message/* own */.ZV)('(none yet)')} -> ${step.port ? (0,message/* msg */.ab) `127.0.0.1:${step.port}` : (0,message/* own */.ZV)('the new port')} (${step.name}); nginx -t, then nginx -s reload`;
        case 'drain':
            return (0,message/* msg */.ab) `wait ${(0,message/* own */.ZV)(step.ms / 1000)}s for the old container to drain`;
        case 'health':
            if (step.path)
                return (0,message/* msg */.ab) `GET ${step.path} on ${step.name}'s own port until it passes${step.cmd ? (0,message/* msg */.ab) `, and health-cmd: ${step.cmd}` : ''}`;
            return step.cmd
                ? (0,message/* msg */.ab) `run health-cmd until it passes: ${step.cmd}`
                : (0,message/* msg */.ab) `check that ${step.name} is running (no health-cmd)`;
    }
}
function describeHostPlan(where, plan, prune) {
    if (plan.unchanged)
        return [(0,message/* msg */.ab) `${where}: ${plan.target} already runs this version; nothing to do`];
    const lines = plan.steps.map((s) => (0,message/* msg */.ab) `${where}: ${describeStep(s)}`);
    if (plan.reuse)
        lines.unshift((0,message/* msg */.ab) `${where}: start the kept container ${plan.target} (no pull)`);
    for (const c of prune)
        lines.push((0,message/* msg */.ab) `${where}: docker rm ${c.name} (beyond keep)`);
    return lines;
}

// EXTERNAL MODULE: ./src/deploy/ssh/publish.ts
var publish = __webpack_require__(7713);
;// CONCATENATED MODULE: ./src/deploy/ssh/rollout.ts















/**
 * One deploy or rollback of a service across its hosts; see createSshTarget for the order of events.
 */
/** What each remote command of a rollout does, as its error says it ("Could not pull the image on …"). */
const DOING = {
    pull: 'pull the image',
    create: 'create the new container',
    stop: 'stop the old container',
    start: 'start the new container',
    port: 'pick a free host port',
    switch: 'switch the nginx upstream',
    restore: 'put the previous container back',
    prune: 'remove old containers and unused images',
};
class Rollout {
    t0 = performance.now();
    locks;
    progress;
    planLines = [];
    registry;
    settings;
    ctx;
    remote;
    hosts;
    request;
    options;
    constructor(settings, ctx, remote, hosts, request, options) {
        this.settings = settings;
        this.ctx = ctx;
        this.remote = remote;
        this.hosts = hosts;
        this.request = request;
        this.options = options;
        this.progress = new progress/* Progress */.k(hosts.length, request.log);
        this.locks = new LockSet(ctx, remote, {
            service: settings.service,
            token: request.deployId,
            lockTimeoutMs: settings.lockTimeoutMs,
            pollMs: options.lockPollMs,
            concurrency: this.concurrency(),
            signal: request.signal,
            line: (host, text) => this.line(host, text),
        });
        this.registry = (0,registry_credentials/* registrySources */.Mx)(ctx.inputs, ctx.env);
    }
    /** The `docker login` for the registry `image` lives in, with the credentials that registry may get. */
    loginFor(image) {
        const registry = (0,reference/* parseImageReference */.o_)(image)?.registry;
        const chosen = registry ? (0,registry_credentials/* credentialsFor */.Og)(registry, this.registry) : undefined;
        if (!chosen)
            return undefined;
        return {
            login: {
                username: chosen.credentials.username,
                server: registry === 'docker.io' ? undefined : registry,
            },
            password: chosen.credentials.password,
        };
    }
    now() {
        return Math.round(performance.now() - this.t0);
    }
    line(host, text) {
        this.request.log((0,message/* msg */.ab) `[${host.id}] ${text}`);
    }
    async run() {
        const states = this.hosts.map((host, i) => ({
            host,
            batch: i === 0 ? 1 : 2,
            created: false,
            started: false,
            stopped: [],
            unit: {
                id: host.id,
                where: host.where,
                outcome: 'skipped',
                batch: i === 0 ? 1 : 2,
                startedMs: 0,
                endedMs: 0,
            },
        }));
        if (this.request.dryRun)
            return this.dryRun(states);
        try {
            const locked = await this.lockAll(states);
            if (locked)
                return locked;
            const observed = await this.observeAll(states);
            if (observed)
                return observed;
            return await this.rollOut(states);
        }
        finally {
            await this.locks.releaseAll();
        }
    }
    async dryRun(states) {
        await (0,fanout/* mapConcurrent */._)(states, async (s) => {
            s.unit.startedMs = this.now();
            try {
                const containers = await listOn(this.remote, s.host, this.settings.service);
                s.plan = this.planFor(containers);
                const after = s.plan.reuse ? containers : [this.placeholder(s.plan.target), ...containers];
                const prune = planPrune(after, s.plan.target, this.settings.keep);
                this.planLines.push(...describeHostPlan(s.host.where, s.plan, prune));
                s.unit.outcome = 'planned';
                if (s.plan.previousImage)
                    s.unit.previousImage = s.plan.previousImage;
                if (this.request.image)
                    s.unit.newImage = this.request.image;
            }
            catch (error) {
                s.unit.outcome = 'failed';
                s.unit.error = (0,message/* composedOf */.s5)(error);
                this.planLines.push((0,message/* msg */.ab) `${s.host.where}: cannot plan: ${error}`);
            }
            s.unit.endedMs = this.now();
            this.progressDone(s);
        }, { concurrency: this.concurrency() });
        const failed = states.filter((s) => s.unit.outcome === 'failed');
        return this.outcome(states, failed.length > 0 ? 'failed' : 'success', (0,message/* joinMessages */.hw)(failed.flatMap((s) => s.unit.error ?? []), '; '));
    }
    placeholder(name) {
        return { id: '', name, deployTag: '', image: '', state: 'created', createdAt: '9999' };
    }
    planFor(containers) {
        const reach = this.settings.proxy === 'nginx' ? this.reach() : undefined;
        return planHost({
            service: this.settings.service,
            deployTag: this.request.deployTag,
            image: this.request.image,
            healthCmd: this.settings.healthCmd,
            proxy: this.settings.proxy === 'nginx'
                ? {
                    healthPath: this.settings.healthPath,
                    drainMs: this.settings.drainTimeoutMs,
                    publish: reach?.kind === 'publish' ? reach.containerPort : undefined,
                }
                : undefined,
        }, containers);
    }
    /** How nginx reaches this service's containers; `run-args` was checked at input time. */
    reach() {
        const reach = (0,publish/* reachOf */.xw)(this.settings.runArgs);
        if ('error' in reach)
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `run-args ${reach.error}`);
        return reach;
    }
    concurrency() {
        return this.options.concurrency ?? 10;
    }
    // ---- locks ---------------------------------------------------------------
    /** One host at a time, in a fixed order; returns a failed outcome when a lock cannot be had. */
    async lockAll(states) {
        const ordered = [...states].sort((a, b) => (a.host.where < b.host.where ? -1 : 1));
        for (const s of ordered) {
            try {
                await this.locks.take(s.host);
            }
            catch (error) {
                s.unit.outcome = 'failed';
                s.unit.error = new errors/* StepError */.zg('ssh.lock', (0,message/* msg */.ab) `take the deploy lock on ${s.host.where}`, error).composed;
                s.unit.startedMs = s.unit.endedMs = this.now();
                this.progressDone(s);
                return this.outcome(states, 'failed', s.unit.error);
            }
        }
        return undefined;
    }
    // ---- observe and roll out ----------------------------------------------
    async observeAll(states) {
        await (0,fanout/* mapConcurrent */._)(states, async (s) => {
            try {
                const containers = await this.ctx.log.step('ssh.observe', { host: s.host.id }, () => listOn(this.remote, s.host, this.settings.service));
                s.plan = this.planFor(containers);
                this.planLines.push(...describeHostPlan(s.host.where, s.plan, []));
            }
            catch (error) {
                s.unit.outcome = 'failed';
                s.unit.error = new errors/* StepError */.zg('ssh.observe', (0,message/* msg */.ab) `list the containers of ${this.settings.service} on ${s.host.where}`, error).composed;
            }
        }, { concurrency: this.concurrency() });
        const failed = states.filter((s) => s.unit.outcome === 'failed');
        if (failed.length === 0)
            return undefined;
        for (const s of failed)
            this.progressDone(s);
        return this.outcome(states, 'failed', (0,message/* joinMessages */.hw)(failed.flatMap((s) => s.unit.error ?? []), '; '));
    }
    async rollOut(states) {
        const batches = [states.filter((s) => s.batch === 1), states.filter((s) => s.batch === 2)];
        let failure;
        for (const batch of batches) {
            if (batch.length === 0)
                continue;
            await (0,fanout/* mapConcurrent */._)(batch, (s) => this.deployHost(s), {
                concurrency: this.concurrency(),
                ...(this.request.signal ? { signal: this.request.signal } : {}),
            }).catch((error) => {
                failure ??= (0,message/* composedOf */.s5)(error);
            });
            const failed = batch.filter((s) => s.unit.outcome === 'failed');
            if (failed.length > 0) {
                failure = (0,message/* joinMessages */.hw)(failed.flatMap((s) => s.unit.error ?? []), '; ');
                break;
            }
            if (failure)
                break;
        }
        if (!failure) {
            await this.pruneAll(states);
            return this.outcome(states, 'success');
        }
        for (const s of states) {
            if (s.unit.outcome === 'skipped')
                this.progressDone(s);
        }
        if (!this.request.autoRollback)
            return this.outcome(states, 'failed', failure);
        const changed = states.filter((s) => s.created || s.started || s.stopped.length > 0);
        let restored = true;
        await (0,fanout/* mapConcurrent */._)(changed, async (s) => {
            try {
                await this.ctx.log.step('ssh.restore', { host: s.host.id }, () => this.restore(s));
                s.unit.outcome = 'rolled-back';
                if (s.plan?.previousImage)
                    s.unit.newImage = s.plan.previousImage;
                this.line(s.host, `rolled back: ${s.plan?.previous.map((c) => c.name).join(', ') || 'nothing ran before'}`);
            }
            catch (error) {
                restored = false;
                s.unit.outcome = 'failed';
                const restoring = new errors/* StepError */.zg('ssh.restore', (0,message/* msg */.ab) `${(0,message/* own */.ZV)(DOING.restore)} on ${s.host.where}`, error);
                s.unit.error = s.unit.error ? (0,message/* msg */.ab) `${s.unit.error}; ${restoring}` : restoring.composed;
            }
        }, { concurrency: this.concurrency() });
        const restoredAnything = changed.some((s) => (s.plan?.previous.length ?? 0) > 0);
        return this.outcome(states, restored && restoredAnything ? 'rolled-back' : 'failed', failure);
    }
    async deployHost(s) {
        const plan = s.plan;
        s.unit.startedMs = this.now();
        if (plan.previousImage)
            s.unit.previousImage = plan.previousImage;
        s.unit.newImage = this.request.image ?? plan.previous[0]?.image;
        try {
            if (plan.unchanged) {
                s.unit.outcome = 'unchanged';
                this.line(s.host, `${plan.target} already runs this version`);
            }
            else {
                for (const step of plan.steps) {
                    if (step.kind === 'start' && step.name === plan.target && plan.reuse) {
                        s.port = plan.steps.find((st) => st.kind === 'switch')?.port;
                    }
                    if (step.kind === 'health') {
                        const health = await this.ctx.log.step('ssh.health', { host: s.host.id, container: step.name }, () => waitHealthy({
                            remote: this.remote,
                            host: s.host,
                            name: step.name,
                            healthCmd: this.settings.proxy === 'nginx'
                                ? commands/* proxiedHealth */.ay(s.port, step.cmd, step.path) || undefined
                                : step.cmd,
                            timeoutMs: this.request.healthTimeoutMs,
                            intervalMs: this.options.healthIntervalMs ?? 2000,
                            signal: this.request.signal,
                            line: (text) => this.line(s.host, text),
                        }).catch((error) => {
                            s.unit.health = 'failing';
                            throw error;
                        }));
                        s.unit.health = health;
                        continue;
                    }
                    await this.ctx.log.step(`ssh.${step.kind}`, { host: s.host.id, container: plan.target }, async () => {
                        if (step.kind === 'pull') {
                            const login = this.loginFor(step.image);
                            await this.exec(s, 'pull', commands/* pull */.a$(step.image, login?.login), 30 * 60_000, login?.password);
                        }
                        if (step.kind === 'create') {
                            await this.exec(s, 'create', commands/* create */.vt({
                                name: step.name,
                                image: step.image,
                                service: this.settings.service,
                                deployTag: this.request.deployTag,
                                deployId: this.request.deployId,
                                runArgs: s.port === undefined
                                    ? this.settings.runArgs
                                    : (0,publish/* proxiedRunArgs */.Ay)(this.settings.runArgs, this.reach(), s.port),
                                port: s.port,
                            }));
                            s.created = true;
                        }
                        if (step.kind === 'stop') {
                            s.stopped.push(step.name);
                            await this.exec(s, 'stop', commands/* stop */.ds(step.name), 5 * 60_000);
                        }
                        if (step.kind === 'start') {
                            s.started = true;
                            await this.exec(s, 'start', commands/* start */.ni(step.name));
                        }
                        if (step.kind === 'port') {
                            const port = commands/* parsePort */.pz(await this.exec(s, 'port', commands/* pickPort */.Rn()));
                            if (port === undefined)
                                throw new Error('the port picker printed no port');
                            s.port = port;
                        }
                        if (step.kind === 'switch') {
                            const port = step.port ?? s.port;
                            const t = performance.now();
                            await this.exec(s, 'switch', commands/* switchUpstream */.mC(this.settings.service, port)).catch((error) => {
                                // Cut by a cancellation, the remote script may still have reloaded nginx:
                                // the restore points the upstream back in case it did.
                                if (this.request.signal?.aborted)
                                    s.switched = true;
                                throw error;
                            });
                            s.switched = true;
                            this.line(s.host, `upstream switched to ${step.name} in ${(0,summary/* formatMs */._V)(performance.now() - t)}`);
                        }
                        if (step.kind === 'drain') {
                            this.line(s.host, `draining the old container for ${(0,summary/* formatMs */._V)(step.ms)}`);
                            // A cancellation cuts the drain: the restore then points the upstream back.
                            await (0,http/* abortableSleep */.Mf)(step.ms, this.request.signal);
                        }
                    });
                }
                s.unit.outcome = 'updated';
            }
        }
        catch (error) {
            s.unit.outcome = 'failed';
            s.unit.error =
                error instanceof errors/* StepError */.zg
                    ? error.composed
                    : new errors/* StepError */.zg('ssh.deploy', (0,message/* msg */.ab) `deploy to ${s.host.where}`, error).composed;
            if (s.unit.health === undefined && plan.steps.some((st) => st.kind === 'health') && s.started) {
                s.unit.health = 'failing';
            }
        }
        s.unit.endedMs = this.now();
        this.progressDone(s);
    }
    /** Runs one remote command, its output streamed line by line; a non-zero exit names the step and host. */
    async exec(s, step, command, timeoutMs = 120_000, input, signal = this.request.signal) {
        const result = await this.remote.run(s.host.login, command, {
            onLine: (line) => this.line(s.host, line),
            timeoutMs,
            ...(signal ? { signal } : {}),
            ...(input !== undefined ? { input } : {}),
        });
        if (result.code !== 0 || result.timedOut) {
            const why = result.timedOut ? `timed out after ${(0,summary/* formatMs */._V)(timeoutMs)}` : `exit ${result.code}`;
            throw new errors/* StepError */.zg(`ssh.${step}`, (0,message/* msg */.ab) `${(0,message/* own */.ZV)(DOING[step])} on ${s.host.where}`, new message/* ComposedError */.vf((0,message/* msg */.ab) `${(0,message/* own */.ZV)(why)}: ${(0,ssh_lock/* lastLines */.w$)(result.shown)}`));
        }
        return result.output;
    }
    /** Undoes exactly what this run did on the host: the new container goes, the previous one comes back. */
    async restore(s) {
        const plan = s.plan;
        // After a cancellation the runner's grace is short: a container this run created is removed at
        // once instead of stopped gracefully first, and every command runs under the clean-up budget.
        const cancelled = this.request.signal?.aborted === true;
        const signal = cancelled ? this.request.cleanupSignal : this.request.signal;
        const back = plan.previous[0]?.port;
        if (s.switched && back !== undefined) {
            for (const name of s.stopped)
                await this.exec(s, 'restore', commands/* start */.ni(name), undefined, undefined, signal);
            s.stopped = [];
            await this.exec(s, 'restore', commands/* switchUpstream */.mC(this.settings.service, back), undefined, undefined, signal);
        }
        if (s.started && !(cancelled && s.created))
            await this.exec(s, 'restore', commands/* stop */.ds(plan.target), 5 * 60_000, undefined, signal);
        if (s.created)
            await this.exec(s, 'restore', commands/* remove */.TF(plan.target), undefined, undefined, signal);
        for (const name of s.stopped)
            await this.exec(s, 'restore', commands/* start */.ni(name), undefined, undefined, signal);
    }
    async pruneAll(states) {
        await (0,fanout/* mapConcurrent */._)(states.filter((s) => s.plan), async (s) => {
            try {
                await this.ctx.log.step('ssh.prune', { host: s.host.id }, async () => {
                    const containers = await listOn(this.remote, s.host, this.settings.service);
                    const prune = planPrune(containers, s.plan.target, this.settings.keep);
                    for (const c of prune) {
                        await this.exec(s, 'prune', `${commands/* remove */.TF(c.name)} >/dev/null`);
                        await this.exec(s, 'prune', commands/* removeImageIfUnused */.LQ(c.image));
                        this.line(s.host, `removed ${c.name} (keep ${this.settings.keep})`);
                    }
                });
            }
            catch (error) {
                this.ctx.warning((0,message/* msg */.ab) `Pruning old ${this.settings.service} containers on ${s.host.where}: ${error}`);
            }
        }, { concurrency: this.concurrency() });
    }
    // ---- report -------------------------------------------------------------
    progressDone(s) {
        this.progress.done({
            id: s.host.id,
            where: s.host.where,
            outcome: s.unit.outcome,
            ms: Math.max(0, s.unit.endedMs - s.unit.startedMs),
            ...(s.unit.error
                ? { note: String(s.unit.error) }
                : s.unit.health
                    ? { note: `health ${s.unit.health}` }
                    : {}),
        });
    }
    outcome(states, status, error) {
        const units = states.map((s) => s.unit);
        const previousImage = units.find((u) => u.previousImage)?.previousImage;
        // Cancelled: a host counts as changed once this run created, started, stopped or switched
        // anything there, whether or not its unit finished.
        const cancelled = this.request.signal?.aborted && !this.request.dryRun
            ? {
                changed: states.filter((s) => s.created || s.started || s.stopped.length > 0 || s.switched)
                    .length,
                restored: units.filter((u) => u.outcome === 'rolled-back').length,
            }
            : undefined;
        return {
            status,
            units,
            plan: this.planLines,
            ...(previousImage ? { previousImage } : {}),
            ...(status !== 'success' && error && String(error) ? { error } : {}),
            ...(cancelled ? { cancelled } : {}),
        };
    }
}

;// CONCATENATED MODULE: ./src/deploy/ssh/index.ts





/**
 * The ssh target: Docker hosts over the system ssh client.
 *
 * Rollout, as Kamal does it but with a canary: every host's lock is taken
 * first, one at a time in a fixed order (two deploys to overlapping hosts then
 * queue instead of deadlocking), then the first host is deployed alone and
 * must get healthy; the others follow in parallel. If any host fails, no
 * further host is started and, with `auto-rollback`, every changed host gets
 * its previous container back. Old containers are pruned to `keep` only when
 * the whole rollout is healthy, so a rollback always finds what it needs.
 * Locks are released on every path, and by the post step when the job dies.
 *
 * Dry-run reads each host's containers (`docker ps`, read-only, no lock) to
 * show the exact plan, and changes nothing.
 */
function createSshTarget(settings, ctx, options = {}) {
    let hostsOnce;
    const hosts = () => {
        hostsOnce ??= (0,discover_hosts/* resolveHosts */.G)(settings, ctx);
        return hostsOnce;
    };
    const openSession = () => session/* SshSession */.vM.open({ key: settings.sshKey, knownHosts: settings.knownHosts }, ctx.env.RUNNER_TEMP || (0,external_node_os_.tmpdir)(), { redactor: ctx.secrets.redactor });
    return {
        async observe() {
            const [first] = await hosts();
            if (!first)
                return {};
            const session = await openSession();
            try {
                const containers = await listOn(session, first, settings.service);
                const running = containers.find((c) => c.state === 'running');
                return running ? { previousImage: running.image } : {};
            }
            catch {
                return {};
            }
            finally {
                await session.close();
            }
        },
        async run(request) {
            const list = await hosts();
            const session = await openSession();
            try {
                return await new Rollout(settings, ctx, session, list, request, options).run();
            }
            finally {
                await session.close();
            }
        },
    };
}


/***/ })

};
