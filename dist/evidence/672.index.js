export const id = 672;
export const ids = [672];
export const modules = {

/***/ 8802:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  Cs: () => (/* binding */ runAction)
});

// UNUSED EXPORTS: createContext, runPost

// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 10 modules
var lib_core = __webpack_require__(7264);
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

// EXTERNAL MODULE: ./src/core/http.ts + 2 modules
var http = __webpack_require__(2190);
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

/***/ 2190:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  Mf: () => (/* binding */ abortableSleep),
  Kb: () => (/* binding */ excerpt),
  vu: () => (/* binding */ isRefusal),
  fs: () => (/* binding */ providerMessage),
  Mb: () => (/* binding */ requestTimeoutFromEnv)
});

// UNUSED EXPORTS: DEFAULT_REQUEST_TIMEOUT_MS, HttpClient, REQUEST_TIMEOUT_VARIABLE, attemptSignal, buildUrl, errorCode, requestLine

// EXTERNAL MODULE: ./src/core/cancellation.ts
var cancellation = __webpack_require__(3948);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
;// CONCATENATED MODULE: ./src/core/retry.ts
/**
 * The retry policy every provider request follows, as pure functions so that
 * each decision is testable without a clock or a network. `decideRetry` says
 * whether to send again and the backoff; it never sleeps: the HTTP client
 * (core/http.ts) judges that wait with `judgeWait` (core/rate-limit.ts) against
 * the run's one bound, logs it and sleeps it under the request's signal, as it
 * does every rate-limit wait.
 */
