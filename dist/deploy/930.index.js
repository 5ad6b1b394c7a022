export const id = 930;
export const ids = [930];
export const modules = {

/***/ 8802:
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
/* harmony export */   Eu: () => (/* binding */ untilAborted),
/* harmony export */   bT: () => (/* binding */ RECORD_BUDGET_MS),
/* harmony export */   cc: () => (/* binding */ CancelledError),
/* harmony export */   mm: () => (/* binding */ isCancelled),
/* harmony export */   xo: () => (/* binding */ processCancellation)
/* harmony export */ });
/* unused harmony exports RUNNER_SIGINT_GRACE_MS, CLEANUP_BUDGET_MS, FORCED_EXIT_MS, watchCancellation, manualCancellation */
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
/* harmony export */   Kb: () => (/* binding */ excerpt),
/* harmony export */   Mb: () => (/* binding */ requestTimeoutFromEnv),
/* harmony export */   Mf: () => (/* binding */ abortableSleep),
/* harmony export */   Qq: () => (/* binding */ HttpClient),
/* harmony export */   fs: () => (/* binding */ providerMessage),
/* harmony export */   vu: () => (/* binding */ isRefusal)
/* harmony export */ });
/* unused harmony exports REQUEST_TIMEOUT_VARIABLE, DEFAULT_REQUEST_TIMEOUT_MS, requestLine, buildUrl, errorCode, attemptSignal */
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
/* harmony export */   PZ: () => (/* binding */ workspaceFiles),
/* harmony export */   i_: () => (/* binding */ InputReader),
/* harmony export */   mh: () => (/* binding */ sshHostKey),
/* harmony export */   sU: () => (/* binding */ atLine),
/* harmony export */   wh: () => (/* binding */ parseSshHost)
/* harmony export */ });
/* unused harmony exports fromRecord, OutsideWorkspaceError, LIST_FILE_MAX_BYTES, NotAListFileError, NotUtf8Error, utf8Text, fileLine, serverView, listEntries, splitLines, blankInside, checkUrl */
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

/***/ 4023:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   M: () => (/* binding */ providerList)
/* harmony export */ });
/* unused harmony export checkList */
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1915);

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
    throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ApiError */ .hD({
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


/***/ }),

/***/ 2743:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Aw: () => (/* binding */ waitLine),
/* harmony export */   Bf: () => (/* binding */ doubling),
/* harmony export */   Bi: () => (/* binding */ waitScaleFromEnv),
/* harmony export */   DS: () => (/* binding */ epochMsOf),
/* harmony export */   Du: () => (/* binding */ formatWait),
/* harmony export */   Mt: () => (/* binding */ randomized),
/* harmony export */   Ri: () => (/* binding */ untilEpochSeconds),
/* harmony export */   Rn: () => (/* binding */ retryLine),
/* harmony export */   Un: () => (/* binding */ MAX_LIMITED_ANSWERS),
/* harmony export */   Vs: () => (/* binding */ retryAfterMs),
/* harmony export */   h4: () => (/* binding */ DEFAULT_WAIT_BOUND),
/* harmony export */   vV: () => (/* binding */ judgeWait)
/* harmony export */ });
/* unused harmony exports MIN_RETRY_AFTER_MS, WAIT_SCALE_VARIABLE */
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
/* harmony export */   d6: () => (/* binding */ StreamRedactor),
/* harmony export */   pO: () => (/* binding */ Redactor)
/* harmony export */ });
/* unused harmony exports TOKEN_SHAPES, encodedForms, MIN_LINE_FORM, escapeRegExp */
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

/***/ 5868:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   X: () => (/* binding */ redactedData)
/* harmony export */ });
/* harmony import */ var _message_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3252);

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
    const message = (m) => (0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .own */ .ZV)((0,_message_js__WEBPACK_IMPORTED_MODULE_0__/* .redactMessage */ .b6)(new _message_js__WEBPACK_IMPORTED_MODULE_0__/* .Message */ .QB(m.segments.flatMap((s) => (s.ours ? [s] : pieces(s.text)))), redactor));
    const walk = (value, key) => {
        if (value instanceof _message_js__WEBPACK_IMPORTED_MODULE_0__/* .Message */ .QB)
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
/* harmony export */   Sb: () => (/* binding */ Secrets)
/* harmony export */ });
/* unused harmony exports SECRET_NAME, isTrivialValue, isPlainValue, isSecretConfigValue, isSecretOverride */
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
/* harmony export */   J7: () => (/* binding */ countsLine),
/* harmony export */   ZD: () => (/* binding */ escapeHtml),
/* harmony export */   _V: () => (/* binding */ formatMs),
/* harmony export */   d$: () => (/* binding */ rowsWithin),
/* harmony export */   g6: () => (/* binding */ mermaidGantt),
/* harmony export */   jb: () => (/* binding */ summaryTable)
/* harmony export */ });
/* unused harmony exports escapeCell, markdownTable */
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

/***/ 1461:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  z: () => (/* binding */ runDeploy)
});

// UNUSED EXPORTS: cancelledNote

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./src/core/cancellation.ts
var cancellation = __webpack_require__(3948);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
// EXTERNAL MODULE: ./src/core/redacted-data.ts
var redacted_data = __webpack_require__(5868);
;// CONCATENATED MODULE: ./src/deploy/deployment-state.ts
/**
 * Step state naming the GitHub deployment the main step created or continues, saved before its
 * `in_progress` status and cleared once a final status is recorded: the post step gives a
 * deployment the main step could not finish (cancelled, killed) its final status.
 */
const DEPLOYMENT_STATE = 'deployment';

;// CONCATENATED MODULE: ./src/deploy/identity.ts

function identityOfSettings(target) {
    if (target.kind === 'fly')
        return { kind: 'fly', name: target.processGroup ? `${target.app}/${target.processGroup}` : target.app };
    if (target.kind === 'heroku')
        return { kind: 'heroku', name: target.app };
    const hosts = target.hosts.map((h) => `${h.host}:${h.port}`).sort();
    return {
        kind: 'ssh',
        name: `${target.service}@${hosts.length > 0 ? hosts.join(',') : `tag:${target.digitalocean.tag}`}`,
    };
}
const KINDS = new Set(['fly', 'heroku', 'ssh']);
/** The identity a deployment's payload records; undefined when it records none (older deployments). */
function identityOf(payload) {
    const { target, target_name: name } = payload;
    if (typeof target !== 'string' || !KINDS.has(target) || typeof name !== 'string' || name === '')
        return undefined;
    return { kind: target, name };
}
/**
 * Whether a recorded deployment was made for `wanted`.
 *
 * - Same kind and name: `same`. A Fly deploy of the whole app also counts for
 *   one of its process groups, as it changed that group's machines too; a
 *   deploy of one group never counts for the whole app or another group.
 * - A deployment that records a name, or a kind, that differs: `other`.
 * - A deployment that records no `target_name` (made before deployments
 *   named their target): `unknown`. These are treated conservatively: never
 *   picked for `previous` or a re-run, and refused when a deployment id or
 *   tag names one, with its image offered as `rollback-to` instead. Guessing
 *   wrong deploys another app's image and reports success (issue 13); refusing
 *   costs the user one more input, and only until the next deploy is recorded.
 */
function matchIdentity(payload, wanted) {
    const recorded = identityOf(payload);
    if (!recorded)
        return typeof payload.target === 'string' && payload.target !== wanted.kind ? 'other' : 'unknown';
    if (recorded.kind !== wanted.kind)
        return 'other';
    if (recorded.name === wanted.name)
        return 'same';
    if (wanted.kind === 'fly' && wanted.name.startsWith(`${recorded.name}/`) && !recorded.name.includes('/'))
        return 'same';
    return 'other';
}
/** The identity in words, for messages and deployment descriptions: `fly app smooth (process group worker)`. */
function describeIdentity(identity) {
    if (identity.kind === 'heroku')
        return (0,message/* msg */.ab) `heroku app ${identity.name}`;
    if (identity.kind === 'fly') {
        const slash = identity.name.indexOf('/');
        return slash < 0
            ? (0,message/* msg */.ab) `fly app ${identity.name}`
            : (0,message/* msg */.ab) `fly app ${identity.name.slice(0, slash)} (process group ${identity.name.slice(slash + 1)})`;
    }
    const at = identity.name.indexOf('@');
    const service = identity.name.slice(0, at);
    const where = identity.name.slice(at + 1);
    return where.startsWith('tag:')
        ? (0,message/* msg */.ab) `ssh service ${service} on the DigitalOcean hosts tagged ${where.slice(4)}`
        : (0,message/* msg */.ab) `ssh service ${service} on ${(0,message/* joinMessages */.hw)(where.split(','), ', ')}`;
}
/** Who a deployment was made for, in words, also when it records only its kind. */
function describeOwner(payload) {
    const recorded = identityOf(payload);
    if (recorded)
        return describeIdentity(recorded);
    return typeof payload.target === 'string'
        ? (0,message/* msg */.ab) `a ${payload.target} target it does not name`
        : (0,message/* msg */.ab) `no named target`;
}

;// CONCATENATED MODULE: ./src/deploy/history.ts



/** How many recent deployments of the environment a re-run looks through for its earlier attempt. */
const RERUN_LOOKBACK_PAGES = 1;
/** How the final status's description begins for a rollback that found everything on its version already. */
const UNCHANGED_NOTE = 'unchanged:';
/** How the final `failure` status's description begins when auto-rollback put the earlier version back. */
const ROLLED_BACK_NOTE = 'rolled back:';
const RELEASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RELEASE_IN_NOTE = new RegExp(`release (?:v\\d+ )?(${RELEASE_ID.source.slice(1, -1)})`);
/**
 * The release id we write into a heroku deployment's success status. A Heroku release id (a
 * UUID) is kept whole as our own word: the history finds it there again, and hex digits that
 * happen to match a short secret are no leak of it.
 */
function releaseNote(release) {
    const id = RELEASE_ID.test(release.id) ? (0,message/* own */.ZV)(release.id) : release.id;
    return (0,message/* msg */.ab) `release ${release.version !== undefined ? (0,message/* msg */.ab) `v${release.version} ` : ''}${id}`;
}
async function recorded(api, d, known) {
    const statuses = known ?? (await api.statuses(d.id));
    const success = statuses.find((s) => s.state === 'success');
    const release = (typeof d.payload.release === 'string' ? d.payload.release : undefined) ??
        RELEASE_IN_NOTE.exec(success?.description ?? '')?.[1];
    return {
        deployment: d,
        payload: d.payload,
        succeeded: Boolean(success),
        changedNothing: success?.description.startsWith(UNCHANGED_NOTE) ?? false,
        rolledBack: statuses[0]?.state === 'failure' && statuses[0].description.startsWith(ROLLED_BACK_NOTE),
        latestState: statuses[0]?.state,
        release,
    };
}
/**
 * `previous`: the version that ran before the latest deploy of this target.
 *
 * - The latest deploy succeeded: the newest older success of another version
 *   (so a second `previous` toggles back, as a rollback is a deploy too).
 * - It failed, errored or never finished: the newest older success, which is
 *   what runs now when the deploy was rolled back or changed nothing; rolling
 *   back to it then changes nothing, and the caller reports `unchanged`.
 * - A rollback that changed nothing (`unchanged:` success) is not a deploy
 *   and is skipped, so asking again gives the same answer.
 *
 * Only deployments of `identity` count (see matchIdentity for records that
 * name no target).
 */
async function findPrevious(api, environment, identity) {
    let latest;
    let previous;
    let unidentified = 0;
    for (const d of await api.list(environment)) {
        const match = matchIdentity(d.payload, identity);
        if (match === 'unknown')
            unidentified++;
        if (match !== 'same')
            continue;
        const r = await recorded(api, d);
        if (r.changedNothing)
            continue;
        if (!latest) {
            latest = r;
            continue;
        }
        if (!r.succeeded)
            continue;
        if (!previous) {
            if (latest.succeeded && sameVersion(r, latest))
                continue;
            previous = r;
            continue;
        }
        if (sameVersion(r, previous))
            continue;
        return { latest, previous, before: r, unidentified };
    }
    return { latest, previous, before: undefined, unidentified };
}
function sameVersion(a, b) {
    if (a.payload.image && b.payload.image)
        return a.payload.image === b.payload.image;
    if (a.release && b.release)
        return a.release === b.release;
    return false;
}
/**
 * The deployment with this id, when it was made for `identity`.
 * @throws InputError (rollback-to) when it does not exist, was not made by action-deploy, was made
 *   for another target (the message names it), or names no target (see matchIdentity).
 */
async function findById(api, id, identity) {
    const d = await api.get(id);
    if (!d)
        throw new errors/* InputError */.dz('rollback-to', (0,message/* msg */.ab) `names GitHub deployment ${id}, which does not exist in this repository`);
    if (typeof d.payload.deploy_id !== 'string')
        throw new errors/* InputError */.dz('rollback-to', (0,message/* msg */.ab) `names GitHub deployment ${id}, which action-deploy did not record (its payload has no deploy_id)`);
    refuseOther(d, identity, `GitHub deployment ${id}`);
    return recorded(api, d);
}
/**
 * The deployment of `identity` in `environment` whose payload names this `deploy_xxxxxxxx` tag (its
 * own deploy, not a rollback to it). Deployments of every environment are read (one list, no
 * environment filter: GET /repos/{owner}/{repo}/deployments), because registries are shared: the
 * same tag in the registry may belong to another app's deploy, and only the history says whose.
 * @throws InputError (rollback-to) when only deployments of other targets or environments, or naming
 *   none, carry it, and when no deployment at all carries it (no registry is asked: issue 13).
 */
async function findByTag(api, environment, identity, tag) {
    const list = (await api.list(undefined)).filter((d) => typeof d.payload.deploy_id === 'string' && d.payload.tag === tag);
    const first = (ds) => ds.find((d) => d.payload.operation !== 'rollback') ?? ds[0];
    const own = list.filter((d) => matchIdentity(d.payload, identity) === 'same');
    const found = first(own.filter((d) => d.environment === environment));
    if (found)
        return recorded(api, found);
    const elsewhere = first(own);
    if (elsewhere)
        throw new errors/* InputError */.dz('rollback-to', (0,message/* msg */.ab) `names ${tag}, which was deployed to ${describeIdentity(identity)} in environment ${elsewhere.environment} (GitHub deployment ${elsewhere.id}), not in environment ${environment}`);
    const other = first(list);
    if (other)
        refuseOther(other, identity, tag);
    throw new errors/* InputError */.dz('rollback-to', (0,message/* msg */.ab) `names ${tag}, but no deployment of ${describeIdentity(identity)} carries that tag (GitHub deployments of every environment were searched)`);
}
function refuseOther(d, identity, what) {
    const match = matchIdentity(d.payload, identity);
    if (match === 'same')
        return;
    const image = typeof d.payload.image === 'string' ? d.payload.image : undefined;
    if (match === 'unknown')
        throw new errors/* InputError */.dz('rollback-to', (0,message/* msg */.ab) `names ${what}, which was recorded without the target it was deployed to, so it cannot be checked to be a version of ${describeIdentity(identity)}${image ? (0,message/* msg */.ab) `; to roll back to its image anyway, give rollback-to: ${image}` : ''}`);
    throw new errors/* InputError */.dz('rollback-to', (0,message/* msg */.ab) `names ${what}, which belongs to ${describeOwner(d.payload)} (GitHub deployment ${d.id}, environment ${d.environment}), not to ${describeIdentity(identity)}`);
}
/** States after which a deployment is over for good: a re-run of a finished deploy is a new deploy. */
const FINISHED = new Set(['success', 'inactive']);
/**
 * The deployment an earlier attempt of this same workflow run created for this
 * same deploy and did not finish (GitHub's "Re-run jobs" keeps GITHUB_RUN_ID and
 * bumps GITHUB_RUN_ATTEMPT): the re-run continues it instead of recording a
 * second one. Also finds a deployment whose creation answer was lost.
 */
