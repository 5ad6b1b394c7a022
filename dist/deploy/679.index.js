export const id = 679;
export const ids = [679];
export const modules = {

/***/ 679:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   LOCK_ROWS: () => (/* binding */ LOCK_ROWS),
/* harmony export */   lockTable: () => (/* binding */ lockTable),
/* harmony export */   releaseServiceLocks: () => (/* binding */ releaseServiceLocks),
/* harmony export */   runReleaseLock: () => (/* binding */ runReleaseLock)
/* harmony export */ });
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8161);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_os__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _core_errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1915);
/* harmony import */ var _core_message_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3252);
/* harmony import */ var _core_redacted_data_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(5868);
/* harmony import */ var _core_summary_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(1363);
/* harmony import */ var _providers_ssh_session_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(7594);
/* harmony import */ var _discover_hosts_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(9775);
/* harmony import */ var _lock_js__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(6958);








/** Past this many hosts the summary lists the ones where something happened first, and only this many. */
const LOCK_ROWS = 200;
/** Failed hosts named in the step's error; the others are counted. */
const NAMED_IN_ERROR = 10;
const LOCK_RANK = {
    failed: 0,
    released: 1,
    'would release': 2,
    'taken by another run meanwhile': 3,
    'not an ops-actions lock': 4,
    'no lock': 5,
};
/**
 * The summary's table, one row per host up to LOCK_ROWS; past that the failed, released and
 * other noteworthy hosts first, and a line with the count per result. A `hosts-file` of thousands
 * of hosts would otherwise pass the runner's 1 MiB per step summary, which it drops whole.
 * Every host has its line in the step's log.
 */