const retry_DEFAULT_RETRY_POLICY = {
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
function retry_decideRetry(q) {
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
        const waitFor = retry_parseRetryAfter(outcome.retryAfter, q.now ?? Date.now());
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
function retry_parseRetryAfter(value, now) {
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

;// CONCATENATED MODULE: ./src/core/rate-limit.ts



/** Without a bound from the action: heroku-go's longest single wait, 15 min. */
const rate_limit_DEFAULT_WAIT_BOUND = { budgetMs: 15 * 60_000, name: 'the 15 min rate-limit bound' };
/** After this many rate-limited answers in a row to one request it fails, whatever the bound. */
const rate_limit_MAX_LIMITED_ANSWERS = 30;
/**
 * Whether a computed wait fits the bound: every wait of a request (a rate limit, a pause on
 * a key running low, the backoff before a retry) is judged here, against the same bound.
 * The decision is made on the computed wait (`wait.waitMs`); `scale` (1 in production) only
 * shortens the real sleep in tests, so a test takes the same path as production. The
 * message says what is left of the bound: the time to the deadline when there is one, else
 * the budget and what was already waited (no "left" when no deadline applies).
 */
function rate_limit_judgeWait(input) {
    const { provider, wait, bound } = input;
    const budgetLeft = bound.budgetMs - input.sleptMs;
    const untilDeadline = bound.deadlineAt === undefined ? undefined : bound.deadlineAt - input.now;
    const left = untilDeadline === undefined ? budgetLeft : Math.min(budgetLeft, untilDeadline);
    if (wait.waitMs <= left)
        return { wait: true, sleepMs: Math.round(wait.waitMs * input.scale) };
    const room = untilDeadline !== undefined && untilDeadline <= budgetLeft
        ? msg `${ownWait(Math.max(0, untilDeadline))} left`
        : msg `at most ${ownWait(bound.budgetMs)} of waits in all${input.sleptMs > 0 ? msg `, ${ownWait(input.sleptMs)} already waited` : ''}`;
    const waiting = msg `waiting ${ownWait(wait.waitMs)}`;
    const name = own(bound.name);
    return {
        wait: false,
        reason: msg `rate limited by ${own(provider)} past ${name} (${wait.limit}: ${waiting} would pass it, ${room})`,
        over: msg `${waiting} would pass ${name} (${room})`,
    };
}
/** The log line of one rate-limit wait: `rate limited by Heroku, waiting 30 s (HTTP 429, RateLimit-Remaining 0; app.info)`. */
function rate_limit_waitLine(provider, wait, operation) {
    return msg `rate limited by ${own(provider)}, waiting ${ownWait(wait.waitMs)} (${wait.limit}; ${own(operation)})`;
}
/** The log line of one wait before a retry: `retrying Heroku GET /apps/web after HTTP 503, waiting 0.4 s (retry 1 of 3)`. */
function rate_limit_retryLine(provider, request, wait) {
    return msg `retrying ${own(provider)} ${request} after ${wait.limit}, waiting ${ownWait(wait.waitMs)}`;
}
function ownWait(ms) {
    return own(formatWait(ms));
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
    const after = parseRetryAfter(headers['retry-after'], now);
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
function rate_limit_waitScaleFromEnv(env = process.env) {
    const raw = env[WAIT_SCALE_VARIABLE]?.trim();
    if (!raw)
        return 1;
    const scale = /^\d*\.?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(scale > 0 && scale <= 1))
        throw new EnvironmentError(WAIT_SCALE_VARIABLE, `is for tests only and must be a number above 0 and at most 1, not "${raw}"`);
    return scale;
}

// EXTERNAL MODULE: ./src/core/undici.ts + 1 modules
var undici = __webpack_require__(1263);
;// CONCATENATED MODULE: ./src/core/http.ts






const REQUEST_ID_HEADERS = (/* unused pure expression or super */ null && ([
    'request-id',
    'x-request-id',
    'fly-request-id',
    'x-github-request-id',
    'cf-ray',
    'x-correlation-id',
]));
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
        throw new errors/* EnvironmentError */.eG(REQUEST_TIMEOUT_VARIABLE, `must be a number of seconds above 0 and at most ${MAX_REQUEST_TIMEOUT_SECONDS} (the per-attempt timeout of provider API calls), not "${raw}"`);
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
        this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
        this.defaultTimeoutMs = options.timeoutMs ?? requestTimeoutFromEnv(options.env);
        this.waitScale = waitScaleFromEnv(options.env);
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
                if (error instanceof ApiError)
                    throw error;
                throwIfCancelled(outer, this.provider, named, attempt);
                outcome = isTimeout(error) ? { kind: 'timeout' } : { kind: 'network', code: errorCode(error) };
                failure = {
                    cause: outcome.kind === 'timeout'
                        ? new ComposedError(msg `no answer within ${own(this.timeoutOf(req))} ms`)
                        : error,
                };
            }
            failures++;
            const decision = decideRetry({
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
                limit: msg `${describeOutcome(outcome)} (retry ${own(failures)} of ${own(policy.retries)})`,
            };
            const verdict = this.judge(backoff, waits);
            if (!verdict.wait)
                throw this.apiError(named, attempt, failure, outcome, msg `Not retried: ${verdict.over}.`);
            (req.onRetry ?? this.options.onRetry)?.({
                provider: this.provider,
                ...named,
                attempt,
                delayMs: decision.delayMs,
                reason: describeOutcome(outcome),
            });
            this.options.log?.(retryLine(this.provider, named.request, backoff));
            await this.sleepFor(backoff, verdict.sleepMs, waits, outer, sleep);
        }
    }
    /** Every wait of a request is judged against the one bound: the action's deadline or wait budget. */
    judge(wait, waits) {
        return judgeWait({
            provider: this.provider,
            wait,
            sleptMs: waits.slept,
            bound: this.options.waitBound ?? DEFAULT_WAIT_BOUND,
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
        const most = this.options.rateLimit?.maxLimited ?? MAX_LIMITED_ANSWERS;
        const verdict = waits.limited >= most
            ? {
                wait: false,
                reason: msg `rate limited by ${own(this.provider)} ${own(waits.limited)} times in a row (${limit.limit})`,
            }
            : this.judge(limit, waits);
        if (!verdict.wait) {
            throw new ApiError({
                provider: this.provider,
                ...named,
                status: failed.status,
                requestId: requestIdOf(failed.headers),
                providerMessage: verdict.reason,
                retryable: true,
                attempts,
            });
        }
        this.options.log?.(waitLine(this.provider, limit, named.operation));
        await this.sleepFor(limit, verdict.sleepMs, waits, outer, sleep);
    }
    /** A pause before sending when the last answer says the shared key is running low (logged once per client). */
    async pace(named, attempt, waits, outer, sleep) {
        const pause = this.lastHeaders && this.options.rateLimit?.pace?.(this.lastHeaders);
        if (!pause)
            return;
        const verdict = this.judge(pause, waits);
        if (!verdict.wait)
            throw new ApiError({
                provider: this.provider,
                ...named,
                providerMessage: verdict.reason,
                retryable: true,
                attempts: attempt - 1,
            });
        if (!this.pacingLogged)
            this.options.log?.(waitLine(this.provider, pause, named.operation));
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
        const { exchange } = await loadUndici();
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
        return new ApiError({
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
    const message = composedOf(cause);
    const code = errorCode(cause);
    const coded = code && !String(message).includes(code) ? msg `${code}: ${message}` : message;
    return new ComposedError(redactedValues(coded, redact));
}
/** `HTTP 503`, `timeout`, or the network error's code: words of ours and the status. */
function describeOutcome(outcome) {
    if (outcome.kind === 'status')
        return msg `HTTP ${own(outcome.status)}`;
    if (outcome.kind === 'timeout')
        return own('timeout');
    return outcome.code ? msg `${outcome.code}` : own('network error');
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
    throw new ApiError({
        provider,
        ...named,
        retryable: false,
        attempts,
        // A runner cancellation names its signal; any other abort is a deadline.
        cause: signal.reason instanceof CancelledError ? signal.reason : new Error('cancelled: the deadline passed'),
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
/* harmony export */   PZ: () => (/* binding */ workspaceFiles),
/* harmony export */   i_: () => (/* binding */ InputReader),
/* harmony export */   wh: () => (/* binding */ parseSshHost)
/* harmony export */ });
/* unused harmony exports fromRecord, OutsideWorkspaceError, LIST_FILE_MAX_BYTES, NotAListFileError, NotUtf8Error, utf8Text, atLine, fileLine, serverView, listEntries, splitLines, blankInside, checkUrl, sshHostKey */
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be [user@]host[:port], one per line; the entry has ${blank}`);
    // Quoted only when it has the characters of a host line: a line of another file is never shown.
    const got = /^[A-Za-z0-9_.@:[\]-]{1,100}$/.test(value) ? `; got ${shown(value)}` : '';
    const m = SSH_HOST.exec(value);
    if (!m)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `must be [user@]host[:port], the host a name of dot-separated labels (letters, digits, and dashes inside a label), an IPv4 address or a bracketed IPv6 one${got}`);
    const port = m[3] === undefined ? 22 : Number(m[3]);
    if (port < 1 || port > 65_535)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .InputError */ .dz(name, (0,_message_js__WEBPACK_IMPORTED_MODULE_4__/* .msg */ .ab) `has a port outside 1-65535${got}`);
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
/* harmony export */   oZ: () => (/* binding */ lineText),
/* harmony export */   qY: () => (/* binding */ outside),
/* harmony export */   s5: () => (/* binding */ composedOf),
/* harmony export */   vf: () => (/* binding */ ComposedError)
/* harmony export */ });
/* unused harmony exports withoutSuffix, redactPieces */
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

/***/ 2258:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Z8: () => (/* binding */ TOKEN_SHAPES),
/* harmony export */   d6: () => (/* binding */ StreamRedactor),
/* harmony export */   pO: () => (/* binding */ Redactor)
/* harmony export */ });
/* unused harmony exports encodedForms, MIN_LINE_FORM, escapeRegExp */
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

/***/ 8198:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Dy: () => (/* binding */ isTrivialValue),
/* harmony export */   Fn: () => (/* binding */ urlSecrets),
/* harmony export */   J4: () => (/* binding */ SECRET_NAME),
/* harmony export */   Sb: () => (/* binding */ Secrets)
/* harmony export */ });
/* unused harmony exports isPlainValue, isSecretConfigValue, isSecretOverride */
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
/* harmony export */   Qj: () => (/* binding */ markdownTable),
/* harmony export */   ZD: () => (/* binding */ escapeHtml),
/* harmony export */   _V: () => (/* binding */ formatMs),
/* harmony export */   jb: () => (/* binding */ summaryTable)
/* harmony export */ });
/* unused harmony exports countsLine, rowsWithin, escapeCell, mermaidGantt */
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7264);

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
  b7: () => (/* binding */ loadUndici),
  tZ: () => (/* binding */ namingProxy)
});

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


/***/ }),

/***/ 8496:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  f: () => (/* binding */ runEvidence)
});

// UNUSED EXPORTS: childEnv

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/core/cancellation.ts
var cancellation = __webpack_require__(3948);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/http.ts + 2 modules
var http = __webpack_require__(2190);
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

// EXTERNAL MODULE: ./src/core/summary.ts
var summary = __webpack_require__(1363);
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

// EXTERNAL MODULE: ./src/core/undici.ts + 1 modules
var undici = __webpack_require__(1263);
;// CONCATENATED MODULE: ./src/providers/github/rate-limit.ts
/**
 * How a GitHub rate limit that outlasts the step's bound is reported. The
 * kinds and headers are those of GitHub's "Rate limits for the REST API"
 * (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api):
 * primary limits carry `x-ratelimit-remaining: 0` and `x-ratelimit-reset`
 * (UTC epoch seconds); secondary limits carry `retry-after` (seconds) or
 * nothing, and then one minute is the least to wait.
 */
/** One sentence naming the limit, when it ends, and the bound it would pass. */
function describeRateLimit(r) {
    const until = r.kind === 'primary'
        ? primaryUntil(r.headers)
        : r.headers['retry-after'] !== undefined
            ? `retry-after ${r.headers['retry-after']} s`
            : 'no retry-after: at least one minute';
    const waited = r.waitedMs > 0 ? `, after waiting ${Math.round(r.waitedMs / 1000)} s` : '';
    const limit = r.kind === 'retry-after' ? 'HTTP 429' : `${r.kind} rate limit`;
    return `GitHub's ${limit} (${until}) needs a wait of ${r.waitS} s, more than the ${seconds(r.budget.ms)} s a GitHub request may wait (${r.budget.bound})${waited}; run again later`;
}
function primaryUntil(headers) {
    const reset = Number(headers['x-ratelimit-reset']);
    const resource = headers['x-ratelimit-resource'] ? `, resource ${headers['x-ratelimit-resource']}` : '';
    if (!Number.isFinite(reset) || reset <= 0)
        return `x-ratelimit-remaining 0${resource}`;
    return `x-ratelimit-remaining 0${resource}, resets at ${new Date(reset * 1000).toISOString()}`;
}
function seconds(ms) {
    return Math.round(ms / 1000);
}

;// CONCATENATED MODULE: ./src/providers/github/client.ts





/** Statuses plugin-retry leaves alone: client errors, and 429, which is a rate limit the throttling plugin owns. */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];
function createGitHubClient(options) {
    const calls = new Map();
    let nextCall = 1;
    let loaded;
    // plugin-throttling names the limit and the wait GitHub asks for; the wait itself is taken
    // below, where cancellation can cut it (the plugin's own timer cannot be cut).
    const noteLimit = (kind) => (retryAfterS, request) => {
        const call = calls.get(Number(request.request?.call));
        if (call)
            call.limit = { kind, waitS: retryAfterS };
        return false;
    };
    /** Waits out the limit a failed attempt met, when the budget allows; false: the error stands. */
    const waitOut = async (error, request) => {
        const call = calls.get(Number(request.request?.call));
        if (!call)
            return false;
        const plain = plainRetryAfter(error);
        const limit = call.limit ?? (plain === undefined ? undefined : { kind: 'retry-after', waitS: plain });
        call.limit = undefined;
        if (!limit)
            return false;
        const waitMs = limit.waitS * 1000;
        if (call.signal?.aborted || call.waitedMs + waitMs > options.rateLimitBudget.ms) {
            call.refused = limit;
            return false;
        }
        call.waitedMs += waitMs;
        const kind = limit.kind === 'retry-after' ? 'HTTP 429 with retry-after' : `${limit.kind} rate limit`;
        options.log((0,core_message/* msg */.ab) `rate limited by GitHub, waiting ${(0,core_message/* own */.ZV)(limit.waitS)} s (${(0,core_message/* own */.ZV)(kind)}, ${call.request})`);
        await (0,http/* abortableSleep */.Mf)(waitMs, call.signal);
        return true;
    };
    const octokit = () => {
        loaded ??= loadOctokit(options, { onRateLimit: noteLimit('primary'), onSecondaryRateLimit: noteLimit('secondary') }, waitOut);
        return loaded;
    };
    return {
        async request(req) {
            const id = nextCall++;
            const call = {
                operation: req.operation,
                request: options.redact(routeWith(req.route, req.params)),
                waitedMs: 0,
                signal: req.signal ?? options.signal,
            };
            calls.set(id, call);
            try {
                const res = await (await octokit()).request(req.route, {
                    ...req.params,
                    headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
                    request: {
                        call: id,
                        signal: call.signal,
                        ...(req.retries === undefined ? {} : { retries: req.retries }),
                    },
                });
                return {
                    request: call.request,
                    status: res.status,
                    headers: flatHeaders(res.headers),
                    data: res.data,
                };
            }
            catch (error) {
                const status = statusOf(error);
                if (status !== undefined && req.acceptStatus?.includes(status)) {
                    const response = error.response;
                    return {
                        request: call.request,
                        status,
                        headers: flatHeaders(response?.headers ?? {}),
                        data: response?.data,
                    };
                }
                throw toApiError(error, call, options);
            }
            finally {
                calls.delete(id);
            }
        },
    };
}
async function loadOctokit(options, throttle, waitOut) {
    const [{ getOctokit }, { retry }, { throttling }] = await Promise.all([
        __webpack_require__.e(/* import() */ 758).then(__webpack_require__.bind(__webpack_require__, 1758)),
        Promise.all(/* import() */[__webpack_require__.e(251), __webpack_require__.e(735)]).then(__webpack_require__.bind(__webpack_require__, 9735)),
        Promise.all(/* import() */[__webpack_require__.e(251), __webpack_require__.e(856)]).then(__webpack_require__.bind(__webpack_require__, 6856)),
    ]);
    const timeoutMs = (0,http/* requestTimeoutFromEnv */.Mb)(options.env);
    const writeGapMs = writeGapFromEnv(options.env);
    const warn = (message) => options.log(options.redact(`GitHub client: ${message}`));
    const octokit = getOctokit(options.token, {
        baseUrl: options.apiUrl.replace(/\/+$/, ''),
        userAgent: 'ops-actions/0.1',
        request: { fetch: timedFetch(timeoutMs) },
        retry: { doNotRetry: DO_NOT_RETRY },
        throttle: writeGapMs === undefined ? throttle : { ...throttle, write: spacedWrites(writeGapMs) },
        log: { debug: () => undefined, info: () => undefined, warn, error: warn },
    }, retry, throttling);
    // Registered last, so it wraps both plugins and sees the limits they gave up on.
    octokit.hook.wrap('request', async (request, requestOptions) => {
        for (;;) {
            try {
                return await request(requestOptions);
            }
            catch (error) {
                if (!(await waitOut(error, requestOptions)))
                    throw error;
            }
        }
    });
    return octokit;
}
/**
 * Test-only: `OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS` (a whole number of ms, 0 to 1000) spaces
 * GitHub writes that far apart instead of plugin-throttling's 1 s (its `write` group: one write
 * at a time, `minTime: 1000`, src/index.ts of octokit/plugin-throttling.js, after GitHub's "wait
 * at least one second between each request" for mutating requests). A test run of many deploys
 * spends seconds on that spacing against a loopback fake; unset, the plugin's own group spaces
 * them. Never set it in a workflow.
 */
const WRITE_GAP_VARIABLE = 'OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS';
function writeGapFromEnv(env = process.env) {
    const raw = env[WRITE_GAP_VARIABLE]?.trim();
    if (!raw)
        return undefined;
    const ms = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(ms <= 1000))
        throw new errors/* EnvironmentError */.eG(WRITE_GAP_VARIABLE, `is for tests only and must be a whole number of ms from 0 to 1000, not "${raw}"`);
    return ms;
}
/**
 * A stand-in for plugin-throttling's `write` group with `gapMs` for its `minTime`: one write at
 * a time, the next let through `gapMs` after the one before. Only `key(id).schedule(options, job)`
 * is used of a group (src/wrap-request.ts of octokit/plugin-throttling.js).
 */
function spacedWrites(gapMs) {
    let turn = Promise.resolve();
    const schedule = (_options, job) => {
        const mine = turn.then(job);
        const gap = () => (0,http/* abortableSleep */.Mf)(gapMs);
        turn = mine.then(gap, gap);
        return mine;
    };
    return { key: () => ({ schedule }) };
}
/** The `retry-after` seconds of a 429 that is neither a primary nor a secondary limit. */
function plainRetryAfter(error) {
    const e = error;
    const headers = e.response?.headers;
    if (e.status !== 429 || !headers)
        return undefined;
    if (String(headers['x-ratelimit-remaining']) === '0' || /\bsecondary rate\b/i.test(e.message ?? ''))
        return undefined;
    const value = String(headers['retry-after'] ?? '');
    return /^\d+$/.test(value) ? Number(value) : undefined;
}
/**
 * undici's fetch over the shared dispatcher, each attempt cut after the
 * per-attempt timeout and by the call's signal (Octokit hands `request.signal`
 * to fetch). A cancelled call surfaces as an `AbortError`, which plugin-retry
 * does not retry.
 */
function timedFetch(timeoutMs) {
    return async (url, init = {}) => {
        const [{ fetch }, { agent }] = await Promise.all([Promise.all(/* import() */[__webpack_require__.e(440), __webpack_require__.e(405), __webpack_require__.e(43), __webpack_require__.e(752)]).then(__webpack_require__.t.bind(__webpack_require__, 6752, 19)), (0,undici/* loadUndici */.b7)()]);
        const outer = init.signal ?? undefined;
        const signals = [AbortSignal.timeout(timeoutMs), outer].filter((s) => s !== undefined);
        try {
            return (await fetch(url, {
                ...init,
                signal: AbortSignal.any(signals),
                dispatcher: agent,
            }));
        }
        catch (error) {
            if (outer?.aborted)
                throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
            if (error.name === 'TimeoutError')
                throw (0,undici/* namingProxy */.tZ)(new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `no answer within ${timeoutMs} ms`, { cause: error }), url);
            throw (0,undici/* namingProxy */.tZ)(error, url);
        }
    };
}
/** `GET /repos/{owner}/{repo}/deployments` with its params → `GET /repos/acme/web/deployments`. */
function routeWith(route, params = {}) {
    return route.replace(/\{(\w+)\}/g, (whole, name) => params[name] === undefined ? whole : encodeURIComponent(String(params[name])));
}
function toApiError(error, call, options) {
    const redact = options.redact;
    const e = error;
    const attempts = (e.request?.request?.retryCount ?? 0) + 1;
    if (call.signal?.aborted || error.name === 'AbortError') {
        return new errors/* ApiError */.hD({
            provider: 'GitHub',
            operation: call.operation,
            request: call.request,
            retryable: false,
            attempts,
            cause: call.signal?.reason ?? new Error('cancelled'),
        });
    }
    if (!e.response) {
        return new errors/* ApiError */.hD({
            provider: 'GitHub',
            operation: call.operation,
            request: call.request,
            retryable: true,
            attempts,
            cause: new Error(redact(causeMessage(error))),
        });
    }
    const headers = flatHeaders(e.response.headers ?? {});
    const text = typeof e.response.data === 'string' ? e.response.data : JSON.stringify(e.response.data ?? '');
    const message = (0,http/* providerMessage */.fs)(text);
    return new errors/* ApiError */.hD({
        provider: 'GitHub',
        operation: call.operation,
        request: call.request,
        status: e.status,
        requestId: headers['x-github-request-id'],
        body: text ? (0,http/* excerpt */.Kb)(redact(text)) : undefined,
        providerMessage: message ? (0,http/* excerpt */.Kb)(redact(message)) : undefined,
        retryable: e.status === undefined || e.status >= 500 || call.refused !== undefined,
        // A 401, or a 403 that is no rate limit ("Resource not accessible by integration"): the token's fault.
        refusedCredential: !call.refused && (0,http/* isRefusal */.vu)(e.status, headers) && !/\bsecondary rate\b/i.test(message ?? '')
            ? 'github-token'
            : undefined,
        attempts,
        hint: call.refused
            ? describeRateLimit({
                ...call.refused,
                headers,
                waitedMs: call.waitedMs,
                budget: options.rateLimitBudget,
            })
            : undefined,
    });
}
function causeMessage(error) {
    const cause = error.cause;
    const code = cause?.code;
    const message = error instanceof Error ? error.message : String(error);
    return code && !message.includes(code) ? `${code}: ${message}` : message;
}
function statusOf(error) {
    const status = error.status;
    return typeof status === 'number' && error.response ? status : undefined;
}
function flatHeaders(headers) {
    const out = {};
    for (const [key, value] of Object.entries(headers))
        if (value !== undefined && value !== null)
            out[key.toLowerCase()] = String(value);
    return out;
}
/** `owner/repo` from GITHUB_REPOSITORY, split for the REST routes. */
function repoParams(repository) {
    const [owner, repo, ...rest] = repository.split('/');
    if (!owner || !repo || rest.length > 0)
        throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `GITHUB_REPOSITORY must be owner/repo, got ${JSON.stringify(repository)}`);
    return { owner, repo };
}

;// CONCATENATED MODULE: ./src/providers/github/artifacts.ts


const PER_PAGE = 100;
const MAX_PAGES = 10;
function createArtifactsApi(github, repository) {
    const repo = repoParams(repository);
    return {
        async listByName(name) {
            const all = [];
            for (let page = 1; page <= MAX_PAGES; page++) {
                const res = await github.request({
                    operation: 'artifacts.list',
                    route: 'GET /repos/{owner}/{repo}/actions/artifacts',
                    params: { ...repo, name, per_page: PER_PAGE, page },
                });
                const batch = providerList(res.data, {
                    provider: 'GitHub',
                    operation: 'artifacts.list',
                    request: res.request,
                    field: 'artifacts',
                    fields: { id: 'number', name: 'text' },
                });
                all.push(...batch.filter((a) => a.name === name));
                if (batch.length < PER_PAGE || page * PER_PAGE >= (res.data?.total_count ?? 0))
                    break;
            }
            return all;
        },
    };
}

// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(1421);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
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

// EXTERNAL MODULE: ./src/core/redact.ts
var redact = __webpack_require__(2258);
;// CONCATENATED MODULE: ./src/core/line-stream.ts


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
    decoder = new external_node_string_decoder_.StringDecoder('utf8');
    redacting;
    onLine;
    pending = [];
    constructor(onLine, options = {}) {
        this.onLine = onLine;
        this.redacting = options.redactor ? new redact/* StreamRedactor */.d6(options.redactor) : undefined;
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
        const toLines = () => new LineStream((line) => {
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

;// CONCATENATED MODULE: ./src/evidence/checks-file.ts


class ChecksFileError extends errors/* InputError */.dz {
    constructor(file, where, problem) {
        super('config', `: ${file}: ${where} ${problem}`);
        this.message = `Checks file ${file}: ${where} ${problem}`;
    }
}
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CHECK_KEYS = new Set(['id', 'title', 'run', 'http', 'expect', 'timeout', 'required', 'milestones']);
const TOP_KEYS = new Set(['target', 'milestones', 'checks', 'redact']);
async function parseChecksFile(text, file) {
    const { parse } = await __webpack_require__.e(/* import() */ 815).then(__webpack_require__.t.bind(__webpack_require__, 8815, 19));
    let doc;
    try {
        doc = parse(text);
    }
    catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
        throw new ChecksFileError(file, 'the file', `is not valid YAML: ${message}`);
    }
    return validateChecksFile(doc, file);
}
function validateChecksFile(doc, file) {
    const fail = (where, problem) => {
        throw new ChecksFileError(file, where, problem);
    };
    if (!isRecord(doc))
        return fail('the file', 'must be a mapping with `checks`');
    for (const key of Object.keys(doc))
        if (!TOP_KEYS.has(key))
            fail(`field \`${key}\``, `is unknown; allowed: ${[...TOP_KEYS].join(', ')}`);
    let target;
    if (doc.target !== undefined && doc.target !== null) {
        if (typeof doc.target !== 'string' || !NAME.test(doc.target))
            fail('field `target`', 'must be a name of letters, digits, . _ -');
        target = doc.target;
    }
    const milestones = doc.milestones === undefined ? undefined : nameList(doc.milestones, 'field `milestones`', fail);
    if (milestones && new Set(milestones).size !== milestones.length)
        fail('field `milestones`', 'lists a milestone twice');
    if (!Array.isArray(doc.checks) || doc.checks.length === 0)
        fail('field `checks`', 'must be a non-empty list of checks');
    const seen = new Set();
    const checks = doc.checks.map((raw, i) => {
        const check = parseCheck(raw, i, milestones, fail);
        if (seen.has(check.id))
            fail(`check '${check.id}'`, 'is listed twice (ids must be unique)');
        seen.add(check.id);
        return check;
    });
    const redact = { env: [], patterns: [] };
    if (doc.redact !== undefined && doc.redact !== null) {
        if (!isRecord(doc.redact))
            fail('field `redact`', 'must be a mapping with `env` and/or `patterns`');
        const r = doc.redact;
        for (const key of Object.keys(r))
            if (key !== 'env' && key !== 'patterns')
                fail(`field \`redact.${key}\``, 'is unknown; allowed: env, patterns');
        if (r.env !== undefined) {
            if (!Array.isArray(r.env))
                fail('field `redact.env`', 'must be a list of variable names');
            r.env.forEach((name, i) => {
                if (typeof name !== 'string' || !ENV_NAME.test(name))
                    fail(`field \`redact.env[${i}]\``, 'must be an environment variable name');
                redact.env.push(name);
            });
        }
        if (r.patterns !== undefined) {
            if (!Array.isArray(r.patterns))
                fail('field `redact.patterns`', 'must be a list of regular expressions');
            for (const [i, source] of r.patterns.entries()) {
                const where = `field \`redact.patterns[${i}]\``;
                if (typeof source !== 'string' || source === '')
                    fail(where, 'must be a non-empty regular expression');
                const pattern = compilePattern(source, (problem) => fail(where, problem));
                if (pattern.test(''))
                    fail(where, 'matches empty text; it would redact nothing useful');
                pattern.lastIndex = 0;
                redact.patterns.push(pattern);
            }
        }
    }
    return { target, milestones, checks, redact };
}
function parseCheck(raw, i, milestones, fail) {
    if (!isRecord(raw))
        return fail(`check #${i + 1}`, 'must be a mapping with `id` and `run` or `http`');
    if (typeof raw.id !== 'string' || !ID.test(raw.id))
        return fail(`check #${i + 1} field \`id\``, 'must be a name of letters, digits, . _ - (up to 64)');
    const id = raw.id;
    const where = (field) => `check '${id}' field \`${field}\``;
    for (const key of Object.keys(raw))
        if (!CHECK_KEYS.has(key))
            fail(where(key), `is unknown; allowed: ${[...CHECK_KEYS].join(', ')}`);
    if (raw.title !== undefined && typeof raw.title !== 'string')
        fail(where('title'), 'must be text');
    const title = raw.title ?? id;
    let timeoutMs;
    if (raw.timeout !== undefined) {
        // Below a second a timer rounds to 0 ms and the check fails before it starts.
        if (typeof raw.timeout !== 'number' || !(raw.timeout >= 1) || raw.timeout > 6 * 3600)
            fail(where('timeout'), 'must be a number of seconds of at least 1 and at most 21600');
        timeoutMs = Math.round(raw.timeout * 1000);
    }
    if (raw.required !== undefined && typeof raw.required !== 'boolean')
        fail(where('required'), 'must be true or false');
    const required = raw.required === true;
    let only;
    if (raw.milestones !== undefined) {
        only = nameList(raw.milestones, where('milestones'), fail);
        if (only.length === 0)
            fail(where('milestones'), 'must list at least one milestone');
        if (milestones)
            for (const m of only)
                if (!milestones.includes(m))
                    fail(where('milestones'), `names '${m}', which is not in the file's milestones: ${milestones.join(', ')}`);
    }
    const hasRun = raw.run !== undefined;
    const hasHttp = raw.http !== undefined;
    if (hasRun === hasHttp)
        fail(`check '${id}'`, 'must have exactly one of `run` and `http`');
    if (hasRun) {
        if (typeof raw.run !== 'string' || raw.run.trim() === '')
            fail(where('run'), 'must be a shell command');
        if (raw.expect !== undefined)
            fail(where('expect'), 'applies to `http` checks only');
        return { kind: 'run', id, title, command: raw.run, timeoutMs, required, milestones: only };
    }
    if (typeof raw.http !== 'string')
        return fail(where('http'), 'must be an http(s) URL');
    let url;
    try {
        url = new URL(raw.http);
    }
    catch {
        return fail(where('http'), 'must be an http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
        fail(where('http'), 'must be an http(s) URL');
    let expect;
    if (raw.expect !== undefined) {
        const list = Array.isArray(raw.expect) ? raw.expect : [raw.expect];
        if (list.length === 0 || !list.every((s) => Number.isInteger(s) && s >= 100 && s <= 599))
            fail(where('expect'), 'must be an HTTP status (100-599) or a list of them');
        expect = list;
    }
    return { kind: 'http', id, title, url: raw.http, expect, timeoutMs, required, milestones: only };
}
function nameList(value, where, fail = (w, p) => {
    throw new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `${w} ${p}`);
}) {
    if (!Array.isArray(value))
        return fail(where, 'must be a list of names');
    return value.map((v) => {
        if (typeof v !== 'string' || !NAME.test(v))
            fail(where, `has ${JSON.stringify(v)}, not a name of letters, digits, . _ -`);
        return v;
    });
}
function compilePattern(source, fail) {
    try {
        return new RegExp(source, 'g');
    }
    catch (error) {
        return fail(`is not a valid regular expression: ${error.message}`);
    }
}
function isRecord(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
/** Whether a check runs at `milestone` (see the module comment for the rule). */
function appliesAt(check, milestone, milestones) {
    if (!check.milestones)
        return true;
    if (!milestones)
        return check.milestones.includes(milestone);
    const at = milestones.indexOf(milestone);
    const from = Math.min(...check.milestones.map((m) => milestones.indexOf(m)));
    return at >= from;
}
/** The milestone before `milestone` in the file's list, or undefined for the first. */
function previousMilestone(milestone, milestones) {
    const at = milestones.indexOf(milestone);
    return at > 0 ? milestones[at - 1] : undefined;
}

// EXTERNAL MODULE: external "node:util"
var external_node_util_ = __webpack_require__(7975);
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

;// CONCATENATED MODULE: ./src/evidence/collect.ts



async function collect_collect(checks, options) {
    const now = options.now ?? (() => performance.now());
    const origin = now();
    return mapConcurrent(checks, async (check) => {
        const timeoutMs = check.timeoutMs ?? options.defaultTimeoutMs;
        const started = now();
        let raw;
        try {
            raw = await options.run(check, timeoutMs);
        }
        catch (error) {
            raw = { output: '', timedOut: false, error: error instanceof Error ? error.message : String(error) };
        }
        const durationMs = now() - started;
        const result = toResult(check, raw, {
            redactor: options.redactor,
            timeoutMs,
            durationMs,
            startedMs: started - origin,
            maxLines: options.maxLines,
        });
        options.onDone?.(result);
        return result;
    }, { concurrency: Math.max(1, checks.length) });
}
function collect_statusOf(check, raw) {
    if (raw.timedOut)
        return 'timed out';
    if (check.kind === 'http') {
        if (raw.httpStatus === undefined)
            return 'error';
        const ok = check.expect
            ? check.expect.includes(raw.httpStatus)
            : raw.httpStatus >= 200 && raw.httpStatus < 300;
        return ok ? 'passed' : 'failed';
    }
    if (raw.exitCode === undefined)
        return 'error';
    return raw.exitCode === 0 ? 'passed' : 'failed';
}
function toResult(check, raw, o) {
    const status = collect_statusOf(check, raw);
    const notes = [];
    if (raw.timedOut)
        notes.push((0,core_message/* msg */.ab) `timed out after ${(0,core_message/* own */.ZV)(formatSeconds(o.timeoutMs))}: the check was killed`);
    if (raw.error)
        notes.push((0,core_message/* msg */.ab) `${raw.error}`);
    const redacted = o.redactor.redact(withoutTerminalEscapes(raw.output));
    const cut = cutLines(redacted, o.maxLines);
    return {
        id: check.id,
        title: check.title,
        kind: check.kind,
        what: o.redactor.redact(check.kind === 'run' ? check.command : `GET ${check.url}`),
        required: check.required,
        status,
        exitCode: check.kind === 'run' ? raw.exitCode : undefined,
        httpStatus: raw.httpStatus,
        timeoutMs: o.timeoutMs,
        durationMs: o.durationMs,
        startedMs: o.startedMs,
        output: cut.text,
        totalLines: cut.total,
        cutLines: cut.cut,
        note: notes.length === 0 ? undefined : (0,core_message/* redactedValues */.R7)((0,core_message/* joinMessages */.hw)(notes, '; '), (t) => o.redactor.redact(t)),
    };
}
/**
 * Output as text, without the terminal's escape sequences that colour it,
 * move the cursor, set the title or make links: CSI (`ESC [ … m`, and the C1
 * form), OSC (`ESC ] … BEL` or `ESC ] … ESC \\`, so OSC 8 hyperlinks keep
 * only their text) and the two-byte `ESC x` forms, through Node's own
 * `util.stripVTControlCharacters`. A stray ESC or BEL left by a cut-off
 * sequence goes too: a Markdown file or a job summary has no use for either.
 * Done before redaction, so a secret coloured in parts is still whole.
 */
function withoutTerminalEscapes(text) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: BEL, ESC and CSI are exactly what is removed.
    return (0,external_node_util_.stripVTControlCharacters)(text).replace(/[\x07\x1b\x9b]/g, '');
}
/**
 * Keeps the first and last halves of `max` lines with a note between them:
 * the head shows what the command started with, the tail how it ended.
 */
function cutLines(text, max) {
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    if (body === '')
        return { text: '', total: 0, cut: 0 };
    // Counted and sliced in place: splitting megabytes of short lines into an array would cost several times that.
    let total = 1;
    for (let nl = body.indexOf('\n'); nl !== -1; nl = body.indexOf('\n', nl + 1))
        total++;
    if (total <= max)
        return { text: body, total, cut: 0 };
    const head = Math.ceil(max / 2);
    const tail = max - head;
    const cut = total - max;
    let headEnd = -1;
    for (let i = 0; i < head; i++)
        headEnd = body.indexOf('\n', headEnd + 1);
    let tailStart = body.length;
    for (let i = 0; i < tail; i++)
        tailStart = body.lastIndexOf('\n', tailStart - 1);
    const note = `[… ${cut} lines cut here (lines ${head + 1}-${head + cut} of ${total}); max-lines is ${max} …]`;
    const parts = [body.slice(0, headEnd), note, ...(tail > 0 ? [body.slice(tailStart + 1)] : [])];
    return { text: parts.join('\n'), total, cut };
}
function formatSeconds(ms) {
    return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

;// CONCATENATED MODULE: ./src/evidence/evidence-file.ts

/** `20260505T120000Z`: sortable, and free of `:` (not allowed in artifact file names). */
function utcStamp(time) {
    return time
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
        .replace(/[-:]/g, '');
}
function evidenceFileName(meta) {
    return `${utcStamp(meta.time)}-${meta.target}-${meta.milestone}.md`;
}
/** Characters of an error's reason shown in its table row; the check's section has all of it. */
const REASON_CHARS = 160;
/**
 * Exit code or HTTP status; a check that ended in `error` has neither, so its
 * row shows why (`ssh could not run the check: Permission denied (publickey).`).
 */
function resultCell(r) {
    if (r.status === 'error' && r.note) {
        const reason = String(r.note).replace(/\s+/g, ' ');
        return reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS - 1)}…` : reason;
    }
    if (r.kind === 'http')
        return r.httpStatus === undefined ? '—' : `HTTP ${r.httpStatus}`;
    return r.exitCode === undefined ? '—' : `exit ${r.exitCode}`;
}
function statusCell(r) {
    const mark = r.status === 'passed' ? '✅' : r.required ? '❌' : '⚠️';
    return `${mark} ${r.status}`;
}
const CHECK_COLUMNS = ['id', 'title', 'status', 'exit code / HTTP', 'duration', 'required'];
/** One row per check, in CHECK_COLUMNS order: the evidence file's table and the job summary's. */
function checkRows(results) {
    return results.map((r) => [
        r.id,
        r.title,
        statusCell(r),
        resultCell(r),
        (0,summary/* formatMs */._V)(r.durationMs),
        r.required ? 'yes' : 'no',
    ]);
}
function checksTable(results) {
    return (0,summary/* markdownTable */.Qj)(CHECK_COLUMNS, checkRows(results));
}
/** A fence longer than any run of backticks in the content, so the content cannot close it. */
function fenceFor(content) {
    let longest = 0;
    for (const m of content.matchAll(/`+/g))
        longest = Math.max(longest, m[0].length);
    return '`'.repeat(Math.max(3, longest + 1));
}
function fenced(content, info = '') {
    const fence = fenceFor(content);
    return `${fence}${info}\n${content}${content === '' || content.endsWith('\n') ? '' : '\n'}${fence}`;
}
function redactionTable(counts) {
    const kinds = Object.entries(counts)
        .filter(([, n]) => n > 0)
        .sort(([a], [b]) => a.localeCompare(b));
    if (kinds.length === 0)
        return 'No redactions were needed.';
    const total = kinds.reduce((sum, [, n]) => sum + n, 0);
    return `${total} values were replaced by \`[REDACTED:<kind>]\`; the values themselves are recorded nowhere.\n\n${(0,summary/* markdownTable */.Qj)(['kind', 'count'], kinds)}`;
}
function renderEvidence(meta, results, counts) {
    const line = (s) => s.replace(/[\r\n]+/g, ' ');
    const head = [
        `# Evidence: ${line(meta.target)} — ${line(meta.milestone)}`,
        '',
        (0,summary/* markdownTable */.Qj)(['', ''], [
            ['Target', meta.target],
            ['Milestone', meta.milestone],
            ['Time (UTC)', meta.time.toISOString()],
            ['Repository', meta.repository ?? '—'],
            ['Commit', meta.commit ?? '—'],
            ['Ref', meta.ref ?? '—'],
            ['Workflow run', meta.runUrl ? `[${meta.runUrl}](${meta.runUrl})` : '—'],
            ['Checks file', meta.checksFile],
            ['run checks on', meta.ranOn],
            [
                'Gate',
                meta.gate.passed
                    ? 'passed: every required check passed'
                    : `failed: required ${meta.gate.failedRequired.join(', ')} did not pass`,
            ],
        ]),
        '',
        '## Checks',
        '',
        checksTable(results),
        '',
    ];
    const sections = results.flatMap((r) => {
        const facts = [
            `- status: ${r.status}${r.required ? ' (required)' : ''}`,
            `- result: ${resultCell(r)}`,
            `- duration: ${(0,summary/* formatMs */._V)(r.durationMs)} (timeout ${(0,summary/* formatMs */._V)(r.timeoutMs)})`,
        ];
        if (r.note)
            facts.push(`- note: ${line(String(r.note))}`);
        if (r.cutLines > 0)
            facts.push(`- output: ${r.totalLines} lines, ${r.cutLines} cut (see the note inside)`);
        return [
            `## ${line(r.id)} — ${line(r.title)}`,
            '',
            ...facts,
            '',
            r.kind === 'http' ? 'Request:' : 'Command:',
            '',
            fenced(r.what, r.kind === 'run' ? 'sh' : ''),
            '',
            'Output:',
            '',
            fenced(r.output === '' ? '(no output)' : r.output, 'text'),
            '',
        ];
    });
    return [...head, ...sections, '## Redactions', '', redactionTable(counts), ''].join('\n');
}


;// CONCATENATED MODULE: ./src/evidence/gate.ts
/**
 * How "passing evidence" is known: the artifact of a milestone whose required
 * checks all passed is named `evidence-<target>-<milestone>` (the spec's
 * name); when the gate failed it is uploaded as
 * `evidence-<target>-<milestone>-failed`, so failing evidence is kept and
 * reviewable but never satisfies `require-previous` of the next milestone.
 */
function artifactName(target, milestone, passed) {
    return `evidence-${target}-${milestone}${passed ? '' : '-failed'}`;
}
function gateOf(results) {
    const failedRequired = results.filter((r) => r.required && r.status !== 'passed').map((r) => r.id);
    return { passed: failedRequired.length === 0, failedRequired };
}
/** Checks named in the warning; the evidence file and the summary list every one. */
const NAMED_IN_WARNING = 10;
/**
 * The `::warning::` for checks that did not pass but are not `required`: the gate passes and the
 * step succeeds, so without it such a check would show only in the evidence file and the summary
 * (as config-update's failures within `max-failures`). Undefined when every check passed or when
 * the gate fails anyway (its error names the required checks).
 * `2 of 5 checks did not pass, none of them required: backup (exit 3); tls (timed out)`.
 */
function toleratedChecks(results) {
    const missed = results.filter((r) => r.status !== 'passed');
    if (missed.length === 0 || missed.some((r) => r.required))
        return undefined;
    const named = missed
        .slice(0, NAMED_IN_WARNING)
        .map((r) => `${r.id} (${outcomeOf(r)})`)
        .join('; ');
    const more = missed.length > NAMED_IN_WARNING ? `; and ${missed.length - NAMED_IN_WARNING} more` : '';
    return `${missed.length} of ${results.length} check${results.length === 1 ? '' : 's'} did not pass, none of them required: ${named}${more}`;
}
function outcomeOf(r) {
    if (r.status !== 'failed')
        return r.status;
    if (r.exitCode !== undefined)
        return `exit ${r.exitCode}`;
    if (r.httpStatus !== undefined)
        return `HTTP ${r.httpStatus}`;
    return 'failed';
}
/** Why `artifact` does not count as evidence in `scope`, or undefined when it does. */
function refusalOf(artifact, scope) {
    const expires = artifact.expires_at ? Date.parse(artifact.expires_at) : Number.NaN;
    if (artifact.expired || expires <= scope.now)
        return `expired${artifact.expires_at ? ` on ${artifact.expires_at}` : ''}`;
    const run = artifact.workflow_run;
    if (!run)
        return 'GitHub names no workflow run for it';
    const repositoryId = scope.repositoryId ?? run.repository_id;
    if (repositoryId === undefined || run.head_repository_id === undefined)
        return 'its workflow run names no repository';
    if (run.repository_id !== undefined && run.repository_id !== repositoryId)
        return `its workflow run is of repository ${run.repository_id}, not this one (${repositoryId})`;
    if (run.head_repository_id !== repositoryId)
        return `from a fork: its workflow run's head repository is ${run.head_repository_id}, not this one (${repositoryId})`;
    if (run.head_branch !== scope.branch)
        return run.head_branch
            ? `from branch ${run.head_branch}, not ${scope.branch}`
            : `its workflow run names no branch, not ${scope.branch}`;
    return undefined;
}
/** Every artifact judged, newest first; `chosen` is the newest that counts. */
function selectEvidence(artifacts, scope) {
    const judged = [...artifacts]
        .sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))
        .map((artifact) => ({ artifact, refused: refusalOf(artifact, scope) }));
    return { chosen: judged.find((j) => j.refused === undefined)?.artifact, judged };
}
/** The passing artifacts of `milestone` GitHub lists, judged in `scope`. */
async function findPassingEvidence(api, target, milestone, scope) {
    const name = artifactName(target, milestone, true);
    const listed = (await api.listByName(name)).filter((a) => a.name === name);
    return { name, ...selectEvidence(listed, scope) };
}
const LISTED_REFUSALS = 10;
/** Which artifacts were found and why none counted, in one line. */
function describeRefusals(found, scope) {
    if (found.judged.length === 0)
        return `GitHub lists no artifact named ${found.name}`;
    const shown = found.judged
        .slice(0, LISTED_REFUSALS)
        .map((j) => `artifact ${j.artifact.id}${j.artifact.created_at ? ` of ${j.artifact.created_at}` : ''} ${j.refused}`);
    const more = found.judged.length - shown.length;
    const otherBranch = found.judged.some((j) => j.refused?.startsWith('from branch'));
    return [
        `GitHub lists ${found.judged.length} artifact${found.judged.length === 1 ? '' : 's'} named ${found.name}, none counts: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
        otherBranch
            ? `; require-previous-ref names another branch whose evidence counts (now ${scope.branch})`
            : '',
    ].join('');
}

// EXTERNAL MODULE: ./src/evidence/inputs.ts + 2 modules
var inputs = __webpack_require__(9985);
// EXTERNAL MODULE: ./src/core/secrets.ts
var secrets = __webpack_require__(8198);
;// CONCATENATED MODULE: ./src/evidence/redaction.ts


function secretValues(sources) {
    const out = [];
    for (const value of sources.secretInputs)
        if (value)
            out.push({ value, kind: 'secret' });
    for (const line of sources.redactLines)
        if (line.trim())
            out.push({ value: line.trim(), kind: 'secret' });
    for (const url of sources.urls ?? [])
        for (const secret of (0,secrets/* urlSecrets */.Fn)(url))
            out.push({ ...secret, kind: 'url' });
    const named = new Set(sources.redactEnv);
    for (const [name, value] of Object.entries(sources.env)) {
        if (!value)
            continue;
        if (named.has(name))
            out.push({ value, kind: 'env' });
        else if (secrets/* SECRET_NAME */.J4.test(name) && !name.startsWith('INPUT_') && !(0,secrets/* isTrivialValue */.Dy)(value))
            // The secret inputs are above; other inputs are not secrets.
            out.push({ value, kind: 'env' });
    }
    return out;
}
function buildRedactor(sources) {
    const redactor = new redact/* Redactor */.pO(redact/* TOKEN_SHAPES */.Z8);
    for (const { value, kind, spellings } of secretValues(sources))
        redactor.addLiteral(value, kind, spellings);
    for (const pattern of sources.patterns)
        redactor.addShape({ kind: 'pattern', pattern });
    return redactor;
}

;// CONCATENATED MODULE: ./src/evidence/report.ts


function artifactUrl(meta, id) {
    return meta.runUrl && id !== undefined ? `${meta.runUrl}/artifacts/${id}` : undefined;
}
function renderSummary(meta, results, file, artifact, redactions) {
    const passed = results.filter((r) => r.status === 'passed').length;
    const verdict = meta.gate.passed
        ? `✅ gate passed: ${passed}/${results.length} checks passed`
        : `❌ gate failed: required ${meta.gate.failedRequired.join(', ')} did not pass`;
    const where = !artifact
        ? 'Artifact: not uploaded (upload: false)'
        : artifact.failed
            ? `Artifact: ${artifact.name} — ❌ upload failed (see the error)`
            : `${artifact.url ? `Artifact: [${artifact.name}](${artifact.url})` : `Artifact: ${artifact.name}`}${artifact.files && artifact.files > 1
                ? ` (${artifact.files} files: this attempt's and ${artifact.files - 1} carried over from ${carriedFrom(artifact)})`
                : ''}${leftoversNote(artifact)}`;
    return [
        `### Evidence: ${meta.target} — ${meta.milestone}`,
        '',
        verdict,
        '',
        (0,summary/* summaryTable */.jb)(CHECK_COLUMNS, checkRows(results)),
        '',
        `${where} · file \`${file}\` · ${redactions} redaction${redactions === 1 ? '' : 's'}`,
        '',
    ].join('\n');
}
function carriedFrom(artifact) {
    const sources = artifact.replacedId === undefined ? [] : [`artifact ${artifact.replacedId} of an earlier attempt`];
    for (const l of artifact.leftovers ?? [])
        sources.push(`leftover artifact ${l.name} (id ${l.id})`);
    return sources.join(' and ');
}
/** What became of the leftover attempt artifacts: deleted once their files were in this one, or kept. */
function leftoversNote(artifact) {
    const leftovers = artifact.leftovers ?? [];
    if (leftovers.length === 0)
        return '';
    const deleted = leftovers.filter((l) => l.deleted).map((l) => l.name);
    const kept = leftovers.filter((l) => !l.deleted).map((l) => l.name);
    return [
        deleted.length > 0
            ? ` · ${deleted.join(', ')}, left by an earlier attempt, deleted: its files are in this artifact`
            : '',
        kept.length > 0
            ? ` · ${kept.join(', ')} could not be deleted (see the warning): its files are in this artifact too`
            : '',
    ].join('');
}
function describeCheck(check, defaultTimeoutMs, sshHost) {
    const timeout = (0,summary/* formatMs */._V)(check.timeoutMs ?? defaultTimeoutMs);
    const how = check.kind === 'http'
        ? `GET ${check.url} expecting ${check.expect ? check.expect.join(' or ') : '2xx'}`
        : `run ${sshHost ? `on ${sshHost}` : 'on the runner'}: ${check.command}`;
    return `${check.id}${check.required ? ' (required)' : ''}: ${how} (timeout ${timeout})`;
}
function renderPlan(target, milestone, checks, skipped, defaultTimeoutMs, sshHost, previous) {
    const rows = checks.map((c) => [
        c.id,
        c.title,
        c.kind === 'http' ? `GET ${c.url}` : c.command,
        sshHost && c.kind === 'run' ? sshHost : 'runner',
        (0,summary/* formatMs */._V)(c.timeoutMs ?? defaultTimeoutMs),
        c.required ? 'yes' : 'no',
    ]);
    return [
        `### Evidence (dry run): ${target} — ${milestone}`,
        '',
        `${checks.length} check${checks.length === 1 ? '' : 's'} would run; none was run, no file was written, nothing was uploaded.`,
        previous ? `require-previous: ${previous}` : '',
        '',
        (0,summary/* summaryTable */.jb)(['id', 'title', 'command / request', 'where', 'timeout', 'required'], rows),
        '',
        skipped.length > 0 ? `Not for this milestone: ${skipped.map((c) => c.id).join(', ')}` : '',
        '',
    ].join('\n');
}