async function findEarlierAttempt(api, key) {
    const list = await api.list(key.environment, RERUN_LOOKBACK_PAGES, key.sha ? { sha: key.sha } : {});
    for (const d of list) {
        const p = d.payload;
        if (typeof p.deploy_id !== 'string' ||
            String(p.run_id ?? '') !== key.runId ||
            (p.job ?? undefined) !== key.job ||
            p.target !== key.identity.kind ||
            p.target_name !== key.identity.name ||
            p.operation !== key.operation ||
            (p.image ?? undefined) !== key.image ||
            (p.release ?? undefined) !== key.release ||
            (key.tag !== undefined && p.tag !== key.tag))
            continue;
        // The newest record of this deploy decides: finished, the re-run is a deploy of its own.
        const statuses = await api.statuses(d.id);
        const latest = statuses[0]?.state;
        return latest !== undefined && FINISHED.has(latest) ? undefined : recorded(api, d, statuses);
    }
    return undefined;
}

// EXTERNAL MODULE: ./src/deploy/image.ts
var deploy_image = __webpack_require__(4870);
// EXTERNAL MODULE: ./src/deploy/registry-credentials.ts
var registry_credentials = __webpack_require__(6971);
// EXTERNAL MODULE: ./src/core/summary.ts
var summary = __webpack_require__(1363);
;// CONCATENATED MODULE: ./src/deploy/report.ts

/**
 * The fields of a `DeployReport` that hold our own words (an operation, a target kind, a status,
 * a unit's outcome and health): kept as they are when the report is redacted field by field
 * (core/redacted-data.ts) before it is rendered.
 */
const REPORT_WORDS = ['operation', 'target', 'status', 'outcome', 'health'];
/**
 * Past this many units the table lists the ones that were not simply updated first, and only
 * this many: 10 000 hosts of a `hosts-file` at ~300 bytes a row would pass the runner's 1 MiB
 * per step summary, which it then drops whole. Every unit is in the operations log (step `unit`).
 */
const UNIT_ROWS = 200;
/** The chart has one bar per unit; past this many it is not readable and is left out. */
const GANTT_BARS = 60;
/** Plan lines shown (a host has several); a dry run prints every one to the step's log. */
const PLAN_LINES = 400;
/** The order of the rows when not all fit: what a reader came to the summary for first. */
const RANK = {
    failed: 0,
    'rolled-back': 1,
    skipped: 2,
    unchanged: 3,
    planned: 4,
    updated: 5,
};
function renderSummary(r) {
    const title = r.dryRun
        ? `${r.operation} to ${r.target} (${r.environment}): dry run, nothing changed`
        : `${r.operation} to ${r.target} (${r.environment}): ${r.outcome.cancelled ? 'cancelled, ' : ''}${r.outcome.status}`;
    // The environment is the user's text (`prod <!--` would hide the rest): shown, never markup.
    const parts = [`## ${(0,summary/* escapeHtml */.ZD)(title)}`, ''];
    const facts = [
        ['deploy id', r.deployId],
        // A dry run creates no tag: naming one would send readers looking for it in the registry.
        ['deploy tag', r.dryRun ? '- (dry run)' : r.deployTag || '- (none made)'],
        ['image', r.image ?? '-'],
        ['previous', r.previousImage ?? r.outcome.previousImage ?? '-'],
        ['GitHub deployment', r.deploymentId ?? '-'],
    ];
    if (r.outcome.url)
        facts.push(['url', r.outcome.url]);
    if (r.outcome.error)
        facts.push(['error', r.outcome.error]);
    if (r.unverified)
        facts.push(['not verified', r.unverified]);
    parts.push((0,summary/* summaryTable */.jb)([], facts), '');
    const { units } = r.outcome;
    const shown = (0,summary/* rowsWithin */.d$)(units, UNIT_ROWS, (u) => RANK[u.outcome]);
    if (units.length > 0) {
        parts.push((0,summary/* summaryTable */.jb)(['unit', 'where', 'batch', 'outcome', 'old image', 'new image', 'health', 'time'], shown.map((u) => [
            u.id,
            u.where ?? '',
            u.batch || '-',
            u.error && u.outcome !== 'updated'
                ? `${u.outcome}: ${u.error}`
                : u.note
                    ? `${u.outcome}: ${u.note}`
                    : u.outcome,
            u.previousImage ?? '-',
            newImageOf(u, r.image),
            u.health ?? '-',
            u.endedMs > u.startedMs ? (0,summary/* formatMs */._V)(u.endedMs - u.startedMs) : '-',
        ])), '');
        if (shown.length < units.length)
            parts.push(unitsNote(units, shown.length), '');
    }
    const bars = units
        .filter((u) => u.batch > 0 && u.endedMs > u.startedMs)
        .map((u) => ({
        section: `batch ${u.batch}`,
        label: u.id,
        startMs: u.startedMs,
        endMs: u.endedMs,
        status: u.outcome === 'failed' ? 'crit' : u.outcome === 'rolled-back' ? 'active' : 'done',
    }));
    if (bars.length > GANTT_BARS)
        parts.push(`_No rollout chart: ${bars.length} units are more than its ${GANTT_BARS} readable bars; every unit's time is in the operations log._`, '');
    else if (bars.length > 0)
        parts.push((0,summary/* mermaidGantt */.g6)(`${r.operation} rollout`, bars), '');
    if (r.dryRun || r.outcome.plan.length > 0) {
        const { plan } = r.outcome;
        const lines = plan.slice(0, PLAN_LINES);
        if (lines.length < plan.length)
            lines.push(`… ${plan.length - lines.length} more lines`);
        parts.push(`<details><summary>plan</summary>\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n</details>`, '');
    }
    return parts.join('\n');
}
/** `_10000 units: 9990 updated, 10 failed. The table shows 200 of them, …_` */
function unitsNote(units, shown) {
    return `_${units.length} units: ${(0,summary/* countsLine */.J7)(units.map((u) => u.outcome))}. The table shows ${shown} of them, those failed, rolled back or skipped first; every unit is in the operations log (output \`log-file\`, step \`unit\`)._`;
}
/**
 * The image this run put on, or tried to put on, the unit: after an
 * auto-rollback that is the image that failed (the unit runs its old image
 * again, as its outcome says), and a skipped unit never received one.
 */
function newImageOf(u, image) {
    if (u.outcome === 'skipped')
        return '-';
    if (u.outcome === 'rolled-back')
        return image ?? u.newImage ?? '-';
    return u.newImage ?? '-';
}

;// CONCATENATED MODULE: ./src/deploy/flow.ts











async function runDeploy(settings, ctx, deps) {
    const target = settings.target.kind;
    const identity = identityOfSettings(settings.target);
    const freshId = (deps.newId ?? external_node_crypto_.randomUUID)();
    const ownTag = (0,deploy_image/* deployTagOf */.fu)(freshId);
    const env = ctx.env;
    if (!deps.history)
        ctx.warning('github-token is empty: this deploy is not recorded as a GitHub deployment, and rollback-to previous cannot look up the history');
    if (settings.dryRun)
        ctx.info('Dry run: planning only; nothing that changes anything is sent.');
    const unverified = await checkPushAccess(settings, ctx, deps);
    const observation = await ctx.log.step('target.observe', { target }, async () => (await deps.target.observe?.()) ?? {});
    const version = await ctx.log.step('version.resolve', { operation: settings.operation }, () => resolveVersion(settings, ctx, deps, identity, ownTag));
    const runId = env.GITHUB_RUN_ID?.trim() || undefined;
    const job = env.GITHUB_JOB?.trim() || undefined;
    const history = deps.history && !settings.dryRun ? deps.history : undefined;
    const earlier = history && runId
        ? await ctx.log.step('github.deployment.find', { environment: settings.environment, run: runId }, () => findEarlierAttempt(history, {
            environment: settings.environment,
            runId,
            job,
            sha: /^[0-9a-f]{40}$/.test(env.GITHUB_SHA ?? '') ? env.GITHUB_SHA : undefined,
            identity,
            operation: settings.operation,
            image: version.image,
            release: version.release,
            tag: version.tag === ownTag ? undefined : version.tag,
        }).catch((error) => {
            throw new errors/* StepError */.zg('github.deployment.find', (0,message/* msg */.ab) `read the GitHub deployments of environment ${settings.environment} (to continue an earlier attempt of this run)`, error);
        }))
        : undefined;
    // A re-run continues the earlier attempt's deploy: same id, same tag, so the registry tag, the
    // target's state (Heroku build version, ssh container name) and the record line up.
    const deployId = earlier?.payload.deploy_id ?? freshId;
    if (earlier && version.tag === ownTag)
        version.tag = earlier.payload.tag ?? (0,deploy_image/* deployTagOf */.fu)(deployId);
    if (earlier)
        ctx.info((0,message/* msg */.ab) `Attempt ${env.GITHUB_RUN_ATTEMPT ?? (0,message/* own */.ZV)('?')} of run ${runId}: continuing GitHub deployment ${earlier.deployment.id} (${version.tag}), which attempt ${earlier.payload.run_attempt ?? (0,message/* own */.ZV)('?')} created`);
    ctx.cancellation.signal.throwIfAborted();
    let reportedTag;
    if (version.tagImage) {
        const tagImage = version.tagImage;
        await ctx.log.step('image.tag', { tag: version.tag }, () => tagImage(version.tag).catch((error) => {
            throw new errors/* StepError */.zg('image.tag', (0,message/* msg */.ab) `tag image ${version.image ?? ''} as ${version.tag}`, error);
        }));
        // The tag is in the registry from here on, even if recording the GitHub deployment fails next.
        if (!settings.dryRun)
            reportedTag = setDeployTag(ctx, settings, version, deployId, false);
    }
    ctx.setOwnOutput('deploy-id', deployId);
    if (version.image)
        ctx.setOutput('image', version.image);
    if (observation.previousImage)
        ctx.setOutput('previous-image', observation.previousImage);
    // A dry run's own tag is never created: the line says it would be.
    ctx.info(settings.dryRun && version.tag === (0,deploy_image/* deployTagOf */.fu)(deployId)
        ? (0,message/* msg */.ab) `${settings.operation} ${deployId} (dry run, would tag ${version.tag}): ${version.source}`
        : (0,message/* msg */.ab) `${settings.operation} ${deployId} (${version.tag}): ${version.source}`);
    const payload = {
        deploy_id: deployId,
        image: version.image,
        digest: (0,deploy_image/* digestOf */.ol)(version.image),
        tag: version.tag,
        target,
        target_name: identity.name,
        previous_image: observation.previousImage,
        operation: settings.operation,
        ...(version.release ? { release: version.release } : {}),
        ...(runId ? { run_id: runId, run_attempt: env.GITHUB_RUN_ATTEMPT?.trim() || '1' } : {}),
        ...(runId && job ? { job } : {}),
    };
    const logUrl = runUrl(env);
    let deploymentId = earlier?.deployment.id;
    if (history && !earlier) {
        const created = await ctx.log.step('github.deployment.create', { environment: settings.environment }, () => history
            .create({
            ref: env.GITHUB_SHA || env.GITHUB_REF || 'HEAD',
            environment: settings.environment,
            description: (0,message/* redactMessage */.b6)((0,message/* msg */.ab) `${(0,message/* own */.ZV)(settings.operation)} ${version.tag} to ${describeIdentity(identity)}`, ctx.secrets.redactor),
            payload: payload,
            task: 'deploy',
            transientEnvironment: false,
            productionEnvironment: /^prod/i.test(settings.environment),
        })
            .catch((error) => {
            throw new errors/* StepError */.zg('github.deployment.create', (0,message/* msg */.ab) `record a GitHub deployment in environment ${settings.environment}`, error);
        }));
        deploymentId = created.id;
    }
    if (history && deploymentId !== undefined)
        ctx.saveState(DEPLOYMENT_STATE, String(deploymentId));
    reportedTag ??= setDeployTag(ctx, settings, version, deployId, deploymentId !== undefined);
    if (history && deploymentId !== undefined) {
        ctx.setOwnOutput('deployment-id', String(deploymentId));
        await recordStatus(ctx, history, deploymentId, {
            state: 'in_progress',
            description: (0,message/* msg */.ab) `${(0,message/* own */.ZV)(settings.operation)} of ${version.tag} in progress`,
            logUrl,
            environmentUrl: observation.url,
        });
    }
    const request = {
        operation: settings.operation,
        deployId,
        deployTag: version.tag,
        image: version.image,
        ...(runId
            ? {
                runLabel: `${env.GITHUB_REPOSITORY ?? 'unknown repository'} run ${runId}${job ? ` job ${job}` : ''}`,
            }
            : {}),
        dryRun: settings.dryRun,
        healthTimeoutMs: settings.healthTimeoutMs,
        autoRollback: settings.autoRollback,
        log: (line) => ctx.info(line),
        signal: ctx.cancellation.signal,
        cleanupSignal: ctx.cancellation.cleanupSignal(),
        ...(version.release ? { release: version.release } : {}),
    };
    let outcome;
    try {
        ctx.cancellation.signal.throwIfAborted();
        outcome = await ctx.log.step('target.rollout', { target, deploy_id: deployId }, () => deps.target.run(request));
    }
    catch (error) {
        ctx.setOwnOutput('status', 'failed');
        if (deps.history && deploymentId !== undefined)
            await recordStatus(ctx, deps.history, deploymentId, {
                state: 'error',
                description: (0,cancellation/* isCancelled */.mm)(error) ? cancelledNote(undefined) : (0,message/* msg */.ab) `failed: ${error}`,
                logUrl,
            });
        throw error;
    }
    // A target that stopped on the signal without counting (ssh, heroku) is counted from its units.
    if (!outcome.cancelled && ctx.cancellation.signal.aborted && !settings.dryRun)
        outcome.cancelled = {
            changed: outcome.units.filter((u) => u.outcome === 'updated' || u.outcome === 'rolled-back').length,
            restored: outcome.units.filter((u) => u.outcome === 'rolled-back').length,
        };
    if (outcome.cancelled) {
        await finishCancelled(ctx, settings, outcome, {
            history: deps.history,
            deploymentId,
            logUrl,
            report: {
                deployId,
                deployTag: reportedTag,
                image: version.image,
                previousImage: observation.previousImage,
            },
        });
        return;
    }
    if (settings.dryRun)
        for (const line of outcome.plan)
            ctx.info((0,message/* msg */.ab) `plan: ${line}`);
    const status = settings.dryRun && outcome.status === 'success'
        ? 'planned'
        : changedNothing(settings, outcome)
            ? 'unchanged'
            : outcome.status;
    if (deps.history && deploymentId !== undefined) {
        const success = outcome.status === 'success';
        const deployed = outcome.release ? releaseNote({ id: outcome.release }) : version.tag;
        await recordStatus(ctx, deps.history, deploymentId, {
            state: success ? 'success' : 'failure',
            description: status === 'unchanged'
                ? (0,message/* msg */.ab) `${(0,message/* own */.ZV)(UNCHANGED_NOTE)} already running ${deployed}`
                : success
                    ? (0,message/* msg */.ab) `deployed ${deployed}`
                    : outcome.status === 'rolled-back'
                        ? (0,message/* msg */.ab) `${(0,message/* own */.ZV)(ROLLED_BACK_NOTE)} ${outcome.error ?? (0,message/* own */.ZV)('health check failed')}`
                        : (0,message/* msg */.ab) `failed: ${outcome.error ?? (0,message/* own */.ZV)('unknown error')}`,
            logUrl,
            environmentUrl: success ? outcome.url : undefined,
        });
    }
    for (const unit of outcome.units)
        ctx.log.write({
            step: 'unit',
            outcome: unit.outcome === 'failed' ? 'failed' : unit.outcome === 'planned' ? 'planned' : 'ok',
            durationMs: Math.round(unit.endedMs - unit.startedMs),
            ids: { unit: unit.id, batch: unit.batch, result: unit.outcome },
            ...(unit.error ? { detail: unit.error } : {}),
        });
    ctx.setOwnOutput('status', status);
    if (outcome.url)
        ctx.setOutput('url', outcome.url);
    if (!observation.previousImage && outcome.previousImage)
        ctx.setOutput('previous-image', outcome.previousImage);
    await writeReport(ctx, {
        operation: settings.operation,
        target,
        environment: settings.environment,
        deployId,
        deployTag: reportedTag,
        image: version.image,
        previousImage: observation.previousImage,
        deploymentId,
        dryRun: settings.dryRun,
        ...(unverified ? { unverified } : {}),
        outcome: { ...outcome, status },
    });
    if (outcome.status !== 'success') {
        const why = outcome.error ?? (0,message/* own */.ZV)('see the job summary');
        throw new errors/* StepError */.zg('rollout', rolloutDoing(settings), new message/* ComposedError */.vf(outcome.status === 'rolled-back' ? (0,message/* msg */.ab) `rolled back: ${why}` : (0,message/* msg */.ab) `${why}`));
    }
    if (status === 'unchanged') {
        ctx.notice((0,message/* msg */.ab) `rollback to ${reportedTag || version.image || version.source} changed nothing: ${describeIdentity(identity)} already runs it${version.unchangedHint ? (0,message/* msg */.ab) ` (${version.unchangedHint})` : ''}`);
        return;
    }
    if (settings.dryRun) {
        ctx.info((0,message/* msg */.ab) `${settings.operation} to ${describeIdentity(identity)}: dry run, nothing changed`);
        return;
    }
    ctx.info((0,message/* msg */.ab) `${settings.operation} ${reportedTag || version.image || version.source} to ${describeIdentity(identity)}: success`);
}
/**
 * `tag-image: true` PUTs a tag into the image's repository: without push
 * access the deploy would fail halfway, after the target was touched, so
 * push access is learnt first (`RegistryClient.pushAccess`) and its absence is
 * an input error naming `tag-image` and the credentials to give.
 */
