export const id = 253;
export const ids = [253];
export const modules = {

/***/ 59:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  a2: () => (/* binding */ runPost)
});

// UNUSED EXPORTS: createContext, runAction

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
function failure_summary_renderFailureSummary(report) {
    const error = report.error.length > MAX_ERROR_CHARS ? `${headOf(report.error)}…` : report.error;
    const parts = [
        // The title holds the user's values (an environment may be `prod <!--`): text, never markup.
        `## ${escapeHtml(report.title)}: ${report.cancelled ? 'cancelled, ' : ''}failed`,
        '',
        summaryTable([], [['error', error]]),
        '',
    ];
    // The inputs step says only that the inputs were read; it is no work done.
    const steps = report.steps.filter((s) => s.step !== 'inputs');
    if (report.atInputs)
        parts.push('Nothing was sent or changed: the run stopped at its inputs.');
    else if (steps.length === 0)
        parts.push('No step had finished when the run failed.');
    else {
        parts.push('Steps before the failure, from the operations log (output `log-file`):', '', summaryTable(['step', 'outcome'], steps.slice(0, MAX_STEPS).map((s) => [s.step, describeOutcomes(s.outcomes)])));
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
var message = __webpack_require__(3252);
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
        const fields = JSON.stringify(event, (key, value) => (typeof value === 'string' && !OWN_WORDS.has(key)) || value instanceof message/* Message */.QB
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
            const detail = (0,message/* composedOf */.s5)(error);
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
        return url.username === '' && url.password === '' && secrets_urlSecrets(v).length === 0;
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
function secrets_urlSecrets(value) {
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











async function runAction(definition, env = process.env, toolkit = core) {
    const ctx = createContext(definition.action, env, toolkit);
    let settings;
    let running = false;
    try {
        for (const name of definition.secretInputs)
            ctx.secrets.add(ctx.inputs.raw(name), 'secret');
        // A proxy URL's credentials (HTTPS_PROXY=http://user:password@host:port) never reach what we
        // write; the runner set them, so masking them in its log is its own business.
        for (const name of PROXY_VARIABLES)
            for (const { value, spellings } of urlSecrets(env[name] ?? ''))
                ctx.secrets.redactor.addLiteral(value, 'proxy', spellings);
        ctx.setOwnOutput('log-file', ctx.log.path);
        let parsed;
        try {
            // Checked up front so a bad value fails the step before any request, like a bad input.
            requestTimeoutFromEnv(env);
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
        const message = redactMessage(composedOf(error), ctx.secrets.redactor);
        // A failed run sets them even when it wrote its own summary (evidence cancelled mid-checks).
        for (const [name, value] of Object.entries(definition.failureOutputs ?? {}))
            if (!ctx.hasSetOutput(name))
                ctx.setOwnOutput(name, value);
        if (!ctx.hasWrittenSummary())
            await summarizeFailure(definition, ctx, settings, running, error, message);
        failWith(ctx, error, message);
    }
    finally {
        await closeUndici();
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
        throw new CancelledError(cancelSignalName(cancellation.signal), own('before anything was sent or changed'));
}
/** A `post:` entry: failures there become warnings, as the main step already reported. */
async function runPost(action, work, env = process.env, toolkit = lib_core) {
    const ctx = createContext(`${action}-post`, env, toolkit);
    try {
        await work(ctx);
    }
    catch (error) {
        ctx.warning((0,message/* msg */.ab) `post step: ${error}`);
    }
}
/** `env` is where the run reads its own settings (RUNNER_TEMP, GITHUB_*); the toolkit reads the process's. */
function createContext(action, env, toolkit = lib_core, cancellation = (0,core_cancellation/* processCancellation */.xo)()) {
    const secrets = new Secrets((value) => toolkit.setSecret(value));
    const redact = (line) => (0,message/* redactMessage */.b6)(line, secrets.redactor);
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
            toolkit.setOutput(name, redact(typeof value === 'string' || value instanceof message/* Message */.QB ? value : JSON.stringify(value)));
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
                toolkit.warning(redact((0,message/* msg */.ab) `job summary not written: ${error}`));
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
        cancelled: isCancelled(error),
        error: message,
        atInputs: !running,
        steps: ctx.log.tally(),
    });
    await ctx.writeSummary(markdown, { fromRedactedData: true });
}
function failWith(ctx, error, message) {
    // Already redacted: redacting it again whole would cut the words the first pass kept.
    ctx.log.write({ step: failedStep(error), outcome: 'failed', detail: own(message) });
    if (!isExpectedError(error) && error instanceof Error && error.stack) {
        ctx.toolkit.debug(ctx.secrets.redact(error.stack));
    }
    ctx.toolkit.setFailed(message);
}
function failedStep(error) {
    if (error instanceof InputError || error instanceof EnvironmentError)
        return 'inputs';
    if (error instanceof CancelledError)
        return 'cancelled';
    if (error instanceof StepError)
        return error.step;
    if (error instanceof ApiError)
        return error.operation;
    return 'run';
}


/***/ }),

/***/ 3948:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   cc: () => (/* binding */ CancelledError),
/* harmony export */   xo: () => (/* binding */ processCancellation)
/* harmony export */ });
/* unused harmony exports RUNNER_SIGINT_GRACE_MS, CLEANUP_BUDGET_MS, RECORD_BUDGET_MS, FORCED_EXIT_MS, cancelSignalName, isCancelled, watchCancellation, untilAborted, manualCancellation */
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
/* harmony export */   dz: () => (/* binding */ InputError),
/* harmony export */   eG: () => (/* binding */ EnvironmentError),
/* harmony export */   hD: () => (/* binding */ ApiError)
/* harmony export */ });
/* unused harmony exports StepError, messageOf, isExpectedError */
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
/* harmony export */   _V: () => (/* binding */ formatMs)
/* harmony export */ });
/* unused harmony exports escapeHtml, countsLine, rowsWithin, summaryTable, escapeCell, markdownTable, mermaidGantt */
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
  b7: () => (/* binding */ loadUndici),
  tZ: () => (/* binding */ namingProxy)
});