;// CONCATENATED MODULE: ./src/evidence/run-http.ts


/**
 * An `http` check from the runner: one GET, the check's timeout, no retries
 * and no redirects followed, because evidence records what the endpoint
 * answered at that moment. The output is the status line, the response
 * headers and the body (all redacted later, like any output), the body decoded
 * as it streams in and read up to `MAX_CAPTURE_BYTES`, like a command's
 * output; the rest is left unread. Credentials in the URL (`https://user:pass@host/`) are
 * sent as Basic auth, as curl and browsers do (RFC 9110 §11.2, RFC 7617: the
 * userinfo, percent-decoded, joined by `:` and base64-encoded), never in the
 * request line; the flow registers them as secrets (`urlSecrets`).
 */
async function runHttp(url, options) {
    const { request } = await (0,undici/* loadUndici */.b7)();
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
        const { target, authorization } = withoutUserinfo(url);
        const res = await request(target, {
            method: 'GET',
            signal,
            headers: {
                'user-agent': 'ops-actions-evidence/0.1',
                accept: '*/*',
                ...(authorization ? { authorization } : {}),
            },
        });
        const body = new BoundedOutput();
        for await (const chunk of res.body) {
            body.add(chunk);
            if (body.full) {
                // Leaving the loop destroys the body: the rest is not read at all.
                body.stop();
                break;
            }
        }
        const headers = Object.entries(res.headers)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
        return {
            output: [`HTTP ${res.statusCode}`, ...headers, '', body.text()].join('\n'),
            httpStatus: res.statusCode,
            timedOut: false,
        };
    }
    catch (error) {
        if (timeout.aborted)
            return { output: `no answer within ${options.timeoutMs} ms`, timedOut: true };
        const e = error;
        const code = e.code ?? e.cause?.code;
        const message = e.cause?.message ?? e.message ?? String(error);
        return {
            output: '',
            timedOut: false,
            error: unreachable(url, code) ?? (code && !message.includes(code) ? `${code}: ${message}` : message),
        };
    }
}
/** Node's connect errors (errno codes, undici's connect timeout) said as what could not be reached. */
const UNREACHABLE = {
    ECONNREFUSED: 'connection refused: nothing listens there',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'no answer',
    UND_ERR_CONNECT_TIMEOUT: 'no answer',
    EHOSTUNREACH: 'no route to host',
    ENETUNREACH: 'network unreachable',
};
/**
 * One sentence naming the host and port that could not be reached, with the
 * error code, and what to check; undefined for other errors. A name DNS does
 * not know (`ENOTFOUND`, `EAI_AGAIN`) names the host only.
 */