async function checkPushAccess(settings, ctx, deps) {
    const ref = imageToTag(settings);
    if (!ref)
        return undefined;
    const access = await ctx.log.step('image.push-access', { repository: ref.repository }, () => deps.registry(ref.registry).pushAccess(ref.repository, { probe: !settings.dryRun }));
    if (access.allowed && access.unverified) {
        const note = `tag-image: push rights to ${ref.registry}/${ref.repository} are not verified by this dry run (${access.how}); the real run checks them before any target is touched and fails there if they are missing`;
        ctx.warning(note);
        return note;
    }
    if (access.allowed) {
        ctx.info((0,message/* msg */.ab) `Push access to ${ref.registry}/${ref.repository} for the deploy tag: ${access.how}`);
        return undefined;
    }
    const ghcr = ref.registry === registry_credentials/* GITHUB_REGISTRY */.AP
        ? '; with github-token the job needs `permissions: packages: write`, and the package must grant this repository write access'
        : '';
    throw new errors/* InputError */.dz('tag-image', (0,message/* msg */.ab) `is true, so the deploy tag is pushed to ${ref.registry}/${ref.repository}, but push permission is missing: ${access.missing}. Give registry-username and registry-password of an account that may push there${ghcr}, or set tag-image: false`);
}
/** The image a deploy tags (`tag-image: true`): the one deployed, or rolled back to by reference. */
function imageToTag(settings) {
    if (!settings.tagImage || settings.target.kind === 'heroku')
        return undefined;
    if (settings.operation === 'deploy')
        return settings.image;
    return settings.rollbackTo.kind === 'image' ? settings.rollbackTo.image : undefined;
}
/**
 * The `deploy-tag` output names a tag that exists: one rollback-to named or a recorded deployment
 * carries (it came from outside: a short secret may redact it), or this deploy's own tag where it
 * was made: in the registry (tag-image), in the GitHub deployment (rollback-to finds it), as the
 * Heroku build's version, on the ssh container. A dry run makes none; neither does a Fly deploy or
 * rollback to an image without tag-image and github-token, nor a Heroku promotion or rollback to the
 * release before without github-token (they make a release, not a build). Then it is empty, and a line says why.
 */
function setDeployTag(ctx, settings, version, deployId, recorded) {
    if (settings.dryRun) {
        ctx.setOwnOutput('deploy-tag', '');
        return '';
    }
    if (version.tag !== (0,deploy_image/* deployTagOf */.fu)(deployId)) {
        ctx.setOutput('deploy-tag', version.tag);
        return version.tag;
    }
    const target = settings.target.kind;
    const made = version.tagImage !== undefined ||
        recorded ||
        target === 'ssh' ||
        (settings.target.kind === 'heroku' &&
            settings.operation === 'deploy' &&
            settings.target.source?.kind !== 'promote');
    ctx.setOwnOutput('deploy-tag', made ? version.tag : '');
    if (!made)
        ctx.info(target === 'heroku'
            ? (0,message/* msg */.ab) `deploy-tag is empty: a Heroku ${(0,message/* own */.ZV)(settings.operation === 'deploy' ? 'promotion' : 'rollback')} makes a release, not a build that ${version.tag} could name, and without github-token no GitHub deployment records it`
            : (0,message/* msg */.ab) `deploy-tag is empty: ${version.tag} was not added to the image (tag-image is false), and without github-token no GitHub deployment records it`);
    return made ? version.tag : '';
}
/** A real rollback whose every unit already ran the version; a dry run changes nothing by design. */
function changedNothing(settings, outcome) {
    return (settings.operation === 'rollback' &&
        !settings.dryRun &&
        outcome.status === 'success' &&
        outcome.units.length > 0 &&
        outcome.units.every((u) => u.outcome === 'unchanged'));
}
/**
 * A cancelled rollout: its final `error` status, its summary and its log line, then a failed step,
 * all before the runner's SIGTERM (RECORD_BUDGET_MS after the signal).
 */
async function finishCancelled(ctx, settings, outcome, r) {
    const note = cancelledNote(outcome.cancelled);
    if (r.history && r.deploymentId !== undefined)
        await recordStatus(ctx, r.history, r.deploymentId, {
            state: 'error',
            description: note,
            logUrl: r.logUrl,
        });
    ctx.setOwnOutput('status', outcome.status);
    for (const unit of outcome.units)
        ctx.log.write({
            step: 'unit',
            outcome: unit.outcome === 'failed' ? 'failed' : unit.outcome === 'skipped' ? 'skipped' : 'ok',
            ids: { unit: unit.id, batch: unit.batch, result: unit.outcome },
            ...(unit.error ? { detail: unit.error } : {}),
        });
    await writeReport(ctx, {
        operation: settings.operation,
        target: settings.target.kind,
        environment: settings.environment,
        deploymentId: r.deploymentId,
        dryRun: false,
        outcome: { ...outcome, error: note },
        ...r.report,
    });
    throw ctx.cancellation.signal.reason instanceof cancellation/* CancelledError */.cc
        ? new cancellation/* CancelledError */.cc(ctx.cancellation.signal.reason.signalName, cancelledNote(outcome.cancelled, ''))
        : new errors/* StepError */.zg('rollout', rolloutDoing(settings), new message/* ComposedError */.vf(note));
}
/** The job summary: our wording as written around the report's values, each redacted (core/redacted-data.ts). */
function writeReport(ctx, report) {
    // The deploy id is ours, and so is its tag unless rollback-to named another one: kept wherever
    // they occur (a plan line names the tag).
    const own = [
        report.deployId,
        ...(report.deployTag === (0,deploy_image/* deployTagOf */.fu)(report.deployId) ? [report.deployTag] : []),
    ];
    const redacted = (0,redacted_data/* redactedData */.X)(report, ctx.secrets.redactor, REPORT_WORDS, own);
    return ctx.writeSummary(renderSummary(redacted), { fromRedactedData: true });
}
/** `deploy to fly (production)`, `roll back heroku (staging)`: what a failed rollout could not do. */
function rolloutDoing(settings) {
    const verb = settings.operation === 'rollback' ? 'roll back' : 'deploy to';
    return (0,message/* msg */.ab) `${(0,message/* own */.ZV)(verb)} ${(0,message/* own */.ZV)(settings.target.kind)} (${settings.environment})`;
}
/**
 * `cancelled: 2 unit(s) changed, 2 sent back to their previous version`: what the record and
 * summary say; `lead` replaces `cancelled: ` (a CancelledError says `cancelled (SIGINT): ` itself).
 */
function cancelledNote(counts, lead = 'cancelled: ') {
    if (!counts)
        return (0,message/* msg */.ab) `cancelled before any unit was changed`;
    if (counts.changed === 0)
        return (0,message/* msg */.ab) `${(0,message/* own */.ZV)(lead)}no unit was changed`;
    const detail = counts.detail ? (0,message/* msg */.ab) `; ${counts.detail}` : '';
    return (0,message/* msg */.ab) `${(0,message/* own */.ZV)(lead)}${(0,message/* own */.ZV)(counts.changed)} unit(s) changed, ${(0,message/* own */.ZV)(counts.restored)} sent back to their previous version${detail}`;
}
/**
 * One deployment status. `in_progress` goes under the run's cancellation (a cancel cuts its
 * rate-limit wait at once); a final status is a record of the outcome and goes under the
 * clean-up budget (RECORD_BUDGET_MS after a cancel), so a cancelled or failed run still says so.
 */