// UNUSED EXPORTS: PROXY_VARIABLES, closeUndici

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

/***/ 9895:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  pH: () => (/* binding */ SECRET_INPUTS)
});

// UNUSED EXPORTS: parseInputs, parseMaxUnavailable, parseRollbackTo

// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(1915);
// EXTERNAL MODULE: ./src/core/inputs.ts
var inputs = __webpack_require__(9114);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
;// CONCATENATED MODULE: ./src/providers/registry/reference.ts
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
    const read = reference_readImageReference(value);
    return typeof read === 'string' ? undefined : read;
}
/**
 * Like `parseImageReference`, but a malformed reference gives the reason, in
 * the words of distribution/reference (reference.go, normalize.go) and
 * opencontainers/go-digest, for an input error.
 */
function reference_readImageReference(value) {
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
function known_hosts_knownHostsText(text, input) {
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
    lines.forEach((line, index) => {
        const problem = lineProblem(line.trim());
        if (problem)
            throw new InputError(input, msg `line ${index + 1} is not a known_hosts line: ${problem}; each line is "[@cert-authority|@revoked] hosts keytype base64-key [comment]", as ssh-keyscan -p <port> <host> prints it`);
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

// EXTERNAL MODULE: ./src/providers/ssh/private-key.ts
var private_key = __webpack_require__(1846);
;// CONCATENATED MODULE: ./src/deploy/registry-credentials.ts

/** GitHub's container registry: the only host the workflow's GitHub token is for. */
const GITHUB_REGISTRY = 'ghcr.io';
/** Fly's registry: it takes the Fly API token as password with the user name `x`. */
const FLY_REGISTRY = 'registry.fly.io';
/**
 * Reads the registry credentials from the inputs: `registry-username` and
 * `registry-password` (both or neither; InputError otherwise), `github-token`
 * with `GITHUB_ACTOR`, and `fly-api-token`.
 */
function registry_credentials_registrySources(inputs, env) {
    const username = inputs.optional('registry-username');
    const password = inputs.optional('registry-password');
    if ((username === undefined) !== (password === undefined)) {
        throw new InputError(username ? 'registry-password' : 'registry-username', 'must be given together with the other');
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

// EXTERNAL MODULE: external "node:net"
var external_node_net_ = __webpack_require__(7030);
;// CONCATENATED MODULE: ./src/deploy/ssh/publish.ts

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
    if (ip !== '' && isIP(ip) === 0)
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
function publish_reachOf(runArgs) {
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
        throw new InputError('operation', msg `release-lock is for target ssh (the deploy lock a run leaves on the hosts); with target ${kind} there is none: ${kind === 'fly' ? own('Fly leases expire on their own (or fly machine leases clear)') : own('Heroku deploys take no lock')}`);
    }
    const imageRaw = inputs.optional('image');
    const image = imageRaw === undefined ? undefined : imageReference('image', imageRaw);
    if (operation === 'deploy' && kind !== 'heroku' && !image) {
        throw new InputError('image', msg `is required to deploy to ${kind}: an image reference like ghcr.io/org/app:1.2.3`);
    }
    const target = kind === 'fly'
        ? parseFly(inputs)
        : kind === 'ssh'
            ? parseSsh(inputs)
            : parseHeroku(inputs, operation === 'rollback' ? 'rollback' : 'deploy');
    const registry = registrySources(inputs, env);
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
        const key = sshHostKey(parsed);
        const first = seen.get(key);
        if (first !== undefined) {
            const problem = `lists the host ${key} on line ${first} and again on line ${line} (users, the case of a name, a trailing dot and the default port 22 do not make another host); each host must appear once`;
            if (source.file === undefined)
                throw new InputError(source.name, problem);
            atLine(source.name, source.file, line, () => {
                throw new InputError(source.name, problem);
            });
        }
        seen.set(key, line);
    }
}
function parseSsh(inputs) {
    const fromFile = inputs.fileLines('hosts-file', (line) => parseSshHost('hosts-file', line));
    const lines = inputs.entries('hosts');
    if (fromFile && lines.length > 0)
        throw new InputError('hosts', msg `and hosts-file exclude each other; give one`);
    const listed = fromFile
        ? fromFile.entries
        : lines.map((e) => ({ ...e, parsed: parseSshHost('hosts', e.value) }));
    refuseDuplicateHosts(listed, fromFile ? { name: 'hosts-file', file: fromFile.file } : { name: 'hosts' });
    const hosts = listed.map((e) => e.parsed);
    const token = inputs.optional('digitalocean-token');
    if (hosts.length === 0 && token === undefined) {
        throw new InputError(fromFile ? 'hosts-file' : 'hosts', fromFile
            ? `names ${JSON.stringify(fromFile.file)}, which lists no host; give [user@]host[:port] per line, or digitalocean-token`
            : 'or hosts-file or digitalocean-token is required when target is ssh: [user@]host[:port] per line');
    }
    const service = inputs.required('service', 'is required when target is ssh: the container name stem');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(service)) {
        throw new InputError('service', msg `must be a container name stem (letters, digits, _ . -); got ${JSON.stringify(service)}`);
    }
    const runArgs = inputs.raw('run-args');
    const proxy = inputs.choice('proxy', ['none', 'nginx'], 'none');
    const reach = proxy === 'nginx' ? reachOf(runArgs) : undefined;
    if (reach && 'error' in reach)
        throw new InputError('run-args', reach.error);
    const healthCmd = inputs.optional('health-cmd');
    const path = healthPath(inputs);
    // Traffic moves to the new container only after a check passed (issue 18): with nginx one is required.
    if (proxy === 'nginx' && healthCmd === undefined && path === undefined)
        throw new InputError('proxy', msg `nginx needs health-cmd or health-path: the new container must pass a check before traffic moves to it`);
    // Without a proxy nothing probes a path or drains: a value there would be silently ignored.
    if (proxy === 'none' && path !== undefined)
        throw new InputError('health-path', msg `needs proxy: nginx (without a proxy, use health-cmd)`);
    // action.yml gives drain-timeout its default 30: only another value was asked for.
    if (proxy === 'none' && (inputs.optional('drain-timeout') ?? '30') !== '30')
        throw new InputError('drain-timeout', msg `needs proxy: nginx (without a proxy the old container is stopped)`);
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
        throw new InputError('health-path', msg `must be an HTTP path starting with / ; got ${JSON.stringify(path)}`);
    }
    return path;
}
function parseHeroku(inputs, operation) {
    const sourceUrl = inputs.url('source-url');
    const promoteFrom = inputs.optional('promote-from');
    if (sourceUrl && promoteFrom)
        throw new InputError('source-url', msg `and promote-from exclude each other; give one`);
    if (operation === 'deploy' && !sourceUrl && !promoteFrom) {
        throw new InputError('source-url', msg `or promote-from is required to deploy to heroku`);
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
    const ref = readImageReference(value);
    if (typeof ref === 'string')
        throw new InputError(input, msg `must be an image reference like ghcr.io/org/app:1.2.3 (${ref}); got ${JSON.stringify(value)}`);
    return ref;
}
function parseMaxUnavailable(value) {
    if (/^\d+$/.test(value) && Number(value) >= 1)
        return { count: Number(value) };
    if (/^0?\.\d+$/.test(value) && Number(value) > 0)
        return { fraction: Number(value) };
    throw new InputError('max-unavailable', msg `must be a fraction between 0 and 1 (e.g. 0.33) or a count >= 1; got ${JSON.stringify(value)}`);
}
function parseRollbackTo(value) {
    if (value === 'previous')
        return { kind: 'previous' };
    if (/^\d+$/.test(value))
        return { kind: 'deployment', id: Number(value) };
    if (/^deploy_[0-9a-f]{8}$/.test(value))
        return { kind: 'tag', tag: value };
    const image = readImageReference(value);
    if (typeof image !== 'string' && (image.tag !== undefined || image.digest !== undefined))
        return { kind: 'image', image, raw: value };
    // A value that looks like an image reference (a `/`, `:` or `@`) is told what is wrong with it.
    const why = typeof image === 'string' && /[/:@]/.test(value) ? ` (${image})` : '';
    throw new InputError('rollback-to', msg `must be previous, a GitHub deployment id, a deploy_xxxxxxxx tag or an image reference with tag or digest${why}; got ${JSON.stringify(value)}`);
}
function environmentName(value) {
    if (value.length > 255 || /[\n\r]/.test(value))
        throw new InputError('environment', msg `must be a GitHub environment name`);
    return value;
}


/***/ }),

/***/ 3335:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  W: () => (/* binding */ finishLeftovers)
});

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: ./src/core/message.ts
var message = __webpack_require__(3252);
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
                throw new errors/* ApiError */.hD({
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

;// CONCATENATED MODULE: ./src/providers/github/deployments.ts


const MAX_PAGES = 10;
class GitHubDeployments {
    github;
    repo;
    /** `repository` is `owner/repo`, as in GITHUB_REPOSITORY. */
    constructor(github, repository) {
        this.github = github;
        this.repo = repoParams(repository);
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
            const items = providerList(res.data, {
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
        return providerList(res.data, {
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

// EXTERNAL MODULE: ./src/providers/ssh/private-key.ts
var private_key = __webpack_require__(1846);
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

;// CONCATENATED MODULE: ./src/deploy/deployment-state.ts
/**
 * Step state naming the GitHub deployment the main step created or continues, saved before its
 * `in_progress` status and cleared once a final status is recorded: the post step gives a
 * deployment the main step could not finish (cancelled, killed) its final status.
 */
const DEPLOYMENT_STATE = 'deployment';

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
        if (error instanceof errors/* ApiError */.hD && error.status === 404)
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
                    detail: (0,message/* msg */.ab) `it is uncordoned and ${(0,message/* own */.ZV)(state.blue ? 'every blue machine is cordoned or gone' : 'no blue machine is known')}, so it may be all that serves`,
                };
            }
            if (serving)
                await machines.cordon(machine, undefined, signal);
            await machines.destroy(machine, { force: true, ...opts });
            return {
                machine,
                result: 'destroyed',
                ...(serving ? { detail: (0,message/* msg */.ab) `cordoned first; blue ${(0,message/* joinMessages */.hw)(blueServing, ', ')} serves` } : {}),
            };
        }
        catch (error) {
            if (error instanceof errors/* ApiError */.hD && error.status === 404)
                return { machine, result: 'already gone' };
            return { machine, result: 'failed', detail: (0,message/* composedOf */.s5)(error) };
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
            return { machine, result: 'failed', detail: (0,message/* composedOf */.s5)(error) };
        }
    }));
}

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

;// CONCATENATED MODULE: ./src/deploy/ssh/commands.ts
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
function commands_shellQuote(value) {
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
    return `docker ps --all --no-trunc --filter ${commands_shellQuote(`label=${LABEL_SERVICE}=${service}`)} --format ${commands_shellQuote(format)}`;
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
        return `docker pull ${commands_shellQuote(image)}`;
    const server = login.server ? ` ${commands_shellQuote(login.server)}` : '';
    return [
        'set -e',
        'cfg=$(mktemp -d)',
        `trap 'rm -rf "$cfg"' EXIT`,
        `DOCKER_CONFIG="$cfg" docker login --username ${commands_shellQuote(login.username)} --password-stdin${server} >/dev/null`,
        `DOCKER_CONFIG="$cfg" docker pull ${commands_shellQuote(image)}`,
    ].join('; ');
}
function create(spec) {
    const labels = [
        `${LABEL_SERVICE}=${spec.service}`,
        `${LABEL_DEPLOY}=${spec.deployTag}`,
        `${LABEL_IMAGE}=${spec.image}`,
        `${LABEL_DEPLOY_ID}=${spec.deployId}`,
        ...(spec.port !== undefined ? [`${LABEL_PORT}=${spec.port}`] : []),
    ].flatMap((label) => ['--label', commands_shellQuote(label)]);
    const runArgs = spec.runArgs.trim() === '' ? [] : [spec.runArgs.trim()];
    return ['docker create --name', commands_shellQuote(spec.name), ...labels, ...runArgs, commands_shellQuote(spec.image)].join(' ');
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
        parts.push(`curl -fsS -o /dev/null --max-time 5 ${commands_shellQuote(`http://127.0.0.1:${port}${healthPath}`)}`);
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
        `printf '%s\n' ${commands_shellQuote(upstreamConfig(service, port))} > "$f.next"`,
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
    return `docker start ${commands_shellQuote(name)}`;
}
function stop(name) {
    return `docker stop ${commands_shellQuote(name)}`;
}
function remove(name) {
    return `docker rm --force ${commands_shellQuote(name)}`;
}
/** Removes an image only when no container uses it any more; Docker refuses otherwise, which is fine. */
function removeImageIfUnused(image) {
    return `docker image rm ${commands_shellQuote(image)} >/dev/null 2>&1 || true`;
}
function tailLogs(name, lines = 20) {
    return `docker logs --tail ${lines} ${commands_shellQuote(name)}`;
}
/** Exit code of a health attempt when the container has stopped for good: waiting longer cannot help. */
const CONTAINER_GONE = 86;
/**
 * One health attempt: fail fast when the container exited and will not be
 * restarted, otherwise the user's command decides.
 */
function healthAttempt(name, healthCmd) {
    const state = `docker inspect --format '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}' ${commands_shellQuote(name)}`;
    const check = [
        `s=$(${state}) || exit ${CONTAINER_GONE}`,
        `case "$s" in "exited no"|"exited "|"dead "*) echo "container ${name.replace(/[^a-zA-Z0-9_.-]/g, '')} is $s"; exit ${CONTAINER_GONE};; esac`,
    ].join('; ');
    return healthCmd ? `${check}; ${healthCmd}` : check;
}

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
    const lock = `${LOCK_DIR}/${commands_shellQuote(`${service}.lock`)}`;
    const temp = `${LOCK_DIR}/${commands_shellQuote(`.${service}.${token}`)}`;
    return { lock, temp };
}
/** One attempt: prints `ops-actions-lock acquired` or `ops-actions-lock held <owner line>`. */
function acquireCommand(service, owner) {
    const { lock, temp } = paths(service, owner.token);
    const mine = shellQuote(`token=${owner.token} `);
    return [
        `mkdir -p ${LOCK_DIR}`,
        `printf '%s \\n' ${shellQuote(ownerLine(owner))} > ${temp}`,
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
    const aside = `${LOCK_DIR}/${shellQuote(`.${service}.adopt.${owner.token}`)}`;
    const theirs = shellQuote(`token=${heldToken} `);
    const held = `printf 'ops-actions-lock held %s\\n' "$(cat ${lock} 2>/dev/null)"`;
    return [
        `mkdir -p ${LOCK_DIR}`,
        `printf '%s \\n' ${shellQuote(ownerLine(owner))} > ${temp}`,
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
    const mine = commands_shellQuote(`token=${token} `);
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
function lock_describeOwner(line, now = Date.now()) {
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
async function lock_acquireLock(remote, host, service, owner, options) {
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
            throw new ComposedError(msg `could not take the lock${failureOf(result)}`);
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
async function release_releaseLock(ctx, remote, lock) {
    try {
        const host = (0,inputs/* parseSshHost */.wh)('locks', lock.host);
        const result = await remote.run(host, releaseCommand(lock.service, lock.token), { timeoutMs: 30_000 });
        const answer = parseRelease(result.output);
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
            ctx.info((0,message/* msg */.ab) `The ${lock.service} deploy lock on ${lock.host} now belongs to ${lock_describeOwner(owner)}; left alone.`);
            return 'other';
        }
        return cannotRelease(ctx, lock, failureOf(result));
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
            const r = await acquireLock(this.remote, host.login, service, this.owner(), {
                timeoutMs: this.options.lockTimeoutMs,
                ...(this.options.pollMs ? { pollMs: this.options.pollMs } : {}),
                ...(this.options.signal ? { signal: this.options.signal } : {}),
                onWait: (owner) => this.options.line(host, `waiting for the ${service} deploy lock, held by ${describeOwner(owner)}`),
            });
            if (!r.acquired) {
                // Never ours: nothing for this run or its post step to release.
                this.held.splice(this.held.indexOf(lock), 1);
                this.save();
                throw new ComposedError(msg `the ${service} deploy lock is still held by ${describeOwner(r.owner)} after ${formatMs(r.waitedMs)} (lock-timeout); if that run is gone, release it with operation: release-lock (or remove ~/.ops-actions/locks/${service}.lock on the host)`);
            }
            return r;
        });
        lock.taken = true;
        this.save();
        this.options.line(host, result.adopted
            ? `adopted the ${service} deploy lock that an earlier attempt of this run left (${describeOwner(result.adopted)})`
            : `took the ${service} deploy lock${result.waitedMs >= 1000 ? ` after waiting ${formatMs(result.waitedMs)}` : ''}`);
    }
    /** Releases every lock still held; one that cannot be released stays recorded for the post step. */
    async releaseAll() {
        await mapConcurrent([...this.held], async (lock) => {
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

;// CONCATENATED MODULE: ./src/deploy/post-flow.ts














/**
 * What the post step (`post-if: always()`) finishes when the main step was
 * cancelled or killed before it could: green Fly machines of a blue-green
 * deploy that traffic never moved to (destroyed), ssh deploy locks and Fly
 * leases it recorded (each released only while it is still this run's), then a GitHub
 * deployment it left without a final status gets `error`. Each part reads
 * only the state the main step saved; with no state there is nothing to do
 * and no request is sent.
 */
async function finishLeftovers(ctx) {
    const green = await destroyGreen(ctx);
    const released = (await releaseSshLocks(ctx)) + (await releaseFlyLeases(ctx));
    await finaliseDeployment(ctx, released, green);
}
function flyClient(ctx) {
    return createFlyClient({
        baseUrl: ctx.inputs.optional('fly-api-url') || undefined,
        token: ctx.inputs.raw('fly-api-token'),
        redact: (text) => ctx.secrets.redact(text),
        // The post step runs after a cancellation: a short wait for a rate limit, then a warning.
        waitBound: { budgetMs: 10_000, name: 'the post step' },
        log: (line) => ctx.info(line),
    });
}
async function destroyGreen(ctx) {
    const state = parseGreen(ctx.getState(FLY_GREEN_STATE));
    if (!state || state.machines.length === 0)
        return { destroyed: 0, kept: [] };
    const results = await destroyLeftoverGreen(new FlyMachines(flyClient(ctx), state.app), state);
    for (const r of results) {
        ctx.log.write({
            step: 'fly.green.destroy',
            outcome: r.result === 'failed' ? 'failed' : r.result === 'kept' ? 'skipped' : 'ok',
            ids: { app: state.app, machine: r.machine },
            detail: r.detail ? (0,message/* msg */.ab) `${(0,message/* own */.ZV)(r.result)}: ${r.detail}` : (0,message/* own */.ZV)(r.result),
        });
        if (r.result === 'failed')
            ctx.warning((0,message/* msg */.ab) `could not destroy green machine ${r.machine} of Fly app ${state.app}: ${r.detail} (destroy it with fly machines destroy --force ${r.machine})`);
        if (r.result === 'kept')
            ctx.warning((0,message/* msg */.ab) `kept green machine ${r.machine} of Fly app ${state.app}: ${r.detail}. Check which machines serve (fly machines list), then uncordon blue or destroy it by hand (fly machines destroy --force ${r.machine}).`);
    }
    const destroyed = results.filter((r) => r.result === 'destroyed' || r.result === 'already gone').length;
    ctx.info((0,message/* msg */.ab) `Green machines the deploy step left before traffic moved to them: ${destroyed} of ${results.length} destroyed (${(0,message/* joinMessages */.hw)(results.map((r) => (0,message/* msg */.ab) `${r.machine} ${(0,message/* own */.ZV)(r.result)}${r.detail ? (0,message/* msg */.ab) `: ${r.detail}` : ''}`), ', ')}).`);
    return { destroyed, kept: results.filter((r) => r.result === 'kept').map((r) => r.machine) };
}
async function releaseSshLocks(ctx) {
    const held = parseHeldLocks(ctx.getState(LOCKS_STATE));
    if (held.length === 0) {
        ctx.info('No deploy locks left to release.');
        return 0;
    }
    const key = ctx.inputs.optional('ssh-key');
    const session = await SshSession.open({
        key: key === undefined ? undefined : (0,private_key/* normalisePrivateKey */.B)(key, 'ssh-key'),
        knownHosts: ctx.inputs.raw('ssh-known-hosts'),
    }, ctx.env.RUNNER_TEMP || (0,external_node_os_.tmpdir)(), { redactor: ctx.secrets.redactor });
    let released = 0;
    try {
        for (const lock of held) {
            const result = await release_releaseLock(ctx, session, lock);
            if (result === 'released')
                released++;
            ctx.log.write({
                step: 'ssh.unlock',
                outcome: result === 'failed' ? 'failed' : 'ok',
                ids: { host: lock.host, service: lock.service },
                detail: (0,message/* own */.ZV)(result),
            });
        }
    }
    finally {
        await session.close();
    }
    return released;
}
async function releaseFlyLeases(ctx) {
    const intent = parseLeaseIntent(ctx.getState(FLY_LEASES_STATE));
    if (!intent || intent.machines.length === 0)
        return 0;
    const results = await releaseLeftoverLeases(new FlyLeases(flyClient(ctx), intent.app), intent);
    for (const r of results) {
        ctx.log.write({
            step: 'fly.lease.release',
            outcome: r.result === 'failed' ? 'failed' : 'ok',
            ids: { app: intent.app, machine: r.machine },
            detail: r.detail ? (0,message/* msg */.ab) `${(0,message/* own */.ZV)(r.result)}: ${r.detail}` : (0,message/* own */.ZV)(r.result),
        });
        if (r.result === 'failed')
            ctx.warning((0,message/* msg */.ab) `could not release the Fly lease of ${r.machine}: ${r.detail}`);
    }
    const released = results.filter((r) => r.result === 'released').length;
    ctx.info((0,message/* msg */.ab) `Fly leases left by the deploy step: ${released} released, ${results.length - released} no longer ours or already gone.`);
    return released;
}
const UNFINISHED = new Set(['in_progress', 'queued', 'pending']);
async function finaliseDeployment(ctx, released, green) {
    const id = Number(ctx.getState(DEPLOYMENT_STATE));
    const token = ctx.inputs.raw('github-token');
    const repository = ctx.env.GITHUB_REPOSITORY;
    if (!Number.isSafeInteger(id) || id <= 0 || !token || !repository)
        return;
    const history = new GitHubDeployments(createGitHubClient({
        apiUrl: ctx.inputs.optional('github-api-url') || ctx.env.GITHUB_API_URL || 'https://api.github.com',
        token,
        redact: (text) => ctx.secrets.redact(text),
        // The post step runs after a cancellation: a short wait for a rate limit, then a warning.
        rateLimitBudget: { ms: 10_000, bound: 'the post step' },
        log: (line) => ctx.info(line),
        env: ctx.env,
    }), repository);
    const [latest] = await history.statuses(id);
    if (latest && !UNFINISHED.has(latest.state)) {
        ctx.info((0,message/* msg */.ab) `GitHub deployment ${id} already has its final status (${latest.state}).`);
        return;
    }
    // GitHub keeps 140 characters of a description.
    const note = (0,message/* joinMessages */.hw)([
        green.kept.length > 0
            ? (0,message/* msg */.ab) `; green ${(0,message/* joinMessages */.hw)(green.kept, ', ')} may serve (blue cordoned): kept`
            : '',
        green.destroyed > 0
            ? (0,message/* msg */.ab) `; the post step destroyed ${(0,message/* own */.ZV)(green.destroyed)} unused green machine(s)`
            : '',
        released > 0 ? (0,message/* msg */.ab) `; the post step released ${(0,message/* own */.ZV)(released)} lease(s)/lock(s)` : '',
    ], '');
    await history
        .setStatus(id, {
        state: 'error',
        description: (0,message/* redactMessage */.b6)((0,message/* msg */.ab) `cancelled: the deploy step ended without an outcome${note}`, ctx.secrets.redactor),
    })
        .then(() => {
        ctx.info((0,message/* msg */.ab) `GitHub deployment ${id} marked error: the deploy step ended without recording an outcome.`);
        ctx.log.write({
            step: 'github.deployment.status',
            outcome: 'ok',
            ids: { deployment: id, state: 'error' },
        });
    }, (error) => ctx.warning((0,message/* msg */.ab) `could not finalise GitHub deployment ${id}: ${error}`));
}


/***/ }),

/***/ 4253:
/***/ ((module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
__webpack_require__.r(__webpack_exports__);
/* harmony import */ var _core_action_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(59);
/* harmony import */ var _inputs_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(9895);
/* harmony import */ var _post_flow_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3335);



/**
 * The `post:` step (`post-if: always()`): finishes what a cancelled or killed
 * main step could not — leftover ssh locks and Fly leases, and a GitHub
 * deployment left `in_progress` (post-flow.ts).
 */
await (0,_core_action_js__WEBPACK_IMPORTED_MODULE_0__/* .runPost */ .a2)('deploy', async (ctx) => {
    for (const name of _inputs_js__WEBPACK_IMPORTED_MODULE_1__/* .SECRET_INPUTS */ .pH)
        ctx.secrets.add(ctx.inputs.raw(name), 'secret');
    await (0,_post_flow_js__WEBPACK_IMPORTED_MODULE_2__/* .finishLeftovers */ .W)(ctx);
});

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 1846:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   B: () => (/* binding */ normalisePrivateKey)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _core_errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1915);


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
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz(input, problem);
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
        key = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createPrivateKey)({ key: der, format: 'der', type });
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


/***/ })

};