function unreachable(url, code) {
    if (!code)
        return undefined;
    const { hostname, port, protocol } = new URL(url);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
        return `could not find host ${hostname} (${code}): check the host name in the check's URL`;
    const why = UNREACHABLE[code];
    if (!why)
        return undefined;
    const shownPort = port || (protocol === 'https:' ? '443' : '80');
    return `could not connect to ${hostname} port ${shownPort} (${code}, ${why}): check the host and port in the check's URL and that the service runs and the runner can reach it`;
}
/** The URL without its userinfo, and the Basic `Authorization` value the userinfo stood for. */
function withoutUserinfo(url) {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password)
        return { target: url };
    const pair = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    parsed.username = '';
    parsed.password = '';
    return {
        target: parsed.toString(),
        authorization: `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`,
    };
}

// EXTERNAL MODULE: ./node_modules/@actions/exec/lib/exec.js + 3 modules
var exec = __webpack_require__(1260);
;// CONCATENATED MODULE: ./src/evidence/run-local.ts


/**
 * How long the output pipes may stay open after the shell exited (or was
 * killed at the timeout): @actions/exec's `delay`. A process that escaped the
 * shell's group (`setsid daemon &`) may hold them for as long as it lives; a
 * check's output is whatever was written by then.
 */
const STREAM_GRACE_MS = 1000;
/**
 * The shell @actions/exec starts. It becomes the leader of a process group of
 * its own through `setsid` where there is one (Linux; absent on macOS, where
 * only the shell itself can be killed), tells its pid on stderr, then folds
 * stderr into stdout so both arrive in the order the command wrote them. stdin
 * is /dev/null, so a command that reads it does not wait for the timeout
 * (@actions/exec's `input` would end the pipe, but a write to a shell that
 * already exited raises an EPIPE nobody can catch).
 * `$1` is the command; `$$` stays the same pid through both `exec`s.
 */
const LAUNCHER = 'command -v setsid >/dev/null 2>&1 && exec setsid sh -c "$1"; exec sh -c "$1"';
const PREAMBLE = 'echo $$ >&2; exec </dev/null 2>&1; ';
/**
 * A `run` check on the runner, through @actions/exec: `sh -c`, stdout and
 * stderr as one stream kept up to `MAX_CAPTURE_BYTES` (`BoundedOutput`),
 * decoded across chunks. @actions/exec resolves once the shell exited and its
 * pipes closed, or `STREAM_GRACE_MS` after the exit when a process it left
 * behind holds them. At the timeout or on `signal` the shell's process group
 * is killed; once the check is over, whatever the command left in the group
 * is killed too, so a background `sleep` does not outlive its check.
 *
 * A process that left the group keeps the pipe open in this process, and
 * Node waits for open pipes before it exits: evidence's entry point ends the
 * process when the run is done (src/evidence/main.ts).
 */