async function recordStatus(ctx, history, id, status) {
    const final = status.state !== 'in_progress';
    // GitHub shows the description on the deployment: redacted like everything we write (core/message.ts).
    const { description, ...rest } = status;
    const sent = description === undefined
        ? rest
        : { ...rest, description: (0,message/* redactMessage */.b6)(description, ctx.secrets.redactor) };
    const signal = final ? ctx.cancellation.cleanupSignal(cancellation/* RECORD_BUDGET_MS */.bT) : ctx.cancellation.signal;
    await ctx.log
        .step('github.deployment.status', { deployment: id, state: status.state }, () => (0,cancellation/* untilAborted */.Eu)(history.setStatus(id, sent, signal), signal))
        .then(() => {
        if (final)
            ctx.saveState(DEPLOYMENT_STATE, '');
    }, (error) => ctx.warning((0,message/* msg */.ab) `could not record status ${status.state} on GitHub deployment ${id}: ${error}`));
}
function runUrl(env) {
    if (!env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID)
        return undefined;
    const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
    return `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
}
async function resolveVersion(settings, ctx, deps, identity, ownTag) {
    const log = (line) => ctx.info(line);
    const target = settings.target.kind;
    /** Pinned now; tagged later, under the tag this deploy ends up with. */
    const warn = (line) => ctx.warning(line);
    const pin = async (ref, input) => {
        const registry = deps.registry(ref.registry);
        const pinned = await (0,deploy_image/* pinImage */.nH)(registry, ref, {
            forTag: settings.tagImage,
            dryRun: settings.dryRun,
            input,
            log,
            warn,
        });
        const tagging = settings.tagImage
            ? {
                tagImage: async (tag) => {
                    await (0,deploy_image/* tagPinned */.dw)(registry, pinned, tag, { dryRun: settings.dryRun, log });
                },
            }
            : {};
        return { image: pinned.pinned, tagging };
    };
    if (settings.operation === 'deploy') {
        if (target === 'heroku') {
            const source = settings.target.kind === 'heroku' ? settings.target.source : undefined;
            return {
                image: undefined,
                tag: ownTag,
                release: undefined,
                source: source?.kind === 'promote' ? `promotion from ${source.from}` : `build of ${source?.url ?? '?'}`,
            };
        }
        const ref = settings.image;
        const pinned = await pin(ref, 'image');
        return {
            image: pinned.image,
            tag: ownTag,
            release: undefined,
            source: `image ${pinned.image}`,
            ...pinned.tagging,
        };
    }
    const to = settings.rollbackTo;
    const needHistory = (what) => {
        if (!deps.history)
            throw new errors/* InputError */.dz('rollback-to', (0,message/* msg */.ab) `${what} needs the GitHub deployment history: give a github-token, or an image reference`);
        return deps.history;
    };
    const fromRecord = (r, what) => {
        const tag = typeof r.payload.tag === 'string' ? r.payload.tag : ownTag;
        if (target === 'heroku') {
            if (!r.release)
                throw new errors/* StepError */.zg('version.resolve', (0,message/* msg */.ab) `find the version to roll back to in ${what}`, new Error('the deployment names no Heroku release'));
            return { image: undefined, tag, release: r.release, source: `${what} (release ${r.release})` };
        }
        if (typeof r.payload.image !== 'string')
            throw new errors/* StepError */.zg('version.resolve', (0,message/* msg */.ab) `find the version to roll back to in ${what}`, new Error('the deployment names no image'));
        return { image: r.payload.image, tag, release: undefined, source: `${what}: ${r.payload.image}` };
    };
    if (to.kind === 'previous') {
        if (target === 'heroku' && !deps.history)
            return {
                image: undefined,
                tag: ownTag,
                release: undefined,
                source: 'the release before the current one',
            };
        const found = await findPrevious(needHistory('rollback-to previous'), settings.environment, identity);
        const { latest, previous, before } = found;
        const further = before
            ? `to go further back, give rollback-to ${before.deployment.id} (${before.payload.tag ?? 'its deploy tag'})`
            : 'nothing older is recorded';
        if (!previous) {
            if (target === 'heroku')
                return {
                    image: undefined,
                    tag: ownTag,
                    release: undefined,
                    source: 'the release before the current one',
                };
            const unnamed = found.unidentified > 0
                ? `; ${found.unidentified} deployment(s) of this environment were recorded without naming their target and are not considered: give rollback-to an image reference`
                : '';
            throw new errors/* StepError */.zg('version.resolve', (0,message/* msg */.ab) `find the previous version of ${describeIdentity(identity)} in environment ${settings.environment}`, new Error(!latest
                ? `no deployment of ${describeIdentity(identity)} is recorded${unnamed}`
                : latest.succeeded
                    ? `only one version of ${describeIdentity(identity)} is recorded (GitHub deployment ${latest.deployment.id}); there is nothing before it${unnamed}`
                    : `the latest deploy of ${describeIdentity(identity)} (GitHub deployment ${latest.deployment.id}) did not succeed, and no successful deployment before it is recorded${unnamed}`));
        }
        const version = fromRecord(previous, `GitHub deployment ${previous.deployment.id}`);
        if (latest && !latest.succeeded) {
            const how = latest.rolledBack
                ? 'failed and was rolled back'
                : latest.latestState === undefined
                    ? 'has no status (it was cut off before it began)'
                    : ['in_progress', 'queued', 'pending'].includes(latest.latestState)
                        ? `is still ${latest.latestState} (or its run was killed)`
                        : `ended with ${latest.latestState}`;
            ctx.info((0,message/* msg */.ab) `The latest deploy of ${describeIdentity(identity)}, GitHub deployment ${latest.deployment.id} (${latest.payload.tag ?? (0,message/* own */.ZV)('?')}), ${how}: previous is the version that ran before it.`);
            version.unchangedHint = `the latest deploy, GitHub deployment ${latest.deployment.id}, ${how}; ${further}`;
        }
        else {
            version.unchangedHint = further;
        }
        return version;
    }
    if (to.kind === 'deployment') {
        const r = await findById(needHistory('a deployment id'), to.id, identity);
        return fromRecord(r, `GitHub deployment ${to.id}`);
    }
    if (to.kind === 'tag') {
        const r = await findByTag(needHistory(`a deploy tag (${to.tag})`), settings.environment, identity, to.tag);
        return fromRecord(r, `GitHub deployment ${r.deployment.id}`);
    }
    if (target === 'heroku')
        throw new errors/* InputError */.dz('rollback-to', (0,message/* msg */.ab) `cannot be an image reference for heroku: give previous, a deployment id or a deploy_ tag`);
    const pinned = await pin(to.image, 'rollback-to');
    return {
        image: pinned.image,
        tag: ownTag,
        release: undefined,
        source: to.raw === pinned.image ? `image ${pinned.image}` : `image ${to.raw}: ${pinned.image}`,
        ...pinned.tagging,
    };
}


/***/ }),

/***/ 4870:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   dw: () => (/* binding */ tagPinned),
/* harmony export */   fu: () => (/* binding */ deployTagOf),
/* harmony export */   nH: () => (/* binding */ pinImage),
/* harmony export */   ol: () => (/* binding */ digestOf)
/* harmony export */ });
/* unused harmony exports pinnedName, resolveImage */
/* harmony import */ var _core_errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1915);
/* harmony import */ var _core_message_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3252);
/* harmony import */ var _providers_registry_reference_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9749);



function deployTagOf(deployId) {
    return `deploy_${deployId.replace(/-/g, '').slice(0, 8)}`;
}
function pinnedName(ref, digest) {
    return `${ref.registry}/${ref.repository}@${digest}`;
}
/** The digest part of a pinned reference, if it has one. */
function digestOf(image) {
    return image ? /@(sha256:[a-f0-9]{64})$/.exec(image)?.[1] : undefined;
}
async function pinImage(registry, ref, options) {
    try {
        return await pin(registry, ref, options);
    }
    catch (error) {
        if (error instanceof _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ApiError */ .hD && error.status === 404)
            throw notFound(ref, options.input);
        if (error instanceof _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ApiError */ .hD)
            throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .StepError */ .zg('registry.resolve', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `read ${(0,_providers_registry_reference_js__WEBPACK_IMPORTED_MODULE_2__/* .formatImageReference */ .my)(ref)} from its registry`, error);
        throw error;
    }
}
/** distribution answers 404 (MANIFEST_UNKNOWN, NAME_UNKNOWN) for a tag, digest or repository it does not hold. */
function notFound(ref, input) {
    const what = ref.digest ? `digest ${ref.digest}` : `tag ${ref.tag ?? 'latest'}`;
    return new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(input, (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `names ${(0,_providers_registry_reference_js__WEBPACK_IMPORTED_MODULE_2__/* .formatImageReference */ .my)(ref)}, but ${ref.registry} has no ${ref.repository} with ${what} (HTTP 404); nothing was changed. Check the reference, or push the image first`);
}
async function pin(registry, ref, options) {
    if (ref.digest && !options.forTag) {
        // Already pinned and nothing to tag: one HEAD checks it exists before any target is touched.
        // A registry that refuses or cannot be reached only warns: the target pulls by digest with its
        // own access, as it did before this check.
        const exists = await registry.exists(ref).catch((error) => {
            options.warn((0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `could not check that ${(0,_providers_registry_reference_js__WEBPACK_IMPORTED_MODULE_2__/* .formatImageReference */ .my)(ref)} exists; the target will pull it by digest. ${error}`);
            return true;
        });
        if (!exists)
            throw notFound(ref, options.input);
        return {
            ref,
            pinned: pinnedName(ref, ref.digest),
            digest: ref.digest,
            mediaType: '',
            manifest: undefined,
        };
    }
    const manifest = options.forTag && !options.dryRun ? await registry.manifest(ref) : undefined;
    const found = manifest ?? (await registry.resolve(ref));
    options.log((0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `${(0,_providers_registry_reference_js__WEBPACK_IMPORTED_MODULE_2__/* .formatImageReference */ .my)(ref)} is ${found.digest}${found.mediaType ? (0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) ` (${found.mediaType})` : ''}`);
    return {
        ref,
        pinned: pinnedName(ref, found.digest),
        digest: found.digest,
        mediaType: found.mediaType,
        manifest,
    };
}
/** PUTs the pinned manifest's bytes under `tag` (the same PUT again is harmless); returns the tagged name. */
async function tagPinned(registry, image, tag, options) {
    const tagged = `${image.ref.registry}/${image.ref.repository}:${tag}`;
    if (options.dryRun) {
        options.log((0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `would PUT the same manifest as ${tagged}`);
    }
    else {
        if (!image.manifest)
            throw new _core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .ComposedError */ .vf((0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `the manifest of ${image.pinned} was not read for tagging`);
        await registry.tag(image.ref.repository, tag, image.manifest);
        options.log((0,_core_message_js__WEBPACK_IMPORTED_MODULE_1__/* .msg */ .ab) `tagged ${tagged} -> ${image.digest}`);
    }
    return tagged;
}
async function resolveImage(registry, ref, options) {
    const pinned = await pinImage(registry, ref, { ...options, forTag: options.tag !== undefined });
    const tagged = options.tag === undefined ? undefined : await tagPinned(registry, pinned, options.tag, options);
    return { pinned: pinned.pinned, digest: pinned.digest, mediaType: pinned.mediaType, tagged };
}


/***/ }),

/***/ 4991:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  pH: () => (/* binding */ SECRET_INPUTS),
  TL: () => (/* binding */ parseInputs)
});

// UNUSED EXPORTS: parseMaxUnavailable, parseRollbackTo

// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/inputs.ts
var core_inputs = __webpack_require__(9114);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
// EXTERNAL MODULE: ./src/providers/registry/reference.ts
var reference = __webpack_require__(9749);
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

// EXTERNAL MODULE: ./src/deploy/registry-credentials.ts
var registry_credentials = __webpack_require__(6971);
// EXTERNAL MODULE: ./src/deploy/ssh/publish.ts
var publish = __webpack_require__(7713);
;// CONCATENATED MODULE: ./src/deploy/inputs.ts








const SECRET_INPUTS = [
    'github-token',
    'registry-password',
    'fly-api-token',
    'digitalocean-token',
    'ssh-key',
    'heroku-api-key',
];
function parseInputs(inputs, env = {}) {
    const operation = inputs.choice('operation', ['deploy', 'rollback', 'release-lock'], 'deploy');
    const kind = inputs.choice('target', ['fly', 'ssh', 'heroku']);
    if (operation === 'release-lock' && kind !== 'ssh') {
        throw new errors/* InputError */.dz('operation', (0,message/* msg */.ab) `release-lock is for target ssh (the deploy lock a run leaves on the hosts); with target ${kind} there is none: ${kind === 'fly' ? (0,message/* own */.ZV)('Fly leases expire on their own (or fly machine leases clear)') : (0,message/* own */.ZV)('Heroku deploys take no lock')}`);
    }
    const imageRaw = inputs.optional('image');
    const image = imageRaw === undefined ? undefined : imageReference('image', imageRaw);
    if (operation === 'deploy' && kind !== 'heroku' && !image) {
        throw new errors/* InputError */.dz('image', (0,message/* msg */.ab) `is required to deploy to ${kind}: an image reference like ghcr.io/org/app:1.2.3`);
    }
    const target = kind === 'fly'
        ? parseFly(inputs)
        : kind === 'ssh'
            ? parseSsh(inputs)
            : parseHeroku(inputs, operation === 'rollback' ? 'rollback' : 'deploy');
    const registry = (0,registry_credentials/* registrySources */.Mx)(inputs, env);
    return {
        operation,
        target,
        environment: environmentName(inputs.raw('environment') || 'production'),
        github: {
            token: inputs.optional('github-token'),
            apiUrl: inputs.url('github-api-url', { fallback: env.GITHUB_API_URL || 'https://api.github.com' }),
            repository: env.GITHUB_REPOSITORY,
        },
        image,
        tagImage: inputs.boolean('tag-image', true),
        registry,
        rollbackTo: parseRollbackTo(inputs.raw('rollback-to') || 'previous'),
        autoRollback: inputs.boolean('auto-rollback', true),
        healthTimeoutMs: inputs.seconds('health-timeout', 300, { max: 6 * 3600 }),
        dryRun: inputs.boolean('dry-run', false),
    };
}
function parseFly(inputs) {
    return {
        kind: 'fly',
        app: inputs.required('fly-app', 'is required when target is fly'),
        apiToken: inputs.required('fly-api-token', 'is required when target is fly'),
        apiUrl: inputs.url('fly-api-url', { fallback: 'https://api.machines.dev/v1' }),
        strategy: inputs.choice('strategy', ['rolling', 'canary', 'immediate', 'bluegreen'], 'rolling'),
        maxUnavailable: parseMaxUnavailable(inputs.raw('max-unavailable') || '0.33'),
        processGroup: inputs.optional('process-group'),
        minSecretsVersion: inputs.optional('fly-min-secrets-version')
            ? inputs.integer('fly-min-secrets-version', 0, { min: 0 })
            : undefined,
    };
}
/**
 * Two entries for one machine (see `sshHostKey`) are refused naming the line:
 * dropping one would lose its user or port silently, keeping both would deploy
 * the host twice and wait for its own lock.
 */
function refuseDuplicateHosts(listed, source) {
    const seen = new Map();
    for (const { line, parsed } of listed) {
        const key = (0,core_inputs/* sshHostKey */.mh)(parsed);
        const first = seen.get(key);
        if (first !== undefined) {
            const problem = `lists the host ${key} on line ${first} and again on line ${line} (users, the case of a name, a trailing dot and the default port 22 do not make another host); each host must appear once`;
            if (source.file === undefined)
                throw new errors/* InputError */.dz(source.name, problem);
            (0,core_inputs/* atLine */.sU)(source.name, source.file, line, () => {
                throw new errors/* InputError */.dz(source.name, problem);
            });
        }
        seen.set(key, line);
    }
}
function parseSsh(inputs) {
    const fromFile = inputs.fileLines('hosts-file', (line) => (0,core_inputs/* parseSshHost */.wh)('hosts-file', line));
    const lines = inputs.entries('hosts');
    if (fromFile && lines.length > 0)
        throw new errors/* InputError */.dz('hosts', (0,message/* msg */.ab) `and hosts-file exclude each other; give one`);
    const listed = fromFile
        ? fromFile.entries
        : lines.map((e) => ({ ...e, parsed: (0,core_inputs/* parseSshHost */.wh)('hosts', e.value) }));
    refuseDuplicateHosts(listed, fromFile ? { name: 'hosts-file', file: fromFile.file } : { name: 'hosts' });
    const hosts = listed.map((e) => e.parsed);
    const token = inputs.optional('digitalocean-token');
    if (hosts.length === 0 && token === undefined) {
        throw new errors/* InputError */.dz(fromFile ? 'hosts-file' : 'hosts', fromFile
            ? `names ${JSON.stringify(fromFile.file)}, which lists no host; give [user@]host[:port] per line, or digitalocean-token`
            : 'or hosts-file or digitalocean-token is required when target is ssh: [user@]host[:port] per line');
    }
    const service = inputs.required('service', 'is required when target is ssh: the container name stem');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(service)) {
        throw new errors/* InputError */.dz('service', (0,message/* msg */.ab) `must be a container name stem (letters, digits, _ . -); got ${JSON.stringify(service)}`);
    }
    const runArgs = inputs.raw('run-args');
    const proxy = inputs.choice('proxy', ['none', 'nginx'], 'none');
    const reach = proxy === 'nginx' ? (0,publish/* reachOf */.xw)(runArgs) : undefined;
    if (reach && 'error' in reach)
        throw new errors/* InputError */.dz('run-args', reach.error);
    const healthCmd = inputs.optional('health-cmd');
    const path = healthPath(inputs);
    // Traffic moves to the new container only after a check passed (issue 18): with nginx one is required.
    if (proxy === 'nginx' && healthCmd === undefined && path === undefined)
        throw new errors/* InputError */.dz('proxy', (0,message/* msg */.ab) `nginx needs health-cmd or health-path: the new container must pass a check before traffic moves to it`);
    // Without a proxy nothing probes a path or drains: a value there would be silently ignored.
    if (proxy === 'none' && path !== undefined)
        throw new errors/* InputError */.dz('health-path', (0,message/* msg */.ab) `needs proxy: nginx (without a proxy, use health-cmd)`);
    // action.yml gives drain-timeout its default 30: only another value was asked for.
    if (proxy === 'none' && (inputs.optional('drain-timeout') ?? '30') !== '30')
        throw new errors/* InputError */.dz('drain-timeout', (0,message/* msg */.ab) `needs proxy: nginx (without a proxy the old container is stopped)`);
    return {
        kind: 'ssh',
        hosts,
        digitalocean: {
            tag: inputs.raw('digitalocean-tag') || 'deployed-via-api',
            token,
            apiUrl: inputs.url('digitalocean-api-url', { fallback: 'https://api.digitalocean.com/v2' }),
        },
        sshKey: normalisePrivateKey(inputs.required('ssh-key', 'is required when target is ssh: a private key'), 'ssh-key'),
        knownHosts: knownHostsText(inputs.required('ssh-known-hosts', 'is required when target is ssh: known_hosts lines for every host'), 'ssh-known-hosts'),
        service,
        runArgs,
        healthCmd,
        keep: inputs.integer('keep', 5, { min: 1, max: 100 }),
        lockTimeoutMs: inputs.seconds('lock-timeout', 120, { max: 3600 }),
        proxy,
        healthPath: path,
        drainTimeoutMs: inputs.seconds('drain-timeout', 30, { max: 3600 }),
    };
}
function healthPath(inputs) {
    const path = inputs.optional('health-path');
    if (path !== undefined && !/^\/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*$/.test(path)) {
        throw new errors/* InputError */.dz('health-path', (0,message/* msg */.ab) `must be an HTTP path starting with / ; got ${JSON.stringify(path)}`);
    }
    return path;
}
function parseHeroku(inputs, operation) {
    const sourceUrl = inputs.url('source-url');
    const promoteFrom = inputs.optional('promote-from');
    if (sourceUrl && promoteFrom)
        throw new errors/* InputError */.dz('source-url', (0,message/* msg */.ab) `and promote-from exclude each other; give one`);
    if (operation === 'deploy' && !sourceUrl && !promoteFrom) {
        throw new errors/* InputError */.dz('source-url', (0,message/* msg */.ab) `or promote-from is required to deploy to heroku`);
    }
    const source = sourceUrl
        ? { kind: 'url', url: sourceUrl }
        : promoteFrom
            ? { kind: 'promote', from: promoteFrom }
            : undefined;
    return {
        kind: 'heroku',
        app: inputs.required('heroku-app', 'is required when target is heroku'),
        apiKey: inputs.required('heroku-api-key', 'is required when target is heroku'),
        apiUrl: inputs.url('heroku-api-url', { fallback: 'https://api.heroku.com' }),
        source,
    };
}
function imageReference(input, value) {
    const ref = (0,reference/* readImageReference */.bc)(value);
    if (typeof ref === 'string')
        throw new errors/* InputError */.dz(input, (0,message/* msg */.ab) `must be an image reference like ghcr.io/org/app:1.2.3 (${ref}); got ${JSON.stringify(value)}`);
    return ref;
}
function parseMaxUnavailable(value) {
    if (/^\d+$/.test(value) && Number(value) >= 1)
        return { count: Number(value) };
    if (/^0?\.\d+$/.test(value) && Number(value) > 0)
        return { fraction: Number(value) };
    throw new errors/* InputError */.dz('max-unavailable', (0,message/* msg */.ab) `must be a fraction between 0 and 1 (e.g. 0.33) or a count >= 1; got ${JSON.stringify(value)}`);
}
function parseRollbackTo(value) {
    if (value === 'previous')
        return { kind: 'previous' };
    if (/^\d+$/.test(value))
        return { kind: 'deployment', id: Number(value) };
    if (/^deploy_[0-9a-f]{8}$/.test(value))
        return { kind: 'tag', tag: value };
    const image = (0,reference/* readImageReference */.bc)(value);
    if (typeof image !== 'string' && (image.tag !== undefined || image.digest !== undefined))
        return { kind: 'image', image, raw: value };
    // A value that looks like an image reference (a `/`, `:` or `@`) is told what is wrong with it.
    const why = typeof image === 'string' && /[/:@]/.test(value) ? ` (${image})` : '';
    throw new errors/* InputError */.dz('rollback-to', (0,message/* msg */.ab) `must be previous, a GitHub deployment id, a deploy_xxxxxxxx tag or an image reference with tag or digest${why}; got ${JSON.stringify(value)}`);
}
function environmentName(value) {
    if (value.length > 255 || /[\n\r]/.test(value))
        throw new errors/* InputError */.dz('environment', (0,message/* msg */.ab) `must be a GitHub environment name`);
    return value;
}


/***/ }),

/***/ 5930:
/***/ ((module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
__webpack_require__.r(__webpack_exports__);
/* harmony import */ var _core_action_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8802);
/* harmony import */ var _core_secrets_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8198);
/* harmony import */ var _providers_github_client_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(176);
/* harmony import */ var _providers_github_deployments_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(4284);
/* harmony import */ var _providers_registry_distribution_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(1305);
/* harmony import */ var _flow_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(1461);
/* harmony import */ var _inputs_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(4991);
/* harmony import */ var _rate_limit_waits_js__WEBPACK_IMPORTED_MODULE_8__ = __webpack_require__(7680);
/* harmony import */ var _registry_credentials_js__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(6971);









await (0,_core_action_js__WEBPACK_IMPORTED_MODULE_0__/* .runAction */ .Cs)({
    action: 'deploy',
    secretInputs: _inputs_js__WEBPACK_IMPORTED_MODULE_6__/* .SECRET_INPUTS */ .pH,
    parseInputs: (inputs) => (0,_inputs_js__WEBPACK_IMPORTED_MODULE_6__/* .parseInputs */ .TL)(inputs, process.env),
    derivedSecrets: (s) => [
        ...(0,_registry_credentials_js__WEBPACK_IMPORTED_MODULE_7__/* .basicForms */ .Si)(s.registry),
        // A presigned source-url carries its signature (and maybe a token) in the query.
        ...(s.target.kind === 'heroku' && s.target.source?.kind === 'url' ? (0,_core_secrets_js__WEBPACK_IMPORTED_MODULE_1__/* .urlSecrets */ .Fn)(s.target.source.url) : []),
    ],
    run: deploy,
    // An early failure (no such app, a refused rollback-to) reports as every other failure does:
    // status failed and a summary heading (issue 13).
    failureTitle: (s, redact) => `${s.operation} to ${s.target.kind} (${redact(s.environment)})`,
    failureOutputs: { status: 'failed' },
});
async function deploy(settings, ctx) {
    if (settings.operation === 'release-lock') {
        // parseInputs allows release-lock with target ssh only.
        if (settings.target.kind !== 'ssh')
            return;
        return (await Promise.all(/* import() */[__webpack_require__.e(941), __webpack_require__.e(679)]).then(__webpack_require__.bind(__webpack_require__, 679))).runReleaseLock(settings.target, settings.dryRun, ctx);
    }
    // One bound for every rate-limit wait of the run: health-timeout from the step's start.
    const startedAt = Date.now();
    const redact = (text) => ctx.secrets.redact(text);
    const github = settings.github.token && settings.github.repository
        ? new _providers_github_deployments_js__WEBPACK_IMPORTED_MODULE_3__/* .GitHubDeployments */ .C((0,_providers_github_client_js__WEBPACK_IMPORTED_MODULE_2__/* .createGitHubClient */ .LX)({
            apiUrl: settings.github.apiUrl,
            token: settings.github.token,
            redact,
            // A rate-limited GitHub call waits at most as long as the deploy waits for health.
            rateLimitBudget: { ms: settings.healthTimeoutMs, bound: 'the input health-timeout' },
            // A cancel cuts every GitHub call and wait at once; final statuses pass their own signal.
            signal: ctx.cancellation.signal,
            log: (line) => ctx.info(line),
            env: ctx.env,
        }), settings.github.repository)
        : undefined;
    // One client per registry host: its tokens (push-scoped after the push check) are reused.
    const registries = new Map();
    await (0,_flow_js__WEBPACK_IMPORTED_MODULE_5__/* .runDeploy */ .z)({ ...settings, operation: settings.operation }, ctx, {
        target: await buildTarget(settings, ctx, startedAt),
        history: github,
        registry: (registry) => {
            let client = registries.get(registry);
            if (!client) {
                const chosen = (0,_registry_credentials_js__WEBPACK_IMPORTED_MODULE_7__/* .credentialsFor */ .Og)(registry, settings.registry);
                client = new _providers_registry_distribution_js__WEBPACK_IMPORTED_MODULE_4__/* .RegistryClient */ .bP(registry, {
                    credentials: chosen?.credentials,
                    credentialSource: chosen?.source,
                    redact,
                    onToken: (token) => ctx.secrets.add(token, 'registry-token'),
                    // Rate limits (Docker Hub's pull limit, GHCR's) wait within the run's one bound.
                    ...(0,_rate_limit_waits_js__WEBPACK_IMPORTED_MODULE_8__/* .rateLimitWaits */ .Q)(settings, ctx, startedAt),
                });
                registries.set(registry, client);
            }
            return client;
        },
    });
}
/** Each target's code is loaded only when it is the one asked for: the bundle starts faster. */
async function buildTarget(settings, ctx, startedAt) {
    const t = settings.target;
    if (t.kind === 'fly')
        return (await Promise.all(/* import() */[__webpack_require__.e(606), __webpack_require__.e(772)]).then(__webpack_require__.bind(__webpack_require__, 2772))).connectFly(t, settings, ctx, startedAt);
    if (t.kind === 'heroku')
        return (await __webpack_require__.e(/* import() */ 439).then(__webpack_require__.bind(__webpack_require__, 9439))).connectHeroku(t, settings, ctx, startedAt);
    return (await Promise.all(/* import() */[__webpack_require__.e(606), __webpack_require__.e(941), __webpack_require__.e(104)]).then(__webpack_require__.bind(__webpack_require__, 9104))).createSshTarget(t, ctx);
}

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 7680:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Q: () => (/* binding */ rateLimitWaits)
/* harmony export */ });
/**
 * How long the rate-limited provider calls of a deploy may wait, all together: until
 * the deadline `healthTimeoutMs` after `startedAt` (epoch ms, the step's start), the
 * bound GitHub calls get too (main.ts), each wait logged. The runner's cancellation
 * cuts every request and every wait.
 */
function rateLimitWaits(settings, ctx, startedAt) {
    return {
        waitBound: {
            budgetMs: settings.healthTimeoutMs,
            deadlineAt: startedAt + settings.healthTimeoutMs,
            name: 'the input health-timeout',
        },
        log: (line) => ctx.info(line),
        signal: ctx.cancellation.signal,
    };
}


/***/ }),

/***/ 6971:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   AP: () => (/* binding */ GITHUB_REGISTRY),
/* harmony export */   Mx: () => (/* binding */ registrySources),
/* harmony export */   Og: () => (/* binding */ credentialsFor),
/* harmony export */   Si: () => (/* binding */ basicForms)
/* harmony export */ });
/* unused harmony export FLY_REGISTRY */
/* harmony import */ var _core_errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1915);

/** GitHub's container registry: the only host the workflow's GitHub token is for. */
const GITHUB_REGISTRY = 'ghcr.io';
/** Fly's registry: it takes the Fly API token as password with the user name `x`. */
const FLY_REGISTRY = 'registry.fly.io';
/**
 * Reads the registry credentials from the inputs: `registry-username` and
 * `registry-password` (both or neither; InputError otherwise), `github-token`
 * with `GITHUB_ACTOR`, and `fly-api-token`.
 */
function registrySources(inputs, env) {
    const username = inputs.optional('registry-username');
    const password = inputs.optional('registry-password');
    if ((username === undefined) !== (password === undefined)) {
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(username ? 'registry-password' : 'registry-username', 'must be given together with the other');
    }
    const githubToken = inputs.optional('github-token');
    const flyToken = inputs.optional('fly-api-token');
    return {
        given: username && password ? { username, password } : undefined,
        // GitHub's docs log in to ghcr.io with the actor and GITHUB_TOKEN; any non-empty user name is accepted.
        github: githubToken
            ? { username: env.GITHUB_ACTOR || 'x-access-token', password: githubToken }
            : undefined,
        flyToken,
    };
}
/**
 * The credentials sent to registry `host` (as an image reference names it,
 * `ghcr.io`, `127.0.0.1:5000`), or undefined for an anonymous pull.
 *
 * - The user's `registry-username`/`registry-password` win wherever the image lives.
 * - Otherwise ghcr.io gets the GitHub token (user name: the actor), and
 *   registry.fly.io the Fly API token with user name `x`, as `fly auth docker`
 *   logs Docker in (superfly/flyctl internal/command/auth/docker.go:
 *   `docker login --username=x --password-stdin registry.fly.io` with the access
 *   token; https://fly.io/docs/flyctl/auth-docker/).
 * - Any other host gets nothing: the GitHub token, which can write packages,
 *   and the Fly token never leave for a registry they were not made for.
 */
function credentialsFor(host, sources) {
    if (sources.given)
        return { credentials: sources.given, source: 'registry-password' };
    const name = host.toLowerCase();
    if (name === GITHUB_REGISTRY && sources.github)
        return { credentials: sources.github, source: 'github-token' };
    if (name === FLY_REGISTRY && sources.flyToken)
        return { credentials: { username: 'x', password: sources.flyToken }, source: 'fly-api-token' };
    return undefined;
}
/**
 * Each credential pair's password, spelled too as `user:password` in base64, as
 * Basic auth and `docker login` carry it: the password goes to the runner's
 * masks, the base64 only to our redactor (`SecretValue`).
 */
function basicForms(sources) {
    const pairs = [
        sources.given,
        sources.github,
        sources.flyToken ? { username: 'x', password: sources.flyToken } : undefined,
    ];
    return pairs.flatMap((p) => p
        ? [{ value: p.password, spellings: [Buffer.from(`${p.username}:${p.password}`).toString('base64')] }]
        : []);
}


/***/ }),

/***/ 7713:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Ay: () => (/* binding */ proxiedRunArgs),
/* harmony export */   xw: () => (/* binding */ reachOf)
/* harmony export */ });
/* unused harmony exports publishedPort, words */
/* harmony import */ var node_net__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7030);
/* harmony import */ var node_net__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_net__WEBPACK_IMPORTED_MODULE_0__);

/** docker run's one-letter flags without a value (`-d -i -t -P`) and with one (docker/cli cli/command/container/opts.go). */
const SHORT_BOOLEAN = new Set(['d', 'i', 't', 'P']);
const SHORT_VALUE = new Set(['a', 'c', 'e', 'h', 'l', 'm', 'p', 'u', 'v', 'w']);
/**
 * `-p`, `--publish`, `--network`/`--net`, `-P`/`--publish-all` and `-e`/`--env` flags of
 * `run-args`, in order. One-letter flags group as pflag reads them (spf13/pflag
 * `parseShortArg`): `-itp 80` is `-i -t -p 80`, `-itp80` too, and the letters after a flag that
 * takes a value are its value (`-ePORT=1`, `-p=80`).
 */
function flagsOf(words) {
    const flags = [];
    for (let i = 0; i < words.length; i++) {
        const word = words[i];
        if (word === '--')
            break;
        const long = /^--(publish|network|net|env|publish-all)(?:=(.*))?$/.exec(word);
        if (long) {
            if (long[1] === 'publish-all') {
                flags.push({ name: 'publish-all', value: undefined, from: i, to: i });
                continue;
            }
            const value = long[2] ?? words[i + 1];
            const name = long[1] === 'env' ? 'env' : long[1];
            flags.push({ name, value, from: i, to: long[2] === undefined ? i + 1 : i });
            if (long[2] === undefined)
                i++;
            continue;
        }
        if (!/^-[^-]/.test(word))
            continue;
        for (let c = 1; c < word.length; c++) {
            const letter = word[c];
            if (SHORT_BOOLEAN.has(letter)) {
                if (letter === 'P')
                    flags.push({ name: 'publish-all', value: undefined, from: i, to: i });
                continue;
            }
            if (!SHORT_VALUE.has(letter))
                break;
            const inline = word.slice(c + 1).replace(/^=/, '');
            const attached = c + 1 < word.length;
            const value = attached ? inline : words[i + 1];
            const keep = c > 1 ? word.slice(0, c) : undefined;
            const name = letter === 'p' ? 'publish' : letter === 'e' ? 'env' : letter;
            flags.push({ name, value, from: i, to: attached ? i : i + 1, ...(keep ? { keep } : {}) });
            if (!attached)
                i++;
            break;
        }
    }
    return flags;
}
const PUBLISH_FORM = '-p [ip:][host-port:]container-port[/tcp]';
/**
 * The container port of one `-p` value, read as Docker reads it (docker/go-connections
 * nat/nat.go `ParsePortSpec`: the last `:` part is the container port, the one before it the
 * host port, everything before that the IP, `[...]` around an IPv6 one; the protocol after `/`
 * in any case, `tcp` when absent; ports 0-65535), after docker/cli's `convertToStandardNotation`
 * turned a `target=80,published=8080,protocol=tcp` value into `8080:80/tcp`. nginx needs one tcp
 * port it can forward to: udp/sctp, a container port range and port 0 are refused too.
 */
function publishedPort(value) {
    const refuse = (why) => ({
        error: `must publish one tcp port as ${PUBLISH_FORM}; got -p ${value} (${why})`,
    });
    let spec = value;
    if (spec.includes('=')) {
        const params = { protocol: 'tcp' };
        for (const param of spec.split(',')) {
            const at = param.indexOf('=');
            if (at <= 0)
                return refuse(`${param} is not name=value`);
            params[param.slice(0, at)] = param.slice(at + 1);
        }
        spec = `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
    }
    const parts = spec.split(':');
    const last = parts.at(-1);
    const hostPort = parts.length >= 2 ? parts.at(-2) : '';
    let ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
    const slash = last.indexOf('/');
    const port = slash < 0 ? last : last.slice(0, slash);
    const protocol = (slash < 0 ? '' : last.slice(slash + 1)).toLowerCase() || 'tcp';
    if (port === '')
        return refuse('no container port');
    if (protocol !== 'tcp')
        return refuse(['udp', 'sctp'].includes(protocol)
            ? `nginx forwards tcp, not ${protocol}`
            : `unknown protocol ${protocol}`);
    if (ip.startsWith('[')) {
        if (!ip.endsWith(']'))
            return refuse(`${ip} is not an IP address`);
        ip = ip.slice(1, -1);
    }
    if (ip !== '' && (0,node_net__WEBPACK_IMPORTED_MODULE_0__.isIP)(ip) === 0)
        return refuse(`${ip} is not an IP address`);
    if (hostPort !== '' && !portRange(hostPort))
        return refuse(`host port ${hostPort} is not 0-65535`);
    const range = portRange(port);
    if (!range)
        return refuse(`container port ${port} is not 1-65535`);
    if (range[0] !== range[1])
        return refuse(`container port range ${port}: nginx forwards to one port`);
    if (range[0] === 0)
        return refuse('container port 0');
    return { containerPort: `${range[0]}${slash < 0 ? '' : '/tcp'}` };
}
/** `8080` or `8000-8010` within 0-65535, as [start, end]; undefined otherwise. */
function portRange(text) {
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
    if (!match)
        return undefined;
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    return start <= 65535 && end <= 65535 && start <= end ? [start, end] : undefined;
}
/** Whether an `-e`/`--env` flag sets `PORT` (`-e PORT=1`, `-ePORT=1`, `--env=PORT`, `-e PORT` from the host's env). */
function setsPort(flags) {
    return flags.some((f) => f.name === 'env' && f.value !== undefined && /^PORT(?:=|$)/.test(f.value));
}
function words(runArgs) {
    return runArgs.trim() === '' ? [] : runArgs.trim().split(/\s+/);
}
/** How the container is reached, or why it cannot be (a sentence for the `run-args` error). */
function reachOf(runArgs) {
    const flags = flagsOf(words(runArgs));
    if (flags.some((f) => f.name === 'publish-all'))
        return { error: 'must not use -P/--publish-all with proxy nginx: nginx needs the port it forwards to' };
    const publishes = flags.filter((f) => f.name === 'publish');
    const hostNetwork = flags.some((f) => (f.name === 'network' || f.name === 'net') && f.value === 'host');
    if (hostNetwork && publishes.length > 0)
        return { error: 'must not combine --network host with -p: a host-network container publishes nothing' };
    if (hostNetwork && setsPort(flags))
        return {
            error: 'must not set PORT with --network host and proxy nginx: the action sets PORT to the port nginx forwards to (docker run keeps the last -e PORT, so a PORT here would win)',
        };
    if (hostNetwork)
        return { kind: 'host-network' };
    if (publishes.length === 0)
        return {
            error: 'must publish the app port with one -p <container port> or use --network host when proxy is nginx',
        };
    if (publishes.length > 1)
        return { error: 'must publish exactly one port with proxy nginx (the one nginx forwards to)' };
    const flag = publishes[0];
    const published = publishedPort(flag.value ?? '');
    if ('error' in published)
        return published;
    return {
        kind: 'publish',
        containerPort: published.containerPort,
        from: flag.from,
        to: flag.to,
        ...(flag.keep ? { keep: flag.keep } : {}),
    };
}
/**
 * `run-args` for a container behind the proxy on host port `port`: the `-p` rewritten to
 * `-p 127.0.0.1:<port>:<container port>`, or `PORT=<port>` added for a host-network container.
 */