function lockTable(results) {
    const rows = (0,_core_summary_js__WEBPACK_IMPORTED_MODULE_4__/* .rowsWithin */ .d$)(results, LOCK_ROWS, (r) => LOCK_RANK[r.result]);
    const table = (0,_core_summary_js__WEBPACK_IMPORTED_MODULE_4__/* .summaryTable */ .jb)(['host', 'held by', 'result'], rows.map((r) => [r.host, r.heldBy ?? '—', r.error ?? r.result]));
    if (rows.length === results.length)
        return [table];
    return [
        table,
        '',
        `_${results.length} hosts: ${(0,_core_summary_js__WEBPACK_IMPORTED_MODULE_4__/* .countsLine */ .J7)(results.map((r) => r.result))}. The table shows ${rows.length} of them, those failed or released first; every host has its line in the step's log._`,
    ];
}
/** Reads and releases the service's lock on each host, one host at a time. */
async function releaseServiceLocks(remote, hosts, service, options) {
    const out = [];
    for (const host of hosts) {
        try {
            out.push(await releaseOne(remote, host, service, options));
        }
        catch (error) {
            const reason = (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .composedOf */ .s5)(error);
            options.line((0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `${host.where}: failed: ${reason}`);
            out.push({ host: host.where, heldBy: undefined, result: 'failed', error: reason });
        }
    }
    return out;
}
async function releaseOne(remote, host, service, options) {
    const where = host.where;
    const read = await remote.run(host.login, (0,_lock_js__WEBPACK_IMPORTED_MODULE_7__/* .inspectCommand */ .QR)(service), { timeoutMs: 30_000 });
    if (read.output.split('\n').includes('ops-actions-lock absent')) {
        options.line(`${where}: no ${service} deploy lock is held`);
        return { host: where, heldBy: undefined, result: 'no lock' };
    }
    const answer = (0,_lock_js__WEBPACK_IMPORTED_MODULE_7__/* .parseAcquire */ .G8)(read.output);
    if (answer.kind !== 'held')
        throw new _core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .ComposedError */ .vf((0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `could not read the lock${(0,_lock_js__WEBPACK_IMPORTED_MODULE_7__/* .failureOf */ .g5)(read)}`);
    const token = (0,_lock_js__WEBPACK_IMPORTED_MODULE_7__/* .parseOwnerLine */ .F_)(answer.owner).token;
    if (!token) {
        options.line(`${where}: ~/.ops-actions/locks/${service}.lock holds no owner line that this action writes; left alone, look at it on the host`);
        return { host: where, heldBy: undefined, result: 'not an ops-actions lock' };
    }
    const heldBy = (0,_lock_js__WEBPACK_IMPORTED_MODULE_7__/* .describeOwner */ .$S)(answer.owner);
    if (options.dryRun) {
        options.line(`${where}: would release the ${service} deploy lock, held by ${heldBy}`);
        return { host: where, heldBy, result: 'would release' };
    }
    const release = await remote.run(host.login, (0,_lock_js__WEBPACK_IMPORTED_MODULE_7__/* .releaseCommand */ .Pw)(service, token), { timeoutMs: 30_000 });
    const released = (0,_lock_js__WEBPACK_IMPORTED_MODULE_7__/* .parseRelease */ .BC)(release.output);
    if (released === 'released') {
        options.line(`${where}: released the ${service} deploy lock, held by ${heldBy}`);
        return { host: where, heldBy, result: 'released' };
    }
    if (released === 'absent') {
        options.line(`${where}: the ${service} deploy lock was released meanwhile`);
        return { host: where, heldBy, result: 'no lock' };
    }
    if (released === 'other') {
        options.line(`${where}: another run took the ${service} deploy lock meanwhile; left alone`);
        return { host: where, heldBy, result: 'taken by another run meanwhile' };
    }
    throw new _core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .ComposedError */ .vf((0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `could not release the lock${(0,_lock_js__WEBPACK_IMPORTED_MODULE_7__/* .failureOf */ .g5)(release)}`);
}
/** The whole operation: hosts, locks, summary, outputs; fails when a host could not be read or released. */
async function runReleaseLock(settings, dryRun, ctx) {
    const hosts = await (0,_discover_hosts_js__WEBPACK_IMPORTED_MODULE_6__/* .resolveHosts */ .G)(settings, ctx);
    const session = await _providers_ssh_session_js__WEBPACK_IMPORTED_MODULE_5__/* .SshSession */ .vM.open({ key: settings.sshKey, knownHosts: settings.knownHosts }, ctx.env.RUNNER_TEMP || (0,node_os__WEBPACK_IMPORTED_MODULE_0__.tmpdir)(), { redactor: ctx.secrets.redactor });
    let results;
    try {
        results = await ctx.log.step('ssh.release-lock', { service: settings.service, dryRun: String(dryRun) }, () => releaseServiceLocks(session, hosts, settings.service, { dryRun, line: (text) => ctx.info(text) }));
    }
    finally {
        await session.close();
    }
    // Our wording as written; the service, hosts, holders and errors redacted one by one.
    const redact = (text) => ctx.secrets.redact(text);
    const shown = (0,_core_redacted_data_js__WEBPACK_IMPORTED_MODULE_3__/* .redactedData */ .X)(results, ctx.secrets.redactor, ['result']);
    await ctx.writeSummary([
        `### Release the ${redact(settings.service)} deploy lock${dryRun ? ' (dry run, nothing changed)' : ''}`,
        '',
        ...lockTable(shown),
        '',
    ].join('\n'), { fromRedactedData: true });
    const failed = results.filter((r) => r.result === 'failed');
    const status = failed.length > 0
        ? 'failed'
        : dryRun
            ? 'planned'
            : results.some((r) => r.result === 'released')
                ? 'success'
                : 'unchanged';
    ctx.setOwnOutput('status', status);
    if (failed.length > 0) {
        const named = failed.slice(0, NAMED_IN_ERROR);
        const more = failed.length > named.length ? `; and ${failed.length - named.length} more` : '';
        throw new _core_errors_js__WEBPACK_IMPORTED_MODULE_1__/* .StepError */ .zg('ssh.release-lock', (0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `release the ${settings.service} deploy lock on ${named.map((r) => r.host).join(', ')}${more}`, named.map((r) => (failed.length > 1 ? `${r.host}: ${r.error}` : r.error)).join('; ') + more);
    }
    if (status === 'unchanged')
        ctx.notice((0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `release-lock changed nothing: no host held a ${settings.service} deploy lock that could be released`);
    if (dryRun)
        ctx.info((0,_core_message_js__WEBPACK_IMPORTED_MODULE_2__/* .msg */ .ab) `release-lock of ${settings.service}: dry run, nothing changed`);
}


/***/ })

};