async function runLocal(command, options) {
    const capture = new BoundedOutput();
    let control = '';
    let group;
    let killRequested = false;
    /** Kills the group; without one (no setsid), the shell alone while it runs. */
    const killGroup = (shellToo) => {
        if (group === undefined)
            return;
        try {
            process.kill(-group, 'SIGKILL');
        }
        catch {
            if (shellToo)
                try {
                    process.kill(group, 'SIGKILL');
                }
                catch { }
        }
    };
    const stop = () => {
        killRequested = true;
        killGroup(true);
    };
    let timedOut = false;
    const timer = setTimeout(() => {
        timedOut = true;
        stop();
    }, options.timeoutMs);
    const onAbort = () => stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
        const code = await (0,exec/* exec */.m)('sh', ['-c', LAUNCHER, 'ops-check', PREAMBLE + command], {
            cwd: options.cwd,
            env: definedOnly(options.env),
            // Nothing of the output is echoed: it is printed, redacted, with the evidence.
            silent: true,
            ignoreReturnCode: true,
            delay: STREAM_GRACE_MS,
            listeners: {
                stdout: (chunk) => capture.add(chunk),
                // stderr carries only the shell's pid, before `exec 2>&1`.
                stderr: (chunk) => {
                    if (group !== undefined)
                        return;
                    control += chunk.toString('latin1');
                    const line = /^(\d+)\n/.exec(control);
                    if (!line)
                        return;
                    group = Number(line[1]);
                    if (killRequested)
                        killGroup(true);
                },
            },
        });
        return {
            output: capture.text(),
            exitCode: timedOut || code === null ? undefined : code,
            timedOut,
            error: timedOut || code !== null ? undefined : 'the shell was killed by a signal',
        };
    }
    catch (error) {
        return { output: capture.text(), timedOut, error: error.message };
    }
    finally {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        // What the command left behind in its group goes with it (the shell has exited: its pid may be reused).
        killGroup(false);
    }
}
function definedOnly(env) {
    const out = {};
    for (const [name, value] of Object.entries(env))
        if (value !== undefined)
            out[name] = value;
    return out;
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
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
function ssh_reason_unreachable(reason, input) {
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

;// CONCATENATED MODULE: ./src/evidence/run-ssh.ts


/**
 * A `run` check on `ssh-host` through the system ssh client. The remote shell
 * folds stderr into stdout, so the order is the host's. Exit code 255 with a
 * message from the ssh client itself means ssh failed (refused, host key,
 * login): the check is an `error` carrying ssh's own reason (redacted later,
 * like every note), said as what to check in `ssh-host` when the host could
 * not be reached. 255 without one is the command's own exit code.
 */
async function runSsh(session, host, command, options) {
    try {
        const exitMarker = `OPS-EVIDENCE-EXIT-${(0,external_node_crypto_.randomBytes)(16).toString('hex')}`;
        const result = await session.run(host, boundedCommand(command, exitMarker), {
            timeoutMs: options.timeoutMs,
            signal: options.signal,
            exitMarker,
            holdStdin: true,
        });
        const reason = sshFailure(result);
        return {
            output: result.output,
            exitCode: result.timedOut || reason ? undefined : result.code,
            timedOut: result.timedOut,
            error: reason
                ? (ssh_reason_unreachable(reason, 'ssh-host') ?? `ssh could not run the check: ${reason}`)
                : undefined,
        };
    }
    catch (error) {
        return { output: '', timedOut: false, error: `ssh could not start: ${error.message}` };
    }
}
const quoted = (text) => `'${text.replace(/'/g, `'\\''`)}'`;
/**
 * Ends the check's process group `$1` (TERM, KILL 2 s later) once ssh's stdin,
 * which it reads, closes: the runner's ssh client is gone (killed at the
 * timeout, on cancel, or with the step). It ignores TERM from then on, so the
 * wrapper cannot stop it half way. Without `setsid`, `$1` is the shell alone.
 */
const WATCHER = [
    'cat >/dev/null',
    'trap "" TERM',
    'kill -TERM -"$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null',
    'sleep 2',
    'kill -KILL -"$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null',
].join('\n');
/**
 * The check's command as the host runs it: in the login shell (`$SHELL -c`,
 * as sshd would), stdin /dev/null, stderr folded into stdout, in a process
 * group of its own (`setsid`, util-linux or busybox; without it only the shell
 * can be ended). A watcher on the host holds ssh's stdin (`RunOptions.holdStdin`)
 * and kills the group when it closes, so a check cut at its timeout or by a
 * cancel does not keep running on the host, whether the runner's ssh client
 * was killed by us or by the runner. When the shell exits, what it left in its
 * group is ended (TERM, KILL 2 s later from a detached subshell that holds no
 * stream, as for local checks), and the wrapper prints
 * `<marker> <code>` (the marker holds a random per-run nonce) so the run ends
 * with the shell's own exit code even while a daemon that left the group
 * holds the stream (see `RunOptions.exitMarker`). `kill -TERM -<pgid>` is the
 * one form bash, dash and busybox ash all take.
 */
function boundedCommand(command, marker) {
    return [
        'exec 3<&0 </dev/null 2>&1',
        'if command -v setsid >/dev/null 2>&1; then s=setsid; else s=; fi',
        `$s "\${SHELL:-/bin/sh}" -c ${quoted(command)} 3<&- & p=$!`,
        `$s sh -c ${quoted(WATCHER)} ops-check-watcher "$p" <&3 >/dev/null 2>&1 & w=$!`,
        'exec 3<&-',
        'wait "$p"; c=$?',
        '[ -n "$s" ] && kill -TERM -"$p" 2>/dev/null && (sleep 2; kill -KILL -"$p") </dev/null >/dev/null 2>&1 &',
        'kill -TERM -"$w" 2>/dev/null || kill -TERM "$w" 2>/dev/null',
        `printf '%s %s\\n' ${marker} "$c"`,
        'exit "$c"',
    ].join('\n');
}

;// CONCATENATED MODULE: ./src/evidence/upload.ts



/** The upload failed because the name is taken; `message` says by what. */
class NameTakenError extends Error {
    constructor(message) {
        super(message);
        this.name = 'NameTakenError';
    }
}
const MIB = 1024 * 1024;
/** The slowest transfer we wait for: below it the blob upload counts as stalled. */
const FLOOR_BYTES_PER_SECOND = 128 * 1024;
/** Leftover attempt artifacts folded into one upload; more wait for the next one (each run leaves one at most). */
const MAX_LEFTOVERS = 2;
/**
 * Calls of the longest upload, a re-run's carry-over: the list of the run's
 * artifacts and, per leftover, its signed URL, blob read, list and delete; the
 * refused create, list by name, list by id, signed URL, blob read, the attempt
 * artifact (create, blob write, finalize), list and delete, create, blob write,
 * finalize, a confirming list, and the attempt artifact's list and delete.
 */
const LEFTOVER_CALLS = 1 + 4 * MAX_LEFTOVERS;
const MOST_CALLS = LEFTOVER_CALLS + 16;
/**
 * The bound of the whole upload, in ms: every call of the longest upload
 * allowed one request timeout (OPS_ACTIONS_REQUEST_TIMEOUT), plus three times
 * the bytes at the floor rate (one download, two uploads). A first attempt
 * (`rerun` false) has no leftovers to look for: 16 calls; a re-run 25. With the
 * default 30 s a Markdown file gets 8 min 3 s, 12 min 33 s in a re-run. Past it
 * the upload process is killed and the step fails with the evidence file written.
 */
function uploadBoundMs(bytes, requestTimeoutMs, rerun) {
    return (rerun ? MOST_CALLS : MOST_CALLS - LEFTOVER_CALLS) * requestTimeoutMs + 3 * transferMs(bytes);
}
/**
 * ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS, in ms: how long the blob upload may go
 * without progress before @actions/artifact gives it up (its default is 5 min;
 * actions/toolkit packages/artifact/src/internal/shared/config.ts): the request
 * timeout plus the bytes at the floor rate.
 */
function blobTimeoutMs(bytes, requestTimeoutMs) {
    return requestTimeoutMs + transferMs(bytes);
}
function transferMs(bytes) {
    return Math.ceil((Math.max(bytes, MIB / 8) / FLOOR_BYTES_PER_SECOND) * 1000);
}
/** `retention-days` capped at the repository's maximum (GITHUB_RETENTION_DAYS), as @actions/artifact does. */
function expiryOf(retentionDays, env, now = new Date()) {
    if (retentionDays === undefined)
        return { expiresAt: undefined, cappedTo: undefined };
    const max = Number.parseInt(env.GITHUB_RETENTION_DAYS ?? '', 10);
    const days = Number.isInteger(max) && max > 0 && max < retentionDays ? max : retentionDays;
    return {
        expiresAt: new Date(now.getTime() + days * 86_400_000),
        cappedTo: days === retentionDays ? undefined : days,
    };
}
/**
 * A CreateArtifact refused because the name is taken in the run. The official
 * client reports it as "Failed to CreateArtifact: Received non-retryable error:
 * Failed request: (409) Conflict: an artifact with this name already exists on
 * the workflow run" (internal/shared/artifact-twirp-client.ts).
 */
function isNameConflict(error) {
    const message = error instanceof Error ? error.message : String(error);
    return /^Failed to CreateArtifact:/.test(message) && /\(409\)/.test(message);
}
/** An error the official client raised from FinalizeArtifact (its messages name the Twirp method). */
function isFinalizeFailure(error) {
    return error instanceof Error && /^Failed to FinalizeArtifact:/.test(error.message);
}
/**
 * This attempt's file first, then every earlier file once; an earlier file with
 * this attempt's name but other content is renamed `<name>.earlier-<n>.<ext>`.
 */
function carryOver(own, earlier, same) {
    const out = [own];
    for (const file of earlier) {
        if (out.some((f) => f.name === file.name && same(f, file)))
            continue;
        let name = file.name;
        for (let n = 1; out.some((f) => f.name === name); n++)
            name = withSuffix(file.name, `earlier-${n}`);
        out.push({ ...file, name });
    }
    return out;
}
function withSuffix(name, suffix) {
    const dot = name.lastIndexOf('.');
    return dot > 0 ? `${name.slice(0, dot)}.${suffix}${name.slice(dot)}` : `${name}.${suffix}`;
}
async function uploadWithCarryOver(client, req, note) {
    const own = { name: basename(req.file), path: req.file };
    const leftovers = await findLeftovers(client, req, own, note);
    const fromLeftovers = leftovers.flatMap((l) => l.files);
    let uploaded;
    try {
        const files = carryOver(own, fromLeftovers, sameContent);
        writeBack(req.outputDir, files.slice(1));
        uploaded = await uploadFiles(client, req, files, undefined);
    }
    catch (error) {
        if (!isNameConflict(error))
            throw error;
    }
    uploaded ??= await replaceName(client, req, own, fromLeftovers, note);
    return { ...uploaded, leftovers: await deleteLeftovers(client, leftovers, uploaded, note) };
}
/** The name is held by a finalized artifact of the run: its files and `extra` go in with this attempt's. */
async function replaceName(client, req, own, extra, note) {
    const listed = await findListed(client, req.name);
    if (!listed) {
        throw new NameTakenError(`the name ${req.name} is taken in this workflow run by an artifact that was never finalized (an earlier upload was cut after the service created it); the service lists, downloads and deletes only finalized artifacts, so no attempt of this run can upload under that name: the evidence file is written, and a new workflow run can upload it`);
    }
    const downloadDir = mkdtempSync(join(req.tempDir, 'earlier-'));
    await client.downloadArtifact(listed.id, { path: downloadDir });
    const earlier = filesUnder(downloadDir);
    const files = carryOver(own, [...earlier, ...extra], sameContent);
    const written = writeBack(req.outputDir, files.slice(1));
    const replaced = { id: listed.id, createdAt: listed.createdAt?.toISOString() };
    note(`artifact ${req.name} (id ${listed.id}${listed.createdAt ? `, ${listed.createdAt.toISOString()}` : ''}) already holds evidence of this run: its ${plural(earlier.length, 'file')} (${earlier.map((f) => f.name).join(', ')}) ${written.length > 0 ? `are written back to ${req.outputDir} and ` : ''}go into the new artifact with this attempt's file`);
    // Every file is held by a finalized artifact before the earlier one is deleted.
    const holding = `${req.name}-attempt-${req.attempt}`;
    let held;
    try {
        held = await uploadFiles(client, { ...req, name: holding }, files, replaced);
    }
    catch (error) {
        if (!isNameConflict(error))
            throw error;
        throw new NameTakenError(`the name ${holding} is taken in this workflow run too, so this attempt's evidence could not be put beside artifact ${listed.id} before replacing it; artifact ${listed.id} is kept as it was`);
    }
    // Said before the delete: if the process is killed from here on, the log names where the files are.
    note(`every file is in artifact ${holding} (id ${held.id}) while ${req.name} is replaced`);
    await client.deleteArtifact(req.name);
    let uploaded;
    try {
        uploaded = await uploadFiles(client, req, files, replaced);
    }
    catch (error) {
        const why = error instanceof Error ? error.message.split('\n')[0].trim() : String(error);
        throw new HeldError(`the new artifact ${req.name} could not be uploaded after the earlier one (id ${listed.id}) was deleted (${why}); every file of this run's evidence (${files.map((f) => f.name).join(', ')}) is in artifact ${holding} (id ${held.id}), and a re-run uploads ${req.name} again`);
    }
    try {
        await client.deleteArtifact(holding);
    }
    catch (error) {
        note(`artifact ${holding} (id ${held.id}) holds the same files as ${req.name} and could not be deleted: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    return uploaded;
}
/**
 * The run's `<name>-attempt-<k>` artifacts of earlier attempts, oldest attempt first, downloaded,
 * that hold an evidence file of this target and milestone (one of another milestone named
 * `<milestone>-attempt-<k>` holds none). A failed list or download leaves that artifact alone.
 */
async function findLeftovers(client, req, own, note) {
    if (!(Number(req.attempt) > 1))
        return [];
    const pattern = new RegExp(`^${escapeRegExp(req.name)}-attempt-(\\d+)$`);
    let candidates;
    try {
        candidates = (await client.listArtifacts()).artifacts
            .map((listed) => ({ listed, attempt: Number(pattern.exec(listed.name)?.[1]) }))
            .filter((c) => Number.isSafeInteger(c.attempt) && c.attempt < Number(req.attempt))
            .sort((a, b) => a.attempt - b.attempt);
    }
    catch (error) {
        note(`the run's artifacts could not be listed, so no leftover ${req.name}-attempt-<n> is looked for: ${firstLine(error)}`);
        return [];
    }
    if (candidates.length > MAX_LEFTOVERS)
        note(`${plural(candidates.length, 'leftover artifact')} ${candidates.map((c) => c.listed.name).join(', ')}: the ${MAX_LEFTOVERS} oldest are taken in now, the rest by a later upload`);
    const ofThisEvidence = sameEvidence(own.name);
    const found = [];
    for (const { listed } of candidates.slice(0, MAX_LEFTOVERS)) {
        const dir = mkdtempSync(join(req.tempDir, 'leftover-'));
        try {
            await client.downloadArtifact(listed.id, { path: dir });
        }
        catch (error) {
            note(`leftover artifact ${listed.name} (id ${listed.id}) could not be downloaded, so it is kept: ${firstLine(error)}`);
            continue;
        }
        const files = filesUnder(dir);
        if (files.some((f) => ofThisEvidence(f.name)))
            found.push({ listed, files });
    }
    return found;
}
/** Each leftover, its files now all in `uploaded` (finalized), deleted; one that cannot be is said and kept. */
async function deleteLeftovers(client, leftovers, uploaded, note) {
    const out = [];
    for (const { listed, files } of leftovers) {
        let deleted = true;
        try {
            await client.deleteArtifact(listed.name);
        }
        catch (error) {
            deleted = false;
            note(`leftover artifact ${listed.name} (id ${listed.id}) holds only files that are in ${uploaded.name} (id ${uploaded.id}) now, and could not be deleted: ${firstLine(error)}`);
        }
        out.push({ name: listed.name, id: listed.id, files: files.map((f) => f.name), deleted });
    }
    return out;
}
/**
 * Whether a file name is an evidence file of the same target and milestone as `own`
 * (`<stamp>-<target>-<milestone>[-<n>].md`, evidence-file.ts and flow.ts's linkUnique).
 */
function sameEvidence(own) {
    const stamp = /^\d{8}T\d{6}Z/;
    const core = own.replace(stamp, '').replace(/(-\d+)?\.md$/, '');
    if (core === own)
        return (name) => name === own;
    const pattern = new RegExp(`^\\d{8}T\\d{6}Z${escapeRegExp(core)}(-\\d+)?\\.md$`);
    return (name) => pattern.test(name);
}
function firstLine(error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
}
/** The new upload of the name failed once the earlier artifact was deleted; the attempt artifact holds every file. */
class HeldError extends Error {
    constructor(message) {
        super(message);
        this.name = 'HeldError';
    }
}
async function uploadFiles(client, req, files, replaced) {
    // One root for every file: this attempt's file and the earlier ones, staged side by side.
    const root = files.length === 1 ? dirname(files[0].path) : mkdtempSync(join(req.tempDir, 'staged-'));
    const paths = files.map((f) => {
        if (files.length === 1)
            return f.path;
        const path = join(root, f.name);
        mkdirSync(dirname(path), { recursive: true });
        copyFileSync(f.path, path);
        return path;
    });
    const options = req.retentionDays === undefined ? {} : { retentionDays: req.retentionDays };
    const names = files.map((f) => f.name);
    try {
        const res = await client.uploadArtifact(req.name, paths, root, options);
        if (res.id === undefined)
            throw new Error('the artifact service answered without an artifact id');
        return {
            id: res.id,
            name: req.name,
            size: res.size ?? 0,
            digest: res.digest ? `sha256:${res.digest}` : undefined,
            files: names,
            replaced,
            leftovers: [],
        };
    }
    catch (error) {
        // Done, its answer lost: the artifact is listed (only finalized ones are).
        if (!isFinalizeFailure(error))
            throw error;
        const listed = await findListed(client, req.name).catch(() => undefined);
        if (!listed || (replaced && listed.id === replaced.id))
            throw error;
        return {
            id: listed.id,
            name: req.name,
            size: listed.size,
            digest: listed.digest,
            files: names,
            replaced,
            leftovers: [],
        };
    }
}
async function findListed(client, name) {
    try {
        return (await client.getArtifact(name)).artifact;
    }
    catch (error) {
        // ArtifactNotFoundError (internal/shared/errors.ts): nothing finalized of that name in the run.
        if (error instanceof Error && error.name === 'ArtifactNotFoundError')
            return undefined;
        throw error;
    }
}
function filesUnder(dir) {
    const out = [];
    const walk = (at) => {
        for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
            const path = join(at, entry.name);
            if (entry.isDirectory())
                walk(path);
            else if (entry.isFile())
                out.push({ name: relative(dir, path).split('\\').join('/'), path });
        }
    };
    walk(dir);
    return out;
}
function sameContent(a, b) {
    return statSync(a.path).size === statSync(b.path).size && readFileSync(a.path).equals(readFileSync(b.path));
}
/** Earlier top-level files go next to this attempt's file, so the workspace holds them even if the new upload fails. */
function writeBack(dir, files) {
    const written = [];
    for (const file of files) {
        if (file.name.includes('/'))
            continue;
        const path = join(dir, file.name);
        if (existsSync(path))
            continue;
        copyFileSync(file.path, path);
        written.push(file.name);
    }
    return written;
}
function plural(n, word) {
    return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// EXTERNAL MODULE: external "node:readline"
var external_node_readline_ = __webpack_require__(481);
// EXTERNAL MODULE: external "node:url"
var external_node_url_ = __webpack_require__(3136);
;// CONCATENATED MODULE: ./src/evidence/upload-process.ts




class UploadFailed extends Error {
    nameTaken;
    timedOut;
    constructor(message, flags = {}) {
        super(message);
        this.name = 'UploadFailed';
        this.nameTaken = flags.nameTaken ?? false;
        this.timedOut = flags.timedOut ?? false;
    }
}
/** dist/evidence/index.js → dist/evidence/upload-worker/index.js */
function bundledWorkerPath() {
    return (0,external_node_path_.join)((0,external_node_path_.dirname)((0,external_node_url_.fileURLToPath)(import.meta.url)), 'upload-worker', 'index.js');
}
/** Resolves with the upload, or rejects with UploadFailed (name taken, timed out, or the client's error). */
function uploadInProcess(options) {
    const env = {};
    for (const [name, value] of Object.entries(options.env)) {
        // Not the action's inputs, nor the runner's files: the worker only uploads.
        if (name.startsWith('INPUT_') || /^GITHUB_(OUTPUT|STATE|ENV|PATH|STEP_SUMMARY)$/.test(name))
            continue;
        env[name] = value;
    }
    env.ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS = String(options.blobTimeoutMs);
    env.OPS_EVIDENCE_UPLOAD = JSON.stringify(options.request);
    const child = (0,external_node_child_process_.spawn)(process.execPath, [options.workerPath ?? bundledWorkerPath()], {
        env,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new Promise((resolve, reject) => {
        let outcome;
        let timedOut = false;
        const stderr = [];
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
        }, options.deadlineMs);
        const cancel = () => child.kill('SIGKILL');
        options.signal?.addEventListener('abort', cancel, { once: true });
        (0,external_node_readline_.createInterface)({ input: child.stdout }).on('line', (line) => relay(line, options));
        (0,external_node_readline_.createInterface)({ input: child.stderr }).on('line', (line) => {
            stderr.push(line);
            if (stderr.length > 20)
                stderr.shift();
        });
        child.on('message', (message) => {
            if (message.kind === 'note')
                options.onNote(message.line);
            else
                outcome = message;
        });
        child.on('error', (error) => {
            clearTimeout(timer);
            reject(new UploadFailed(`the upload process did not start: ${error.message}`));
        });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            options.signal?.removeEventListener('abort', cancel);
            if (options.signal?.aborted)
                reject(options.signal.reason);
            else if (timedOut) {
                reject(new UploadFailed(`not done within ${Math.round(options.deadlineMs / 1000)} s, the upload's bound`, {
                    timedOut: true,
                }));
            }
            else if (outcome?.kind === 'done')
                resolve(outcome.uploaded);
            else if (outcome?.kind === 'failed')
                reject(new UploadFailed(outcome.message, { nameTaken: outcome.nameTaken }));
            else
                reject(new UploadFailed(`the upload process ended (${signal ?? `exit ${code}`}) without an outcome${stderr.length > 0 ? `: ${stderr.at(-1)}` : ''}`));
        });
    });
}
/** The client's own lines: masks go to the caller, debug lines are dropped, the rest is logged as plain text. */
function relay(line, options) {
    const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
    if (!command) {
        if (line.trim())
            options.onLine(line);
        return;
    }
    const [, name, value] = command;
    // @actions/core escapes a command's data (toCommandValue/escapeData in packages/core/src/command.ts).
    if (name === 'add-mask')
        options.onSecret(unescapeData(value));
    else if (name === 'warning' || name === 'error' || name === 'notice')
        options.onLine(`${name}: ${value}`);
}
function unescapeData(value) {
    return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

;// CONCATENATED MODULE: ./src/evidence/workspace-paths.ts




/**
 * The two paths action-evidence takes from its inputs, checked as a user
 * would want them named: `config` (the checks file) and `output-dir` (where
 * the evidence file goes). Every file-system failure becomes one InputError
 * naming the input and saying in words what is wrong, never an errno code.
 */
/** What a failed file-system call means, in words (codes as in errno(3)). */
function fsProblem(error) {
    switch (error.code) {
        case 'EACCES':
        case 'EPERM':
            return 'permission denied';
        case 'EROFS':
            return 'the file system is read-only';
        case 'ENOSPC':
        case 'EDQUOT':
            return 'no space left on the device';
        case 'ENOTDIR':
            return 'a part of the path is a file, not a directory';
        case 'EISDIR':
            return 'it is a directory';
        case 'ENOENT':
            return 'a part of the path does not exist';
        case 'ELOOP':
            return 'its symbolic links loop';
        case 'ENAMETOOLONG':
            return 'the path is too long';
        default:
            return 'the system refused it';
    }
}
const absolute = (workspace, path) => ((0,external_node_path_.isAbsolute)(path) ? path : (0,external_node_path_.resolve)(workspace, path));
/** Far above any real checks file, far below what would strain the runner. */
const MAX_CHECKS_FILE_BYTES = 1024 * 1024;
/** The checks file's text; `configPath` is relative to the workspace or absolute. */
function readChecksText(workspace, configPath) {
    const path = absolute(workspace, configPath);
    const shown = JSON.stringify(configPath);
    if (!(0,external_node_fs_.existsSync)(path))
        throw new errors/* InputError */.dz('config', (0,core_message/* msg */.ab) `names ${shown}, which does not exist in the workspace`);
    const stat = (0,external_node_fs_.statSync)(path);
    if (stat.isDirectory())
        throw new errors/* InputError */.dz('config', (0,core_message/* msg */.ab) `names ${shown}, which is a directory; give the path of the checks file (e.g. .github/evidence.yml)`);
    // A FIFO or device would block the read or never end.
    if (!stat.isFile())
        throw new errors/* InputError */.dz('config', (0,core_message/* msg */.ab) `names ${shown}, which is not a regular file; give the path of the checks file`);
    if (stat.size > MAX_CHECKS_FILE_BYTES)
        throw new errors/* InputError */.dz('config', (0,core_message/* msg */.ab) `names ${shown}, which is ${stat.size} bytes; a checks file may be at most ${MAX_CHECKS_FILE_BYTES} bytes`);
    try {
        return (0,external_node_fs_.readFileSync)(path, 'utf8');
    }
    catch (error) {
        throw new errors/* InputError */.dz('config', (0,core_message/* msg */.ab) `names ${shown}, which cannot be read (${fsProblem(error)})`);
    }
}
/**
 * Before any check runs: `outputDir` is a directory, or can be made as one,
 * and a file can be written in it (a directory made and removed at once in
 * the nearest part that exists, so a read-only mount or missing permission
 * shows now, also for root). Returns the absolute directory.
 */
function checkOutputDir(workspace, outputDir) {
    const dir = absolute(workspace, outputDir);
    const shown = JSON.stringify(outputDir);
    let existing = dir;
    while (!(0,external_node_fs_.existsSync)(existing) && (0,external_node_path_.dirname)(existing) !== existing)
        existing = (0,external_node_path_.dirname)(existing);
    if (!(0,external_node_fs_.statSync)(existing).isDirectory()) {
        throw new errors/* InputError */.dz('output-dir', existing === dir
            ? `names ${shown}, which is a file; give a directory for the evidence files (default docs/evidence)`
            : `names ${shown}, but ${JSON.stringify(existing)} on its path is a file, so no directory can be made there; give a directory`);
    }
    try {
        (0,external_node_fs_.rmdirSync)((0,external_node_fs_.mkdtempSync)((0,external_node_path_.join)(existing, '.evidence-write-check-')));
    }
    catch (error) {
        throw new errors/* InputError */.dz('output-dir', (0,core_message/* msg */.ab) `names ${shown}, where no file can be written (${fsProblem(error)})`);
    }
    return dir;
}
/**
 * Makes `dir` one level at a time (a recursive mkdir spins on some virtual
 * file systems such as /proc); a failure is an InputError naming `output-dir`.
 */
function makeOutputDir(dir, outputDir) {
    const missing = [];
    for (let at = dir; !(0,external_node_fs_.existsSync)(at) && (0,external_node_path_.dirname)(at) !== at; at = (0,external_node_path_.dirname)(at))
        missing.unshift(at);
    try {
        for (const part of missing)
            (0,external_node_fs_.mkdirSync)(part);
    }
    catch (error) {
        if ((0,external_node_fs_.existsSync)(dir) && (0,external_node_fs_.statSync)(dir).isDirectory())
            return; // made meanwhile by another step
        throw new errors/* InputError */.dz('output-dir', (0,core_message/* msg */.ab) `names ${JSON.stringify(outputDir)}, which cannot be made (${fsProblem(error)})`);
    }
}

;// CONCATENATED MODULE: ./src/evidence/flow.ts


























/** observe (checks file, previous evidence) → plan (checks for this milestone) → execute → report. */
async function runEvidence(settings, ctx) {
    const env = ctx.env;
    const workspace = env.GITHUB_WORKSPACE || process.cwd();
    const file = await ctx.log.step('checks-file', { file: settings.configPath }, () => readChecksFile(workspace, settings.configPath));
    if (file.milestones && !file.milestones.includes(settings.milestone)) {
        throw new errors/* InputError */.dz('milestone', (0,core_message/* msg */.ab) `must be one of the milestones of ${settings.configPath}: ${file.milestones.join(', ')}; got ${JSON.stringify(settings.milestone)}`);
    }
    // Our wording is written as is; what came from outside is redacted field by field (redacted-data.ts).
    // A check's status and kind are our words, compared and counted by the rendering.
    const outside = (data) => redactedData(data, ctx.secrets.redactor, ['status', 'kind']);
    const target = settings.target ?? file.target;
    if (!target)
        throw new errors/* InputError */.dz('target', (0,core_message/* msg */.ab) `is required: ${settings.configPath} has no \`target\``);
    const dir = checkOutputDir(workspace, settings.outputDir);
    // Everything the redactor knows is also masked by the runner, before any line is printed.
    const sources = {
        secretInputs: inputs/* SECRET_INPUTS */.p.filter((name) => name !== 'redact').map((name) => ctx.inputs.raw(name)),
        redactLines: settings.redact,
        env,
        redactEnv: file.redact.env,
        patterns: file.redact.patterns,
        urls: file.checks.flatMap((c) => (c.kind === 'http' ? [c.url] : [])),
    };
    for (const { value, kind, spellings } of secretValues(sources))
        ctx.secrets.add(value, kind, spellings);
    for (const pattern of file.redact.patterns)
        ctx.secrets.redactor.addShape({ kind: 'pattern', pattern: new RegExp(pattern.source, 'g') });
    const redactor = buildRedactor(sources);
    const selected = file.checks.filter((c) => appliesAt(c, settings.milestone, file.milestones));
    const skipped = file.checks.filter((c) => !selected.includes(c));
    const sshLabel = settings.ssh
        ? `${settings.ssh.host.user ? `${settings.ssh.host.user}@` : ''}${settings.ssh.host.host}:${settings.ssh.host.port}`
        : undefined;
    let previous;
    if (settings.requirePrevious) {
        if (!file.milestones)
            throw new errors/* InputError */.dz('require-previous', (0,core_message/* msg */.ab) `needs a \`milestones\` list in ${settings.configPath} to know the previous milestone`);
        previous = previousMilestone(settings.milestone, file.milestones);
    }
    if (settings.dryRun) {
        for (const check of selected)
            ctx.info((0,core_message/* msg */.ab) `would run ${describeCheck(check, settings.timeoutMs, sshLabel)}`);
        for (const check of skipped)
            ctx.info((0,core_message/* msg */.ab) `not for ${settings.milestone}: ${check.id}`);
        const gateNote = settings.requirePrevious
            ? previous
                ? `would require a passing artifact ${artifactName(target, previous, true)} of branch ${settings.previousRef}`
                : `${settings.milestone} is the first milestone: nothing before it to require`
            : undefined;
        if (gateNote)
            ctx.info(gateNote);
        ctx.log.write({
            step: 'plan',
            outcome: 'planned',
            ids: { target, milestone: settings.milestone, checks: selected.length },
        });
        await ctx.writeSummary(renderPlan(target, settings.milestone, selected, skipped, settings.timeoutMs, sshLabel, gateNote));
        return;
    }
    if (settings.requirePrevious && previous)
        await requirePassingEvidence(settings, ctx, target, previous);
    const started = new Date();
    const progress = new Progress(selected.length, (line) => ctx.info(line));
    const session = settings.ssh && selected.some((c) => c.kind === 'run')
        ? await SshSession.open({ key: settings.ssh.key, knownHosts: settings.ssh.knownHosts ?? '' }, env.RUNNER_TEMP || '/tmp')
        : undefined;
    const checkEnv = childEnv(env);
    const cancel = ctx.cancellation.signal;
    let finishedBeforeCancel = 0;
    let results;
    try {
        cancel.throwIfAborted();
        results = await collect_collect(selected, {
            redactor,
            defaultTimeoutMs: settings.timeoutMs,
            maxLines: settings.maxLines,
            run: async (check, timeoutMs) => {
                const signal = cancel;
                const raw = check.kind === 'http'
                    ? await runHttp(check.url, { timeoutMs, signal })
                    : session && settings.ssh
                        ? await runSsh(session, settings.ssh.host, check.command, { timeoutMs, signal })
                        : await runLocal(check.command, { timeoutMs, cwd: workspace, env: checkEnv, signal });
                // One wording for every kind of check the cancel cut, as the step's own `cancelled (SIGINT): …`.
                if (!cancel.aborted)
                    return raw;
                return {
                    output: raw.output,
                    timedOut: false,
                    error: `cancelled (${(0,cancellation/* cancelSignalName */.EJ)(cancel)}): the check was stopped`,
                };
            },
            onDone: (r) => {
                if (!cancel.aborted)
                    finishedBeforeCancel++;
                ctx.log.write({
                    step: 'check',
                    outcome: r.status === 'passed' ? 'ok' : 'failed',
                    durationMs: Math.round(r.durationMs),
                    ids: { check: r.id, status: r.status, exit: r.exitCode, http: r.httpStatus },
                });
                progress.done({
                    id: r.id,
                    outcome: r.status,
                    status: r.kind === 'http' ? r.httpStatus : r.exitCode,
                    ms: r.durationMs,
                    note: (0,core_message/* lineText */.oZ)(r.note),
                });
            },
        });
    }
    finally {
        await session?.close();
    }
    if (cancel.aborted) {
        // Checks cut by the signal say nothing about the target: no evidence file, nothing uploaded.
        const detail = `${finishedBeforeCancel} of ${selected.length} check(s) finished; no evidence file was written and nothing was uploaded`;
        await ctx.writeSummary(`### Evidence ${outside(target)} / ${outside(settings.milestone)}: cancelled\n\n**Cancelled:** ${detail}.\n`, { fromRedactedData: true });
        throw new cancellation/* CancelledError */.cc((0,cancellation/* cancelSignalName */.EJ)(cancel), detail);
    }
    const gate = gateOf(results);
    const meta = {
        target,
        milestone: settings.milestone,
        time: started,
        repository: env.GITHUB_REPOSITORY,
        commit: env.GITHUB_SHA,
        ref: env.GITHUB_REF,
        runUrl: env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
            ? `${(env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
            : undefined,
        checksFile: settings.configPath,
        ranOn: sshLabel ?? 'the runner',
        gate,
    };
    let path = (0,external_node_path_.join)(dir, evidenceFileName(meta));
    await ctx.log.step('evidence.write', { file: shownPath(workspace, path) }, async () => {
        // The counts are final once every output and command went through the redactor.
        const markdown = renderEvidence(outside(meta), outside(results), { ...redactor.counts });
        makeOutputDir(dir, settings.outputDir);
        // Written beside and linked into place: a step stopped mid-write leaves no half file,
        // and link never replaces a file, so two runs in the same second keep both (-2, -3 …).
        const partial = `${path}.${process.pid}.partial`;
        try {
            (0,external_node_fs_.writeFileSync)(partial, markdown, 'utf8');
            path = linkUnique(partial, path);
        }
        catch (error) {
            throw new errors/* InputError */.dz('output-dir', (0,core_message/* msg */.ab) `names ${JSON.stringify(settings.outputDir)}, where the evidence file cannot be written (${fsProblem(error)})`);
        }
        finally {
            (0,external_node_fs_.rmSync)(partial, { force: true });
        }
    });
    const shown = shownPath(workspace, path);
    const redactions = redactor.total;
    ctx.info((0,core_message/* msg */.ab) `evidence written to ${shown} (${redactions} redactions)`);
    const passed = results.filter((r) => r.status === 'passed').length;
    // Set before the upload: a failed upload still leaves the written evidence for later steps.
    ctx.setOwnOutput('file', shown);
    ctx.setOwnOutput('passed', String(passed));
    ctx.setOwnOutput('failed', String(results.length - passed));
    ctx.setOwnOutput('status', gate.passed ? 'passed' : 'failed');
    ctx.setOwnOutput('redactions', String(redactions));
    let artifact;
    let uploadFailure;
    if (settings.upload) {
        const name = artifactName(target, settings.milestone, gate.passed);
        try {
            const uploaded = await ctx.log.step('artifact.upload', { artifact: name }, () => uploadArtifact(ctx, path, name, dir, settings.retentionDays));
            artifact = {
                id: uploaded.id,
                name,
                url: artifactUrl(meta, uploaded.id),
                files: uploaded.files.length,
                replacedId: uploaded.replaced?.id,
                leftovers: uploaded.leftovers.map(({ name, id, deleted }) => ({ name, id, deleted })),
            };
            const from = (0,core_message/* joinMessages */.hw)([
                ...(uploaded.replaced ? [(0,core_message/* msg */.ab) `artifact ${uploaded.replaced.id}`] : []),
                ...uploaded.leftovers.map((l) => (0,core_message/* msg */.ab) `leftover artifact ${l.name} (id ${l.id})`),
            ], ' and ');
            ctx.info((0,core_message/* msg */.ab) `uploaded artifact ${name} (id ${uploaded.id}, ${uploaded.size} bytes, ${uploaded.files.length === 1 ? (0,core_message/* own */.ZV)('1 file') : (0,core_message/* msg */.ab) `${uploaded.files.length} files: this attempt's and ${uploaded.files.length - 1} carried from ${from}`})`);
            for (const leftover of uploaded.leftovers) {
                if (leftover.deleted)
                    ctx.info(`deleted leftover artifact ${leftover.name} (id ${leftover.id}), left by an earlier attempt of this run: its ${leftover.files.length === 1 ? 'file is' : `${leftover.files.length} files are`} in ${name} (id ${uploaded.id})`);
                ctx.log.write({
                    step: 'artifact.leftover',
                    outcome: leftover.deleted ? 'ok' : 'failed',
                    ids: { artifact: leftover.name, id: leftover.id, into: uploaded.id, files: leftover.files.length },
                });
            }
            ctx.setOwnOutput('artifact-id', String(uploaded.id));
            // Our wording as is, the user's target and milestone redacted (a name with a secret in it).
            ctx.setOwnOutput('artifact-name', artifactName(outside(target), outside(settings.milestone), gate.passed));
        }
        catch (error) {
            if ((0,cancellation/* isCancelled */.mm)(error)) {
                const failed = { id: undefined, name, url: undefined, failed: true };
                const [n, s] = outside([name, shown]);
                await ctx.writeSummary(`${renderSummary(outside(meta), outside(results), s, outside(failed), redactions)}\n**Cancelled** during the upload of ${n}: ${s} is written; a re-run uploads it.\n`, { fromRedactedData: true });
                throw error;
            }
            uploadFailure =
                error instanceof errors/* StepError */.zg
                    ? error
                    : new errors/* StepError */.zg('artifact.upload', (0,core_message/* msg */.ab) `upload artifact ${name}`, error);
            artifact = { id: undefined, name, url: undefined, failed: true };
        }
    }
    await ctx.writeSummary(renderSummary(outside(meta), outside(results), outside(shown), outside(artifact), redactions), { fromRedactedData: true });
    const tolerated = toleratedChecks(results);
    if (tolerated)
        ctx.warning(tolerated);
    if (!gate.passed) {
        const required = `required check${gate.failedRequired.length === 1 ? '' : 's'} ${gate.failedRequired.join(', ')} did not pass`;
        throw new errors/* StepError */.zg('gate', (0,core_message/* msg */.ab) `pass milestone ${settings.milestone} of ${target}`, new Error(uploadFailure
            ? `${required}; the evidence is in ${shown}, and its upload failed: ${uploadFailure.message}`
            : `${required}; the evidence is in ${shown}${artifact ? ` and artifact ${artifact.name}` : ''}`));
    }
    if (uploadFailure)
        throw uploadFailure;
}
/**
 * The upload, in its own process killed at the bound (see `uploadBoundMs`):
 * past it the step fails naming the artifact, with the evidence file written.
 */
async function uploadArtifact(ctx, file, name, outputDir, retentionDays) {
    const env = ctx.env;
    const runtimeToken = env.ACTIONS_RUNTIME_TOKEN;
    if (!env.ACTIONS_RESULTS_URL || !runtimeToken) {
        throw new errors/* StepError */.zg('artifact.upload', (0,core_message/* msg */.ab) `upload artifact ${name}`, new Error('ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set: artifacts can be uploaded only from a GitHub Actions job (set upload: false elsewhere)'));
    }
    ctx.secrets.add(runtimeToken, 'secret');
    const { cappedTo } = expiryOf(retentionDays, env);
    if (cappedTo !== undefined)
        ctx.warning((0,core_message/* msg */.ab) `retention-days ${retentionDays} is above the repository's maximum; the artifact is kept ${cappedTo} days`);
    const requestTimeoutMs = (0,http/* requestTimeoutFromEnv */.Mb)(env);
    const bytes = (0,external_node_fs_.statSync)(file).size;
    const attempt = env.GITHUB_RUN_ATTEMPT || '1';
    const deadlineMs = uploadBoundMs(bytes, requestTimeoutMs, attempt !== '1');
    const tempDir = (0,external_node_fs_.mkdtempSync)((0,external_node_path_.join)(env.RUNNER_TEMP || (0,external_node_os_.tmpdir)(), 'evidence-upload-'));
    try {
        return await uploadInProcess({
            request: { file, name, retentionDays, outputDir, tempDir, attempt },
            deadlineMs,
            blobTimeoutMs: blobTimeoutMs(bytes, requestTimeoutMs),
            env,
            signal: ctx.cancellation.signal,
            onLine: (line) => ctx.info((0,core_message/* msg */.ab) `  ${line}`),
            // @actions/artifact masks a signed URL's `sig` and its URI encoding (maskSigUrl in
            // internal/shared/util.ts): the runner derives the encoding itself, so only the value goes on.
            onSecret: (value) => {
                const decoded = uriDecoded(value);
                ctx.secrets.add(decoded, 'signature', decoded === value ? [] : [value]);
            },
            onNote: (line) => {
                ctx.warning(line);
                ctx.log.write({
                    step: 'artifact.conflict',
                    outcome: 'retried',
                    ids: { artifact: name },
                    detail: line,
                });
            },
        });
    }
    catch (error) {
        if ((0,cancellation/* isCancelled */.mm)(error))
            throw error;
        if (error instanceof UploadFailed && error.timedOut) {
            throw new errors/* StepError */.zg('artifact.upload', (0,core_message/* msg */.ab) `upload artifact ${name}`, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `not done within ${(0,summary/* formatMs */._V)(deadlineMs)}, the bound of an upload of ${bytes} bytes with ${(0,summary/* formatMs */._V)(requestTimeoutMs)} per request: the upload process was stopped; the evidence file is written, a re-run uploads it`));
        }
        if (error instanceof UploadFailed && error.nameTaken)
            throw new errors/* StepError */.zg('artifact.upload', (0,core_message/* msg */.ab) `upload artifact ${name}`, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `name conflict: ${error.message}`));
        throw new errors/* StepError */.zg('artifact.upload', (0,core_message/* msg */.ab) `upload artifact ${name}`, error);
    }
    finally {
        (0,external_node_fs_.rmSync)(tempDir, { recursive: true, force: true });
    }
}
/**
 * The gate of `require-previous`: a passing artifact of `previous` from a run of
 * this repository on the branch in scope, else the step fails before any check
 * runs, naming each artifact found and why it did not count. GitHub rate limits
 * are waited out up to `timeout` per request.
 */