function proxiedRunArgs(runArgs, reach, port) {
    if (reach.kind === 'host-network')
        return [`--env PORT=${port}`, ...words(runArgs)].join(' ');
    const all = words(runArgs);
    return [
        ...all.slice(0, reach.from),
        ...(reach.keep ? [reach.keep] : []),
        `--publish 127.0.0.1:${port}:${reach.containerPort}`,
        ...all.slice(reach.to + 1),
    ].join(' ');
}


/***/ }),

/***/ 176:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  LX: () => (/* binding */ createGitHubClient),
  Vt: () => (/* binding */ repoParams)
});

// UNUSED EXPORTS: WRITE_GAP_VARIABLE, writeGapFromEnv

// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/http.ts
var http = __webpack_require__(1983);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
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
        options.log((0,message/* msg */.ab) `rate limited by GitHub, waiting ${(0,message/* own */.ZV)(limit.waitS)} s (${(0,message/* own */.ZV)(kind)}, ${call.request})`);
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
                throw (0,undici/* namingProxy */.tZ)(new message/* ComposedError */.vf((0,message/* msg */.ab) `no answer within ${timeoutMs} ms`, { cause: error }), url);
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
        throw new message/* ComposedError */.vf((0,message/* msg */.ab) `GITHUB_REPOSITORY must be owner/repo, got ${JSON.stringify(repository)}`);
    return { owner, repo };
}


/***/ }),

/***/ 4284:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   C: () => (/* binding */ GitHubDeployments)
/* harmony export */ });
/* harmony import */ var _core_provider_list_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(4023);
/* harmony import */ var _client_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(176);


const MAX_PAGES = 10;
class GitHubDeployments {
    github;
    repo;
    /** `repository` is `owner/repo`, as in GITHUB_REPOSITORY. */
    constructor(github, repository) {
        this.github = github;
        this.repo = (0,_client_js__WEBPACK_IMPORTED_MODULE_1__/* .repoParams */ .Vt)(repository);
    }
    async create(input) {
        const res = await this.github.request({
            operation: 'deployments.create',
            route: 'POST /repos/{owner}/{repo}/deployments',
            retries: 0,
            params: {
                ...this.repo,
                ref: input.ref,
                task: input.task ?? 'deploy',
                auto_merge: false,
                required_contexts: [],
                payload: input.payload,
                environment: input.environment,
                description: input.description.slice(0, 140),
                transient_environment: input.transientEnvironment ?? false,
                production_environment: input.productionEnvironment ?? input.environment === 'production',
            },
        });
        return toDeployment(res.data);
    }
    /**
     * Newest first, as GitHub lists them; `environment` undefined lists every environment's;
     * `filter.sha` keeps the deployments of one commit.
     */
    async list(environment, maxPages = MAX_PAGES, filter = {}) {
        const out = [];
        for (let page = 1; page <= maxPages; page++) {
            const res = await this.github.request({
                operation: 'deployments.list',
                route: 'GET /repos/{owner}/{repo}/deployments',
                params: {
                    ...this.repo,
                    ...(environment !== undefined ? { environment } : {}),
                    ...(filter.sha ? { sha: filter.sha } : {}),
                    per_page: 100,
                    page,
                },
            });
            const items = (0,_core_provider_list_js__WEBPACK_IMPORTED_MODULE_0__/* .providerList */ .M)(res.data, {
                provider: 'GitHub',
                operation: 'deployments.list',
                request: res.request,
                fields: { id: 'number', environment: 'string', ref: 'string', sha: 'string' },
            });
            out.push(...items.map(toDeployment));
            if (items.length < 100 || !/rel="next"/.test(res.headers.link ?? ''))
                break;
        }
        return out;
    }
    /** The deployment, or undefined when there is none with this id in the repository. */
    async get(id) {
        const res = await this.github.request({
            operation: 'deployments.get',
            route: 'GET /repos/{owner}/{repo}/deployments/{deployment_id}',
            params: { ...this.repo, deployment_id: id },
            acceptStatus: [404],
        });
        return res.status === 404 ? undefined : toDeployment(res.data);
    }
    /** Newest first. */
    async statuses(id) {
        const res = await this.github.request({
            operation: 'deployments.statuses.list',
            route: 'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
            params: { ...this.repo, deployment_id: id, per_page: 100 },
        });
        return (0,_core_provider_list_js__WEBPACK_IMPORTED_MODULE_0__/* .providerList */ .M)(res.data, {
            provider: 'GitHub',
            operation: 'deployments.statuses.list',
            request: res.request,
            fields: { id: 'number', state: 'text' },
        }).map((s) => ({
            id: s.id,
            state: s.state,
            description: s.description ?? '',
            createdAt: s.created_at,
        }));
    }
    /**
     * A status POST is not idempotent, but a duplicate status only repeats history,
     * while a lost one leaves the deployment `in_progress` for ever: it is retried.
     * `signal` replaces the client's, e.g. a clean-up budget after a cancellation.
     */
    async setStatus(id, input, signal) {
        await this.github.request({
            ...(signal ? { signal } : {}),
            operation: 'deployments.statuses.create',
            route: 'POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
            params: {
                ...this.repo,
                deployment_id: id,
                state: input.state,
                ...(input.description ? { description: input.description.slice(0, 140) } : {}),
                ...(input.environmentUrl ? { environment_url: input.environmentUrl } : {}),
                ...(input.logUrl ? { log_url: input.logUrl } : {}),
                auto_inactive: true,
            },
        });
    }
}
function toDeployment(json) {
    const payload = json.payload && typeof json.payload === 'object' && !Array.isArray(json.payload)
        ? json.payload
        : typeof json.payload === 'string'
            ? parsePayload(json.payload)
            : {};
    return {
        id: json.id,
        environment: json.environment,
        ref: json.ref,
        sha: json.sha,
        createdAt: json.created_at,
        payload,
    };
}
function parsePayload(text) {
    try {
        const value = JSON.parse(text);
        return value && typeof value === 'object' ? value : {};
    }
    catch {
        return {};
    }
}


/***/ }),

/***/ 1305:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  bP: () => (/* binding */ RegistryClient)
});

// UNUSED EXPORTS: MANIFEST_MEDIA_TYPES, grantedActions, registryBaseUrl, sha256Digest

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/http.ts
var http = __webpack_require__(1983);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
;// CONCATENATED MODULE: ./src/providers/registry/challenge.ts
/**
 * `WWW-Authenticate` challenges (RFC 7235 §4.1): one header may carry several,
 * comma-separated (`Bearer realm="…",service="…", Basic realm="x"`), and a
 * fetch client joins repeated header lines the same way. A new challenge
 * starts where a token after a comma is not followed by `=`; a quoted value
 * may hold commas, spaces and `\`-escapes.
 *
 * google/go-containerregistry reads one challenge per header line
 * (pkg/v1/remote/internal/authchallenge/authchallenge.go) and, when several
 * come, takes the first it can answer (pkg/v1/remote/transport/ping.go,
 * pickFromMultipleChallenges); `pickChallenge` prefers Bearer over Basic,
 * because a token's granted scope can be read before anything is written.
 */
// RFC 7230 tchar: any visible ASCII except separators.
const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
// RFC 7235 token68: a credential blob after the scheme (`Negotiate abc==`).
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*/;
function parseChallenges(header) {
    if (!header)
        return [];
    const challenges = [];
    let i = 0;
    const skip = (chars) => {
        while (i < header.length && chars.includes(header[i]))
            i++;
    };
    const token = () => {
        const start = i;
        while (i < header.length && TCHAR.test(header[i]))
            i++;
        return header.slice(start, i);
    };
    /** Whether a `name =` parameter starts at i (else a new challenge or token68 does). */
    const paramAhead = () => {
        const saved = i;
        const name = token();
        skip(' \t');
        let yes = name !== '' && header[i] === '=';
        if (yes) {
            i++;
            skip(' \t');
            // A parameter has a value; `abc=` or `abc==` (ended by a comma or the header) is a token68 blob.
            yes = i < header.length && header[i] !== ',' && header[i] !== '=';
        }
        i = saved;
        return yes;
    };
    const value = () => {
        if (header[i] !== '"') {
            // RFC 7235 wants a token here; a bare URL (`realm=https://…`) is read whole up to the next comma or space.
            const start = i;
            while (i < header.length && !' \t,'.includes(header[i]))
                i++;
            return header.slice(start, i);
        }
        let out = '';
        for (i++; i < header.length && header[i] !== '"'; i++) {
            if (header[i] === '\\' && i + 1 < header.length)
                i++;
            out += header[i];
        }
        i++; // the closing quote (or the end of an unterminated string)
        return out;
    };
    while (i < header.length) {
        skip(' \t,');
        const scheme = token();
        if (!scheme) {
            i++; // not a challenge: step over the stray character
            continue;
        }
        const params = {};
        skip(' \t');
        if (header[i] === ',') {
            // RFC 7230 §7: empty list elements (`Bearer ,realm=…`) count for nothing; a parameter after them is still this challenge's.
            const comma = i;
            skip(' \t,');
            if (!paramAhead())
                i = comma;
        }
        if (!paramAhead()) {
            const blob = TOKEN68.exec(header.slice(i));
            if (blob && !TCHAR.test(header[i + blob[0].length] ?? ','))
                i += blob[0].length;
        }
        while (paramAhead()) {
            const name = token().toLowerCase();
            skip(' \t');
            i++; // '='
            skip(' \t');
            const v = value();
            if (!(name in params))
                params[name] = v;
            skip(' \t');
            if (header[i] !== ',')
                break;
            const afterComma = i;
            skip(' \t,');
            if (!paramAhead()) {
                i = afterComma;
                break;
            }
        }
        challenges.push({ scheme: scheme.toLowerCase(), params });
    }
    return challenges;
}
/** The challenge to answer: Bearer with a realm first, else Basic; undefined when neither is offered. */
function pickChallenge(challenges) {
    return (challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ??
        challenges.find((c) => c.scheme === 'basic'));
}
function parseScope(scope) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0 || last <= first)
        return undefined;
    return {
        type: scope.slice(0, first),
        name: scope.slice(first + 1, last),
        actions: scope
            .slice(last + 1)
            .split(',')
            .filter(Boolean),
    };
}
/** A challenge's `scope` parameter may list several scopes separated by spaces. */
function scopesOf(challenge) {
    return (challenge.params.scope ?? '').split(' ').filter(Boolean);
}
/**
 * Scopes with one entry per resource, its actions united, in first-seen
 * order: `repository:a:push,pull` and `repository:a:pull` ask for
 * `repository:a:push,pull` once. Unparseable scopes are kept as they are.
 */