async function requirePassingEvidence(settings, ctx, target, previous) {
    const repository = requireRepository(settings);
    const api = createArtifactsApi(createGitHubClient({
        apiUrl: settings.github.apiUrl,
        token: settings.github.token,
        redact: (t) => ctx.secrets.redact(t),
        rateLimitBudget: { ms: settings.timeoutMs, bound: 'the input timeout' },
        signal: ctx.cancellation.signal,
        log: (line) => ctx.info(line),
        env: ctx.env,
    }), repository);
    const scope = {
        repositoryId: settings.github.repositoryId,
        branch: settings.previousRef,
        now: Date.now(),
    };
    const name = artifactName(target, previous, true);
    const doing = `find the passing evidence of milestone '${previous}' (require-previous)`;
    const found = await ctx.log.step('gate.previous', { artifact: name, branch: scope.branch }, () => findPassingEvidence(api, target, previous, scope).catch((error) => {
        throw (0,cancellation/* isCancelled */.mm)(error) ? error : new errors/* StepError */.zg('gate.previous', doing, error);
    }));
    for (const { artifact, refused } of found.judged)
        if (refused && artifact !== found.chosen)
            ctx.info((0,core_message/* msg */.ab) `not counted: artifact ${artifact.id} ${refused}`);
    if (!found.chosen) {
        throw new errors/* StepError */.zg('gate.previous', doing, new core_message/* ComposedError */.vf((0,core_message/* msg */.ab) `no passing evidence of milestone '${previous}' from branch ${scope.branch} of ${repository}: ${describeRefusals(found, scope)}; no check was run`));
    }
    const run = found.chosen.workflow_run;
    ctx.info((0,core_message/* msg */.ab) `previous milestone ${previous}: passing evidence artifact ${found.chosen.id} from ${found.chosen.created_at ?? (0,core_message/* own */.ZV)('an earlier run')} (run ${run?.id ?? (0,core_message/* own */.ZV)('?')} on ${scope.branch})`);
}
async function readChecksFile(workspace, configPath) {
    return parseChecksFile(readChecksText(workspace, configPath), configPath);
}
function requireRepository(settings) {
    if (!settings.github.repository)
        throw new errors/* InputError */.dz('require-previous', (0,core_message/* msg */.ab) `needs GITHUB_REPOSITORY (owner/repo)`);
    return settings.github.repository;
}
/** The checks' environment: the runner's, without the action's inputs and the runner's own tokens. */
function childEnv(env) {
    const out = {};
    for (const [name, value] of Object.entries(env)) {
        if (name.startsWith('INPUT_') ||
            name === 'ACTIONS_RUNTIME_TOKEN' ||
            name.startsWith('ACTIONS_ID_TOKEN_REQUEST'))
            continue;
        out[name] = value;
    }
    return out;
}
/** Links `partial` to `path`, or to `path` with -2, -3 … before `.md` when a file is there. */
function linkUnique(partial, path) {
    for (let n = 1;; n++) {
        const candidate = n === 1 ? path : path.replace(/\.md$/, `-${n}.md`);
        try {
            (0,external_node_fs_.linkSync)(partial, candidate);
            return candidate;
        }
        catch (error) {
            if (error.code !== 'EEXIST' || n >= 1000)
                throw error;
        }
    }
}
/** Workspace-relative inside the workspace, absolute outside it (never a `../` path the user did not give). */
function shownPath(workspace, path) {
    const inside = (0,external_node_path_.relative)(workspace, path);
    return inside === '..' || inside.startsWith('../') || (0,external_node_path_.isAbsolute)(inside) ? path : inside;
}
/** A value the client may have sent URI-encoded, decoded; as it is when it is no URI encoding. */
function uriDecoded(value) {
    if (!/%[0-9A-Fa-f]{2}/.test(value))
        return value;
    try {
        return decodeURIComponent(value);
    }
    catch {
        return value;
    }
}