function mergeScopes(scopes) {
    const merged = new Map();
    for (const scope of scopes) {
        const parsed = parseScope(scope);
        if (!parsed) {
            merged.set(scope, scope);
            continue;
        }
        const key = `${parsed.type}:${parsed.name}`;
        const known = merged.get(key);
        if (typeof known === 'object')
            known.actions = [...new Set([...known.actions, ...parsed.actions])];
        else
            merged.set(key, parsed);
    }
    return [...merged.values()].map((s) => typeof s === 'string' ? s : `${s.type}:${s.name}:${s.actions.join(',')}`);
}
/** Whether `held` already asks for every action of every scope in `wanted`. */
function coversScopes(held, wanted) {
    const have = new Set(held.flatMap((s) => {
        const p = parseScope(s);
        return p ? p.actions.map((a) => `${p.type}:${p.name}:${a}`) : [s];
    }));
    return wanted.every((s) => {
        const p = parseScope(s);
        return p ? p.actions.every((a) => have.has(`${p.type}:${p.name}:${a}`)) : have.has(s);
    });
}

// EXTERNAL MODULE: ./src/core/rate-limit.ts
var rate_limit = __webpack_require__(2743);
;// CONCATENATED MODULE: ./src/providers/registry/rate-limit.ts

/**
 * Registry rate limits as the registries send them.
 * - Docker Hub's pull limit (docs.docker.com/docker-hub/usage/pulls/, "View pull rate and
 *   limit"): every manifest answer carries `ratelimit-limit: 100;w=21600` and
 *   `ratelimit-remaining: 76;w=21600` (pulls per window of `w` seconds, six hours); past it a
 *   manifest GET is answered 429 `TOOMANYREQUESTS` ("You have reached your pull rate limit").
 *   The window slides and no reset time is sent, so with no `Retry-After` the wait is the
 *   window: longer than any action's bound, which makes the step fail at once naming the limit.
 * - GHCR answers 429 `TOOMANYREQUESTS` with the wait in its message (`retry-after: 1.16676ms,
 *   allowed: 44000/minute`; seen in github.com/falcosecurity/plugins/issues/1069 and
 *   github.com/chainguard-images/images/issues/173) and a `Retry-After` header.
 * - Any other 429 (Docker Hub's overall per-IP limit answers a bare 429): `Retry-After` when
 *   sent, else 1 s doubling to 30 s, spread up to 25 % later.
 */
const REGISTRY_FIRST_WAIT_MS = 1000;
const REGISTRY_MAX_WAIT_MS = 30_000;
const SPREAD = 0.25;
/** `100;w=21600` → `{ count: 100, windowS: 21600 }`. */
function parseQuota(value) {
    const match = value ? /^\s*(\d+)\s*(?:;\s*w=(\d+))?/.exec(value) : null;
    if (!match)
        return undefined;
    return { count: Number(match[1]), ...(match[2] ? { windowS: Number(match[2]) } : {}) };
}
const GO_UNITS = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
};
/** The wait in a GHCR `TOOMANYREQUESTS` message (`retry-after: 333.939671ms`), in whole ms rounded up. */
function retryAfterInMessage(body) {
    const errors = body?.errors;
    for (const e of Array.isArray(errors) ? errors : []) {
        const match = typeof e?.message === 'string' ? /retry-after:\s*([\d.]+)(ns|us|µs|ms|s|m|h)\b/.exec(e.message) : null;
        if (match)
            return Math.ceil(Number(match[1]) * GO_UNITS[match[2]]);
    }
    return undefined;
}
function hours(seconds) {
    return seconds % 3600 === 0 ? `${seconds / 3600} h` : (0,rate_limit/* formatWait */.Du)(seconds * 1000);
}
const registryRateLimit = {
    limited({ status, headers, body }, count, now, random) {
        if (status !== 429)
            return undefined;
        const limit = parseQuota(headers['ratelimit-limit']);
        const remaining = parseQuota(headers['ratelimit-remaining']);
        const windowS = limit?.windowS ?? remaining?.windowS;
        const quota = limit && remaining
            ? `ratelimit-remaining ${remaining.count} of ${limit.count}${windowS ? ` per ${hours(windowS)}` : ''}`
            : undefined;
        const after = (0,rate_limit/* retryAfterMs */.Vs)(headers, now) ?? retryAfterInMessage(body);
        if (after !== undefined)
            return {
                waitMs: after,
                limit: `HTTP 429, retry-after ${(0,rate_limit/* formatWait */.Du)(after)}${quota ? `, ${quota}` : ''}`,
            };
        if (remaining?.count === 0 && windowS)
            return {
                waitMs: windowS * 1000,
                limit: `HTTP 429, pull limit used up: ${quota ?? 'ratelimit-remaining 0'}, and no time given for the next free pull`,
            };
        return {
            waitMs: Math.round((0,rate_limit/* doubling */.Bf)(count, REGISTRY_FIRST_WAIT_MS, REGISTRY_MAX_WAIT_MS) * (1 + SPREAD * random())),
            limit: 'HTTP 429',
        };
    },
};

// EXTERNAL MODULE: ./src/providers/registry/reference.ts
var reference = __webpack_require__(9749);
;// CONCATENATED MODULE: ./src/providers/registry/distribution.ts







/**
 * The OCI distribution API, as much as a deploy needs: resolve a tag to the
 * digest of what it points at (an index stays an index, so multi-arch images
 * deploy by index digest), and add a tag by PUT of the very same manifest bytes.
 * Auth follows the registry's `WWW-Authenticate` challenges (challenge.ts):
 * Bearer tokens from the realm it names (GHCR, Docker Hub; anonymous ones
 * without credentials), or Basic. No Docker daemon involved.
 */