/***/ }),

/***/ 9985:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  p: () => (/* binding */ SECRET_INPUTS),
  T: () => (/* binding */ parseInputs)
});

// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/inputs.ts
var core_inputs = __webpack_require__(9114);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
;// CONCATENATED MODULE: ./src/providers/ssh/known-hosts.ts


/**
 * known_hosts text as users paste it, checked line by line before ssh ever
 * reads it, with the format of OpenSSH's sshd(8) "SSH_KNOWN_HOSTS FILE
 * FORMAT": `[@cert-authority|@revoked] hostpatterns keytype base64-key
 * [comment]`. Host patterns are plain (`host`, `[host]:port`, `*`, `?`, `!`
 * negation, comma-separated) or hashed (`|1|salt|hash`, `ssh-keygen -H`).
 * Both markers are kept: ssh honours them itself (`@cert-authority` trusts
 * host certificates signed by the key, `@revoked` refuses the key). CRLF line
 * endings and blank or `#` lines are accepted; the text returned has LF only.
 * A malformed line is an `InputError` naming `input` and the line number.
 */
const KEY_TYPES = new Set([
    'ssh-ed25519',
    'ssh-rsa',
    'ssh-dss',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'sk-ssh-ed25519@openssh.com',
    'sk-ecdsa-sha2-nistp256@openssh.com',
]);
const MARKERS = new Set(['@cert-authority', '@revoked']);
const HASHED = /^\|1\|[A-Za-z0-9+/]+=*\|[A-Za-z0-9+/]+=*$/;
const PATTERN = /^!?(\[[^\s[\],]+\]:\d{1,5}|[^\s[\],|]+)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
function knownHostsText(text, input) {
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
    lines.forEach((line, index) => {
        const problem = lineProblem(line.trim());
        if (problem)
            throw new errors/* InputError */.dz(input, (0,message/* msg */.ab) `line ${index + 1} is not a known_hosts line: ${problem}; each line is "[@cert-authority|@revoked] hosts keytype base64-key [comment]", as ssh-keyscan -p <port> <host> prints it`);
    });
    return lines.map((line) => line.trimEnd()).join('\n');
}
function lineProblem(line) {
    if (line === '' || line.startsWith('#'))
        return undefined;
    const fields = line.split(/\s+/);
    if (fields[0]?.startsWith('@') && !MARKERS.has(fields[0]))
        return `unknown marker ${JSON.stringify(fields[0].slice(0, 40))} (only @cert-authority and @revoked)`;
    const [hosts, type, key] = MARKERS.has(fields[0]) ? fields.slice(1) : fields;
    if (hosts && KEY_TYPES.has(hosts))
        return 'it starts with the key type: the host names come first (a public key alone is not a known_hosts line)';
    if (!hosts || !type || !key)
        return 'it needs hosts, a key type and a key';
    if (hosts.startsWith('|') ? !HASHED.test(hosts) : !hosts.split(',').every((p) => PATTERN.test(p)))
        return `the hosts field ${JSON.stringify(hosts.slice(0, 60))} is neither host patterns (host, [host]:port, comma-separated) nor a hashed |1|salt|hash`;
    if (!KEY_TYPES.has(type))
        return `unknown key type ${JSON.stringify(type.slice(0, 40))}`;
    if (!BASE64.test(key) || wireType(key) !== type)
        return `the key is not a base64 ${type} key`;
    return undefined;
}
/** The key type named inside an SSH wire-format public key (RFC 4253 §6.6: string type, …). */
function wireType(base64) {
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length < 4)
        return undefined;
    const length = bytes.readUInt32BE(0);
    return length > 64 || bytes.length < 4 + length
        ? undefined
        : bytes.subarray(4, 4 + length).toString('latin1');
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./src/providers/ssh/private-key.ts


/**
 * A private key as users paste it into a secret, turned into the file the
 * `ssh` client loads, or refused naming the input before anything connects.
 *
 * Accepted: the OpenSSH format (`ssh-keygen`'s default) and the PEM formats
 * OpenSSH loads through libcrypto (`RSA PRIVATE KEY`, `EC PRIVATE KEY`,
 * unencrypted PKCS#8 `PRIVATE KEY` of RSA or EC), as OpenSSH's `sshkey_parse_private_fileblob`
 * does. Whatever the secret store did to its line breaks (CRLF, newlines
 * turned into spaces or removed, `\n` written out, indentation, trailing
 * spaces, blank lines around), the key is rebuilt from the base64 between its
 * BEGIN and END lines, wrapped as `ssh-keygen` wraps it (70 columns for
 * OpenSSH, 64 for PEM), with `\n` line ends and a final newline.
 *
 * Refused with an `InputError` on `input` that says what is wrong and never
 * quotes the key: no BEGIN/END pair, text around it, a public or PuTTY key, a
 * passphrase (OpenSSH: cipher or kdf other than `none` in the binary header,
 * PROTOCOL.key; PEM: `Proc-Type: 4,ENCRYPTED`, RFC 1421; PKCS#8:
 * `ENCRYPTED PRIVATE KEY`, RFC 5958), a body that does not decode, a DSA or
 * security-key (FIDO) key.
 */
function normalisePrivateKey(text, input = 'ssh-key') {
    const refuse = (problem) => {
        throw new errors/* InputError */.dz(input, problem);
    };
    // A secret store may write line breaks out as `\n` / `\r\n`: base64 and the markers hold no backslash.
    const value = text.replace(/\\r|\\n/g, '\n').trim();
    const begin = /-----BEGIN ([A-Z0-9 ]{1,40})-----/.exec(value);
    if (!begin)
        return refuse(withoutBegin(value));
    const label = begin[1];
    const endMarker = `-----END ${label}-----`;
    const end = value.indexOf(endMarker, begin.index + begin[0].length);
    if (end < 0)
        return refuse(`has a BEGIN ${label} line but no END ${label} line: the key was cut; paste the whole file`);
    const before = value.slice(0, begin.index).trim();
    const after = value.slice(end + endMarker.length).trim();
    if (before !== '' || after !== '')
        return refuse(`holds ${before.length + after.length} characters of other text ${before ? 'before the BEGIN line' : 'after the END line'}; give the private key file alone`);
    const body = value.slice(begin.index + begin[0].length, end);
    const format = FORMATS[label];
    if (!format)
        return refuse(unknownLabel(label));
    if (format.encrypted)
        return refuse(PASSPHRASE);
    if (/Proc-Type:\s*4,\s*ENCRYPTED/i.test(body))
        return refuse(PASSPHRASE);
    if (/[A-Za-z-]+:/.test(body))
        return refuse(`has header lines inside its ${label} block that OpenSSH does not read; give the key without them`);
    const base64 = body.replace(/\s+/g, '');
    if (base64 === '')
        return refuse(`has nothing between its BEGIN ${label} and END ${label} lines`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64))
        return refuse(`holds characters that are not base64 between its BEGIN ${label} and END ${label} lines; paste the key as ssh-keygen wrote it`);
    if (base64.length % 4 !== 0)
        return refuse(`is cut or changed: its ${label} body is not whole base64 (a character is missing or extra)`);
    const problem = format.check(Buffer.from(base64, 'base64'));
    if (problem)
        return refuse(problem);
    const lines = base64.match(new RegExp(`.{1,${format.width}}`, 'g')) ?? [];
    return `-----BEGIN ${label}-----\n${lines.join('\n')}\n${endMarker}\n`;
}
const PASSPHRASE = 'is protected by a passphrase, which the action cannot type: give a key without one (remove it from a copy with `ssh-keygen -p -N "" -f copy`)';
const FORMATS = {
    'OPENSSH PRIVATE KEY': { width: 70, check: checkOpenSsh },
    'RSA PRIVATE KEY': { width: 64, check: (der) => checkDer(der, 'pkcs1', 'RSA PRIVATE KEY') },
    'EC PRIVATE KEY': { width: 64, check: (der) => checkDer(der, 'sec1', 'EC PRIVATE KEY') },
    'PRIVATE KEY': { width: 64, check: (der) => checkDer(der, 'pkcs8', 'PRIVATE KEY') },
    'ENCRYPTED PRIVATE KEY': { width: 64, encrypted: true, check: () => undefined },
};
function withoutBegin(value) {
    if (/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-[a-z0-9]+|sk-[a-z0-9@.-]+)\s+AAAA/.test(value))
        return 'is a public key (one line starting with its type); give the private key: the file without .pub';
    if (/^PuTTY-User-Key-File-\d+:/.test(value))
        return 'is a PuTTY .ppk key, which OpenSSH cannot read; convert it with `puttygen key.ppk -O private-openssh -o key`';
    return 'must be a private key as ssh-keygen writes it, from its -----BEGIN … PRIVATE KEY----- line to its -----END … PRIVATE KEY----- line (OpenSSH, or PEM RSA, EC or PKCS#8); the value has no BEGIN line';
}
function unknownLabel(label) {
    if (label === 'DSA PRIVATE KEY')
        return DSA;
    return `is a ${label} block, not a private key OpenSSH loads: give an OPENSSH, RSA, EC or PKCS#8 PRIVATE KEY`;
}
const DSA = 'is a DSA key, which OpenSSH servers refuse since 7.0: give an ed25519, ECDSA or RSA key';
const OPENSSH_MAGIC = 'openssh-key-v1\0';
/**
 * The binary layout of PROTOCOL.key (openssh-portable): magic, cipher name,
 * kdf name, kdf options, key count, public keys, private section. An
 * unencrypted private section starts with two equal check integers, so a
 * changed byte shows there.
 */
function checkOpenSsh(blob) {
    const damaged = 'is cut or changed: its OPENSSH PRIVATE KEY body does not decode as a key; paste the whole file';
    if (blob.subarray(0, OPENSSH_MAGIC.length).toString('latin1') !== OPENSSH_MAGIC)
        return damaged;
    const reader = new SshBuffer(blob, OPENSSH_MAGIC.length);
    const cipher = reader.string()?.toString('latin1');
    const kdf = reader.string()?.toString('latin1');
    if (cipher === undefined || kdf === undefined)
        return damaged;
    if (cipher !== 'none' || kdf !== 'none')
        return PASSPHRASE;
    if (reader.string() === undefined)
        return damaged; // kdf options
    const count = reader.uint32();
    if (count !== 1)
        return damaged;
    const publicKey = reader.string();
    const secret = reader.string();
    if (publicKey === undefined || secret === undefined || reader.remaining !== 0)
        return damaged;
    const type = new SshBuffer(publicKey, 0).string()?.toString('latin1') ?? '';
    if (type === 'ssh-dss')
        return DSA;
    if (type.startsWith('sk-'))
        return 'is a security-key (FIDO) key, which needs its hardware key at every login; give a key without one (ed25519, ECDSA or RSA)';
    const checks = new SshBuffer(secret, 0);
    const first = checks.uint32();
    if (first === undefined || first !== checks.uint32() || secret.length % 8 !== 0)
        return damaged;
    return undefined;
}
/** Reads `uint32` and length-prefixed `string` fields (RFC 4251 §5). */
class SshBuffer {
    bytes;
    offset;
    constructor(bytes, offset) {
        this.bytes = bytes;
        this.offset = offset;
    }
    get remaining() {
        return this.bytes.length - this.offset;
    }
    uint32() {
        if (this.remaining < 4)
            return undefined;
        const n = this.bytes.readUInt32BE(this.offset);
        this.offset += 4;
        return n;
    }
    string() {
        const length = this.uint32();
        if (length === undefined || length > this.remaining)
            return undefined;
        const value = this.bytes.subarray(this.offset, this.offset + length);
        this.offset += length;
        return value;
    }
}
/** Curves OpenSSH signs with (ecdsa-sha2-nistp256/384/521, RFC 5656). */
const SSH_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];
function checkDer(der, type, label) {
    let key;
    try {
        key = (0,external_node_crypto_.createPrivateKey)({ key: der, format: 'der', type });
    }
    catch {
        return `is cut or changed: its ${label} body does not decode as a key; paste the whole file`;
    }
    const kind = key.asymmetricKeyType;
    if (kind === 'dsa')
        return DSA;
    if (kind === 'ec' && !SSH_CURVES.includes(key.asymmetricKeyDetails?.namedCurve ?? ''))
        return 'is an EC key on a curve OpenSSH does not use: give a P-256, P-384 or P-521 key, or ed25519';
    // OpenSSH reads ed25519 only in its own format (9.2 on the runner: `Load key: invalid format`).
    if (kind === 'ed25519')
        return 'is an ed25519 key in PKCS#8 form, which OpenSSH does not load: give it in the OpenSSH format `ssh-keygen -t ed25519` writes';
    if (kind !== 'rsa' && kind !== 'ec')
        return `is a ${kind ?? 'unknown'} key, which OpenSSH does not log in with: give an ed25519, ECDSA or RSA key`;
    return undefined;
}

;// CONCATENATED MODULE: ./src/evidence/inputs.ts





const SECRET_INPUTS = ['ssh-key', 'redact', 'github-token'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
function parseInputs(inputs, env = {}) {
    const milestone = inputs.required('milestone', 'is required: the milestone this evidence is for');
    if (!NAME.test(milestone)) {
        throw new errors/* InputError */.dz('milestone', (0,message/* msg */.ab) `must be a name of letters, digits, . _ -; got ${JSON.stringify(milestone)}`);
    }
    const target = inputs.optional('target');
    if (target !== undefined && !NAME.test(target)) {
        throw new errors/* InputError */.dz('target', (0,message/* msg */.ab) `must be a name of letters, digits, . _ -; got ${JSON.stringify(target)}`);
    }
    const sshHost = inputs.optional('ssh-host');
    const requirePrevious = inputs.boolean('require-previous', false);
    const token = inputs.optional('github-token');
    if (requirePrevious && token === undefined) {
        throw new errors/* InputError */.dz('github-token', (0,message/* msg */.ab) `is required when require-previous is true`);
    }
    const refInput = inputs.optional('require-previous-ref');
    // Checked even when the gate is off: a bad value is bad input either way.
    const givenRef = refInput === undefined ? undefined : branchName(refInput);
    const previousRef = requirePrevious ? (givenRef ?? ownBranch(env)) : undefined;
    const retention = inputs.optional('retention-days');
    return {
        milestone,
        configPath: inputs.raw('config') || '.github/evidence.yml',
        target,
        ssh: sshHost === undefined
            ? undefined
            : {
                host: (0,core_inputs/* parseSshHost */.wh)('ssh-host', sshHost),
                key: optionalKey(inputs.optional('ssh-key')),
                knownHosts: knownHostsText(inputs.required('ssh-known-hosts', 'is required with ssh-host: known_hosts lines for it'), 'ssh-known-hosts'),
            },
        redact: inputs
            .raw('redact')
            .split(/\r?\n/)
            .filter((line) => line.trim() !== ''),
        outputDir: inputs.raw('output-dir') || 'docs/evidence',
        upload: inputs.boolean('upload', true),
        retentionDays: retention === undefined ? undefined : inputs.integer('retention-days', 0, { min: 1, max: 90 }),
        requirePrevious,
        previousRef,
        github: {
            token,
            apiUrl: inputs.url('github-api-url', { fallback: env.GITHUB_API_URL || 'https://api.github.com' }),
            repository: env.GITHUB_REPOSITORY,
            repositoryId: /^\d+$/.test(env.GITHUB_REPOSITORY_ID ?? '')
                ? Number(env.GITHUB_REPOSITORY_ID)
                : undefined,
        },
        timeoutMs: inputs.seconds('timeout', 60, { max: 6 * 3600 }),
        maxLines: inputs.integer('max-lines', 400, { min: 1, max: 100_000 }),
        dryRun: inputs.boolean('dry-run', false),
    };
}
/** `ssh-key` as `SshSession` writes it (see `normalisePrivateKey`); absent: the runner's own ssh setup. */
function optionalKey(value) {
    return value === undefined ? undefined : normalisePrivateKey(value, 'ssh-key');
}
/**
 * A branch name as `git check-ref-format --branch` allows it: components
 * separated by single `/`, none starting with `.` or ending in `.lock`, no
 * `..`, `@{`, control characters, space or `~^:?*[\\`; not `@`, `HEAD`, or
 * starting with `-`. `refs/heads/x` is taken as `x`; any other `refs/…`
 * (a tag, a pull request) is refused, since the gate works on branches.
 */
const BRANCH_COMPONENT = /^(?!\.)(?!.*\.lock$)(?!.*\.\.)(?!.*@\{)[^\s\p{Cc}~^:?*[\\]+$/u;
function branchName(input) {
    const branch = input.replace(/^refs\/heads\//, '');
    const problem = branch === '' || branch.length > 255
        ? 'it is empty or longer than 255 characters'
        : branch === 'HEAD' || branch === '@'
            ? `${JSON.stringify(branch)} is not a branch`
            : branch.startsWith('refs/')
                ? 'it names a ref that is not a branch (gates work on branches: give e.g. main, not refs/tags/…)'
                : branch.startsWith('-') ||
                    branch.endsWith('.') ||
                    !branch.split('/').every((c) => BRANCH_COMPONENT.test(c))
                    ? 'git does not allow it as a branch name (no leading or trailing /, no //, .., @{, space, ~^:?*[\\, no part starting with . or ending in .lock)'
                    : undefined;
    if (problem)
        throw new errors/* InputError */.dz('require-previous-ref', (0,message/* msg */.ab) `must be a branch name (e.g. main or release/2.x): ${problem}; got ${JSON.stringify(input)}`);
    return branch;
}
/**
 * The run's own branch as the runner names it (GITHUB_HEAD_REF for a pull
 * request, else GITHUB_REF_NAME). A tag run has no branch: gates work on
 * branches, so it must name one with `require-previous-ref`.
 */
function ownBranch(env) {
    const head = env.GITHUB_HEAD_REF?.trim();
    if (head)
        return head;
    if (env.GITHUB_REF_TYPE === 'tag' || env.GITHUB_REF?.startsWith('refs/tags/'))
        throw new errors/* InputError */.dz('require-previous-ref', (0,message/* msg */.ab) `is required on a tag (${env.GITHUB_REF_NAME ?? env.GITHUB_REF}): require-previous works on branches; name the branch whose evidence counts`);
    const own = env.GITHUB_REF_NAME?.trim();
    if (!own)
        throw new errors/* InputError */.dz('require-previous-ref', "is required here: neither GITHUB_HEAD_REF nor GITHUB_REF_NAME names this run's branch");
    return own;
}


/***/ }),

/***/ 9672:
/***/ ((module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
__webpack_require__.r(__webpack_exports__);
/* harmony import */ var _core_action_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8802);
/* harmony import */ var _flow_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8496);
/* harmony import */ var _inputs_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9985);



await (0,_core_action_js__WEBPACK_IMPORTED_MODULE_0__/* .runAction */ .Cs)({
    action: 'evidence',
    secretInputs: _inputs_js__WEBPACK_IMPORTED_MODULE_2__/* .SECRET_INPUTS */ .p,
    parseInputs: (inputs) => (0,_inputs_js__WEBPACK_IMPORTED_MODULE_2__/* .parseInputs */ .T)(inputs, process.env),
    run: (settings, ctx) => (0,_flow_js__WEBPACK_IMPORTED_MODULE_1__/* .runEvidence */ .f)(settings, ctx),
    failureTitle: (s, redact) => `evidence for ${redact(s.milestone)}${s.target ? ` on ${redact(s.target)}` : ''}`,
    failureOutputs: { status: 'failed' },
});
// A daemon started by a local check may still hold that check's output pipe: @actions/exec stopped
// waiting for it (run-local.ts), but Node would wait for as long as the daemon lives. All is written.
process.stdout.write('', () => process.exit());

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ })

};