const MANIFEST_MEDIA_TYPES = [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v2+json',
];
/** `registry-1.docker.io` for Docker Hub; plain HTTP only for loopback registries, as Docker does. */
function registryBaseUrl(registry) {
    const host = registry === reference/* DOCKER_HUB */.Xb || registry === 'index.docker.io' ? reference/* DOCKER_HUB_API_HOST */.Tz : registry;
    return `${(0,reference/* isLoopbackRegistry */.jW)(registry) ? 'http' : 'https'}://${host}`;
}
function sha256Digest(bytes) {
    return `sha256:${(0,external_node_crypto_.createHash)('sha256').update(bytes).digest('hex')}`;
}
class RegistryClient {
    http;
    registry;
    baseUrl;
    options;
    /**
     * One authorization per repository. A token's scopes grow as operations
     * need more, the newest first, as google/go-containerregistry
     * pkg/v1/remote/transport/bearer.go (RoundTrip) does: some token servers
     * read only the first scope.
     */
    auth = new Map();
    constructor(registry, options) {
        this.registry = registry;
        this.options = options;
        this.baseUrl = registryBaseUrl(registry);
        this.http = new http/* HttpClient */.Qq({
            provider: `Registry ${registry}`,
            baseUrl: this.baseUrl,
            headers: { 'docker-distribution-api-version': 'registry/2.0' },
            redact: options.redact,
            ...(options.credentials && options.credentialSource ? { credential: options.credentialSource } : {}),
            rateLimit: registryRateLimit,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.retry ? { retry: options.retry } : {}),
            ...(options.waitBound ? { waitBound: options.waitBound } : {}),
            ...(options.log ? { log: options.log } : {}),
            ...(options.random ? { random: options.random } : {}),
        });
    }
    /**
     * The manifest `reference` (tag or digest) names, with its digest and its
     * bytes exactly as received: they are PUT again unchanged, so the digest
     * (sha256 of those bytes) cannot change. A GET counts as a pull on Docker Hub.
     */
    async manifest(ref) {
        const reference = ref.digest ?? ref.tag ?? 'latest';
        const res = await this.send(ref.repository, 'pull', (authorization) => ({
            operation: 'manifest.get',
            path: manifestPath(ref.repository, reference),
            headers: { accept: MANIFEST_MEDIA_TYPES.join(', '), ...authorization },
            binary: true,
        }));
        const bytes = res.bytes ?? Buffer.from(res.text, 'utf8');
        const digest = sha256Digest(bytes);
        const announced = res.headers['docker-content-digest'];
        if (announced && announced !== digest && announced.startsWith('sha256:')) {
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `registry answered digest ${announced} for ${ref.repository}:${reference}, but the manifest bytes hash to ${digest}`);
        }
        if (ref.digest && ref.digest !== digest) {
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `manifest ${ref.repository}@${ref.digest} hashes to ${digest}`);
        }
        return { digest, mediaType: mediaTypeOf(res.headers, bytes), bytes };
    }
    /**
     * The digest and media type `ref` points at, by HEAD: Docker Hub counts a
     * manifest GET as a pull against its limit and a HEAD not
     * (https://docs.docker.com/docker-hub/usage/pulls/). A registry that sends no
     * `Docker-Content-Digest` is asked by GET instead, as crane does
     * (google/go-containerregistry pkg/crane/digest.go).
     */
    async resolve(ref) {
        const reference = ref.digest ?? ref.tag ?? 'latest';
        const res = await this.send(ref.repository, 'pull', (authorization) => ({
            operation: 'manifest.head',
            method: 'HEAD',
            path: manifestPath(ref.repository, reference),
            headers: { accept: MANIFEST_MEDIA_TYPES.join(', '), ...authorization },
        }));
        const digest = res.headers['docker-content-digest'];
        if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) {
            const manifest = await this.manifest(ref);
            return { digest: manifest.digest, mediaType: manifest.mediaType };
        }
        if (ref.digest && ref.digest !== digest) {
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `registry answered digest ${digest} for ${ref.repository}@${ref.digest}`);
        }
        return { digest, mediaType: res.headers['content-type']?.split(';')[0]?.trim() || '' };
    }
    /**
     * Whether the manifest `ref` names is in the registry, by one HEAD (no pull
     * counted on Docker Hub): false on 404 (MANIFEST_UNKNOWN or NAME_UNKNOWN,
     * distribution docs spec/api.md "Existing Manifests"). Refusals and
     * unreachable registries throw; a network failure is not retried, because
     * the caller only warns about it.
     */
    async exists(ref) {
        const reference = ref.digest ?? ref.tag ?? 'latest';
        const res = await this.send(ref.repository, 'pull', (authorization) => ({
            operation: 'manifest.head',
            method: 'HEAD',
            path: manifestPath(ref.repository, reference),
            headers: { accept: MANIFEST_MEDIA_TYPES.join(', '), ...authorization },
            acceptStatus: [404],
            retries: 0,
        }));
        return res.status !== 404;
    }
    /** PUT the same bytes under `tag`: the digest cannot change, and the registry confirms it. */
    async tag(repository, tag, manifest) {
        const res = await this.send(repository, 'pull,push', (authorization) => ({
            operation: 'manifest.put',
            method: 'PUT',
            path: manifestPath(repository, tag),
            headers: { 'content-type': manifest.mediaType, ...authorization },
            body: manifest.bytes,
        }));
        const digest = res.headers['docker-content-digest'];
        if (digest && digest !== manifest.digest) {
            throw new message/* ComposedError */.vf((0,message/* msg */.ab) `registry stored ${repository}:${tag} as ${digest}, expected ${manifest.digest}`);
        }
    }
    /**
     * Whether the credentials may push to `repository`, learnt without changing
     * anything a target runs:
     * - A registry that challenges a client with no credentials gives at most an anonymous pull.
     * - Bearer: a push-scoped token is asked for. The token server grants what
     *   its access list allows, which may be less than asked (distribution docs
     *   spec/auth/token.md and jwt.md); when its answer says what it granted
     *   (the `access` claim of a JWT, or an OAuth2 `scope` field, spec/auth/oauth.md)
     *   a token without push is refused here.
     * - Otherwise (Basic auth, or an opaque token such as GHCR's that says nothing),
     *   `probe` starts a blob upload and cancels it, as google/go-containerregistry
     *   pkg/v1/remote/check.go (CheckPushPermission) does, because Docker Hub hands
     *   out tokens without checking push (its comment cites docker/hub-feedback#1771).
     *   A dry run sends no POST, so there the probe is left out and the answer
     *   says `unverified`: even a cancelled upload session is a write, and the
     *   dry-run promise is that nothing that changes anything is sent.
     */
    async pushAccess(repository, options) {
        const ping = await this.http.request({ operation: 'ping', path: '/v2/', acceptStatus: [401] });
        let authorization = {};
        if (ping.status === 401) {
            if (!this.options.credentials)
                return {
                    allowed: false,
                    missing: `no credentials are given for ${this.registry}, and without them a registry grants at most an anonymous pull`,
                };
            const challenges = parseChallenges(ping.headers['www-authenticate']);
            const granted = await this.authorize(challenges, ping.headers['www-authenticate'], repository, 'pull,push', [scopeFor(repository, 'pull,push')]);
            this.auth.set(repository, granted);
            if (granted.granted && !granted.granted.has('push'))
                return {
                    allowed: false,
                    missing: `for ${this.options.credentialSource ?? 'the credentials given'} the token server granted ${granted.granted.size > 0 ? [...granted.granted].sort().join(',') : 'no access'} on ${repository}, not push`,
                };
            if (granted.granted)
                return { allowed: true, how: 'the token server granted push' };
            authorization = { authorization: granted.header };
        }
        if (!options.probe)
            return {
                allowed: true,
                how: 'not verified: only an upload shows push rights on this registry, and a dry run starts none',
                unverified: true,
            };
        const upload = await this.http.request({
            operation: 'upload.start',
            method: 'POST',
            path: `/v2/${repositoryPath(repository)}/blobs/uploads/`,
            headers: authorization,
            acceptStatus: [401, 403],
            retrySafe: true,
        });
        if (upload.status === 401 || upload.status === 403) {
            const said = (0,http/* providerMessage */.fs)(upload.text);
            return {
                allowed: false,
                missing: `the registry refused ${this.options.credentialSource ?? 'the credentials given'} an upload to ${repository} (HTTP ${upload.status}${said ? `: ${(0,http/* excerpt */.Kb)(this.options.redact(said))}` : ''})`,
            };
        }
        await this.cancelUpload(upload.headers.location, authorization);
        return { allowed: true, how: 'the registry accepted an upload (cancelled at once)' };
    }
    /** An upload started only to learn push rights is cancelled; failing to cancel changes nothing a target runs. */
    async cancelUpload(location, authorization) {
        if (!location)
            return;
        const url = new URL(location, this.baseUrl);
        // Credentials go to the registry's own origin only.
        if (url.origin !== new URL(this.baseUrl).origin)
            return;
        await this.http
            .request({
            operation: 'upload.cancel',
            method: 'DELETE',
            path: url.href,
            headers: authorization,
            acceptStatus: [400, 401, 403, 404, 405],
            retries: 0,
        })
            .catch(() => undefined);
    }
    /**
     * Sends with the repository's authorization, answering a 401 challenge. A
     * 401 after an answer is final unless its challenge asks for a scope not yet
     * asked for (`error="insufficient_scope"`): then a token for that scope is
     * asked for once more, as bearer.go does.
     */
    async send(repository, actions, build) {
        const wanted = scopeFor(repository, actions);
        let known = this.auth.get(repository);
        let answered = false;
        const accept = (req) => ({
            ...req,
            acceptStatus: [401, ...(req.acceptStatus ?? [])],
        });
        let res = await this.http.request(accept(build(known ? { authorization: known.header } : {})));
        for (let answers = 0; res.status === 401; answers++) {
            const header = res.headers['www-authenticate'];
            const challenges = parseChallenges(header);
            const challenge = pickChallenge(challenges);
            const scopes = mergeScopes([
                ...(challenge ? scopesOf(challenge) : []),
                wanted,
                ...(known?.scopes ?? []),
            ]);
            const asksMore = !coversScopes(known?.scopes ?? [], scopes);
            if (answers >= 2 || (answered && !asksMore))
                throw this.refused(res, build({}).operation, challenge, repository, actions);
            known = await this.authorize(challenges, header, repository, actions, scopes);
            answered = true;
            this.auth.set(repository, known);
            res = await this.http
                .request(accept(build({ authorization: known.header })))
                .catch((error) => {
                throw this.explained(error);
            });
        }
        return res;
    }
    /** A 401 after the challenge was answered: the credentials, or the token's scope, do not reach. */
    refused(res, operation, challenge, repository, actions) {
        const said = (0,http/* providerMessage */.fs)(res.text) ?? challenge?.params.error_description ?? challenge?.params.error;
        // Docker Hub (and the distribution token server) answer an anonymous pull of a private
        // repository with 401 insufficient_scope: the fix is credentials, so the error is about them.
        if (!this.options.credentials)
            return this.anonymousRefusal({ operation, request: res.request, said: said && (0,http/* excerpt */.Kb)(this.options.redact(said)) }, repository, actions, `The repository is private or does not exist. ${ANONYMOUS_HINT}`);
        const credential = this.options.credentialSource;
        const missing = challenge?.params.error === 'insufficient_scope' ? scopesOf(challenge).join(' ') : '';
        return new errors/* ApiError */.hD({
            provider: this.http.provider,
            operation,
            request: res.request,
            status: res.status,
            ...(said ? { providerMessage: (0,http/* excerpt */.Kb)(this.options.redact(said)) } : {}),
            retryable: false,
            attempts: 1,
            ...(credential ? { refusedCredential: credential } : {}),
            ...(missing ? { hint: `The token does not grant ${missing}` } : {}),
        });
    }
    /** `Registry quay.io answered its authentication challenge with HTTP 401. <hint>` */
    unauthorized(hint) {
        return new errors/* ApiError */.hD({
            provider: this.http.provider,
            operation: 'auth',
            request: CHALLENGE,
            status: 401,
            retryable: false,
            attempts: 1,
            hint,
        });
    }
    /**
     * `An anonymous pull of acme/app was refused by Registry quay.io (401: …). <hint>`: the
     * registry's host and, in the hint, the inputs that would give it credentials.
     */
    anonymousRefusal(answer, repository, actions, hint) {
        return new errors/* ApiError */.hD({
            provider: this.http.provider,
            operation: answer.operation,
            request: answer.request,
            status: 401,
            ...(answer.said ? { providerMessage: answer.said } : {}),
            retryable: false,
            attempts: 1,
            refusedCredential: `An anonymous ${actions === 'pull' ? 'pull of' : 'push to'} ${repository}`,
            hint,
        });
    }
    /** A 401/403 to a client that sent no credentials: the fix is to give some, so the error says which inputs. */
    explained(error) {
        if (this.options.credentials || !(error instanceof errors/* ApiError */.hD) || !(0,http/* isRefusal */.vu)(error.status))
            return error;
        return new errors/* ApiError */.hD({
            provider: error.provider,
            operation: error.operation,
            request: error.request,
            ...(error.status === undefined ? {} : { status: error.status }),
            ...(error.providerMessage === undefined ? {} : { providerMessage: error.providerMessage }),
            retryable: false,
            attempts: error.attempts,
            hint: ANONYMOUS_HINT,
        });
    }
    /**
     * Answers the challenge: Basic with the credentials, or a Bearer token from
     * the realm for `scopes` (Docker token spec: GET realm?service=…&scope=…, one
     * `scope` per scope, Basic credentials if any; without credentials the token
     * is an anonymous one, which a public repository grants pull with).
     */
    async authorize(challenges, header, repository, actions, scopes) {
        const challenge = pickChallenge(challenges);
        const creds = this.options.credentials;
        const basic = creds
            ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
            : undefined;
        if (challenge?.scheme === 'basic') {
            // distribution's htpasswd access controller (registry/auth/htpasswd/access.go) challenges
            // every request without credentials this way: no anonymous access exists to fall back on.
            if (!basic)
                throw this.anonymousRefusal({
                    operation: 'auth',
                    request: CHALLENGE,
                    said: 'the registry takes only a username and password (HTTP Basic)',
                }, repository, actions, ANONYMOUS_HINT);
            return { header: basic, scopes, granted: undefined };
        }
        if (!challenge) {
            throw this.unauthorized(`the registry answered 401 with an unknown challenge (${header ?? 'none'})`);
        }
        const realm = URL.parse(challenge.params.realm);
        // As google/go-containerregistry bearer.go (validateRealmURL): credentials go to a realm over
        // plain HTTP only for a registry that is itself spoken to over HTTP (a loopback one).
        if (!realm ||
            !(realm.protocol === 'https:' || (realm.protocol === 'http:' && (0,reference/* isLoopbackRegistry */.jW)(this.registry)))) {
            throw this.unauthorized(`the registry's token realm is not an https URL (${challenge.params.realm})`);
        }
        if (challenge.params.service)
            realm.searchParams.set('service', challenge.params.service);
        for (const scope of scopes)
            realm.searchParams.append('scope', scope);
        const res = await this.http
            .request({
            operation: 'token.get',
            path: realm.href,
            headers: basic ? { authorization: basic } : {},
        })
            .catch((error) => {
            throw this.explained(error);
        });
        const token = res.data?.token ?? res.data?.access_token;
        if (!token)
            throw this.unauthorized('the token server answered without a token');
        this.options.onToken?.(token);
        return { header: `Bearer ${token}`, scopes, granted: grantedActions(res.data, token, repository) };
    }
}
const ANONYMOUS_HINT = 'No credentials were sent: set registry-username and registry-password of an account with access to the image (the GitHub token is sent only to ghcr.io, the Fly API token only to registry.fly.io)';
function scopeFor(repository, actions) {
    return `repository:${repository}:${actions}`;
}
/**
 * The actions a token server says it granted on `repository`: the OAuth2
 * answer's `scope` field, else the `access` claim of a JWT token (distribution
 * docs spec/auth/oauth.md, spec/auth/jwt.md). Undefined when it says nothing
 * (an opaque token). The JWT is read, not verified: this only refuses early
 * what the registry would refuse anyway, it never grants anything.
 */
function grantedActions(answer, token, repository) {
    const fromScopes = (scopes) => new Set(scopes.filter((s) => s.type === 'repository' && s.name === repository).flatMap((s) => s.actions));
    if (typeof answer?.scope === 'string') {
        return fromScopes(answer.scope.split(' ').flatMap((s) => parseScope(s) ?? []));
    }
    const parts = token.split('.');
    if (parts.length !== 3)
        return undefined;
    try {
        const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
        if (!Array.isArray(claims.access))
            return undefined;
        return fromScopes(claims.access.flatMap((a) => typeof a?.type === 'string' && typeof a.name === 'string' && Array.isArray(a.actions)
            ? [
                {
                    type: a.type,
                    name: a.name,
                    actions: a.actions.filter((x) => typeof x === 'string'),
                },
            ]
            : []));
    }
    catch {
        return undefined;
    }
}
function mediaTypeOf(headers, bytes) {
    const header = headers['content-type']?.split(';')[0]?.trim();
    if (header)
        return header;
    try {
        return (JSON.parse(bytes.toString('utf8')).mediaType || MANIFEST_MEDIA_TYPES[1]);
    }
    catch {
        return MANIFEST_MEDIA_TYPES[1];
    }
}
function repositoryPath(repository) {
    return repository.split('/').map(encodeURIComponent).join('/');
}
/**
 * `/v2/<name>/manifests/<reference>`, a digest's colon kept as the distribution spec and
 * google/go-containerregistry (pkg/v1/remote) send it: a colon is legal in a path segment
 * (RFC 3986 pchar), and request paths appear in the log as the user wrote the reference.
 */
function manifestPath(repository, reference) {
    return `/v2/${repositoryPath(repository)}/manifests/${encodeURIComponent(reference).replace(/%3A/gi, ':')}`;
}
/** Raised on the registry's challenge itself, before any token request. */
const CHALLENGE = 'its authentication challenge';


/***/ }),

/***/ 9749:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Tz: () => (/* binding */ DOCKER_HUB_API_HOST),
/* harmony export */   Xb: () => (/* binding */ DOCKER_HUB),
/* harmony export */   bc: () => (/* binding */ readImageReference),
/* harmony export */   jW: () => (/* binding */ isLoopbackRegistry),
/* harmony export */   my: () => (/* binding */ formatImageReference),
/* harmony export */   o_: () => (/* binding */ parseImageReference)
/* harmony export */ });
/**
 * Image references as Docker reads them: `[registry/]repository[:tag][@digest]`,
 * with Docker Hub's defaults (`docker.io`, `library/`) for short names.
 *
 * Docker Hub answers to several names, and they are one registry:
 * distribution/reference `normalize.go` rewrites `index.docker.io` (its
 * legacyDefaultDomain) to `docker.io`, google/go-containerregistry
 * `pkg/name/registry.go` treats `docker.io` and `index.docker.io` alike, and
 * both put one-component names under `library/` (`pkg/name/repository.go`:
 * defaultNamespace). `registry-1.docker.io` is the host the API is served from
 * (Docker's DefaultV2Registry), so a reference naming it is Docker Hub too.
 * Every alias becomes `docker.io` here; `registryBaseUrl` maps that to the API host.
 */
// distribution/reference regexp.go: path components, domain name components, tag.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
/** opencontainers/go-digest: sha256 is exactly 64 lowercase hex digits (the only algorithm registries are asked for here). */
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
// distribution/reference: NameTotalLengthMax, of the name as written (registry and repository).
const NAME_MAX = 255;
/** Docker Hub as image references name it after normalisation. */
const DOCKER_HUB = 'docker.io';
/** The host Docker Hub's registry API is served from. */
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST]);
/** Parses and normalises a reference (Docker Hub aliases to `docker.io`, `library/` for official images); undefined when malformed. */
function parseImageReference(value) {
    const read = readImageReference(value);
    return typeof read === 'string' ? undefined : read;
}
/**
 * Like `parseImageReference`, but a malformed reference gives the reason, in
 * the words of distribution/reference (reference.go, normalize.go) and
 * opencontainers/go-digest, for an input error.
 */
function readImageReference(value) {
    let rest = value.trim();
    if (/^[a-f0-9]{64}$/.test(rest))
        return 'a 64-character hex string is an image id, not a reference';
    let digest;
    const at = rest.indexOf('@');
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!SHA256_DIGEST.test(digest))
            return 'the digest after @ must be sha256: followed by exactly 64 lowercase hex digits';
    }
    let tag;
    const lastSlash = rest.lastIndexOf('/');
    const colon = rest.lastIndexOf(':');
    if (colon > lastSlash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!TAG.test(tag))
            return 'the tag must be 1 to 128 letters, digits, _ . or -, not starting with . or -';
    }
    if (rest.length > NAME_MAX)
        return `the name is longer than ${NAME_MAX} characters`;
    const parts = rest.split('/');
    let registry = DOCKER_HUB;
    const first = parts[0] ?? '';
    // normalize.go splitDockerDomain: a first component is a registry host when it has a `.` or `:`,
    // is `localhost`, or has an uppercase letter (a repository name never does).
    if (parts.length > 1 && (/[.:A-Z]/.test(first) || first === 'localhost' || first.startsWith('['))) {
        if (!DOMAIN.test(first))
            return `the registry host ${JSON.stringify(first)} must be a host name (letters, digits, inner -, dots) with an optional :port`;
        registry = DOCKER_HUB_ALIASES.has(first.toLowerCase()) ? DOCKER_HUB : first;
        parts.shift();
    }
    if (parts.some((p) => p.toLowerCase() !== p && COMPONENT.test(p.toLowerCase())))
        return 'repository names must be lowercase';
    if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p)))
        return 'each /-separated part of the repository must be lowercase letters and digits, separated by . _ __ or -';
    if (registry === DOCKER_HUB && parts.length === 1)
        parts.unshift('library');
    return { registry, repository: parts.join('/'), tag, digest };
}
/** The normalised form `registry/repository:tag` or `registry/repository[:tag]@digest`; normalising it again changes nothing. */
function formatImageReference(ref) {
    const name = `${ref.registry}/${ref.repository}`;
    if (ref.digest)
        return `${name}${ref.tag ? `:${ref.tag}` : ''}@${ref.digest}`;
    return `${name}:${ref.tag ?? 'latest'}`;
}
/** Registries Docker talks to over plain HTTP: only loopback ones. */
function isLoopbackRegistry(registry) {
    const host = registry.toLowerCase().replace(/:\d+$/, '');
    return (host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host));
}


/***/ })

};
