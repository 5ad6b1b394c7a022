import type { ActionContext } from '../core/action.ts';
import { CancelledError, cancelSignalName } from '../core/cancellation.ts';
import { msg, own } from '../core/message.ts';
import { Progress } from '../core/progress.ts';
import { redactedData } from '../core/redacted-data.ts';
import { StdoutBatch } from '../core/stdout-batch.ts';
import { loadUndici } from '../core/undici.ts';
import { createFlyClient } from '../providers/fly/client.ts';
import { FlyMachines } from '../providers/fly/machines.ts';
import type { ConfigUpdateSettings } from './inputs.ts';
import { observeTargets } from './observe.ts';
import { buildPlan, describePlan, type PlannedUnit, toSend } from './plan.ts';
import {
  cancelledNote,
  failureOf,
  plannedOnly,
  progressName,
  progressUnit,
  resultsOutput,
  settledWithoutSending,
  toleratedFailures,
  totalsLine,
  totalsOf,
} from './report.ts';
import { ResultsFile, type ShownResult, shownResult } from './results-file.ts';
import { renderSummary, type SummaryInput } from './summary.ts';
import { noun, shardOf } from './targets.ts';
import { createEndpointSender, runFanout } from './update.ts';

/** Observe the targets, plan one call per target, fan the calls out and report. */
export async function runConfigUpdate(settings: ConfigUpdateSettings, ctx: ActionContext): Promise<void> {
  const kind = settings.target.kind;
  // One deadline for the run: discovery's rate-limit waits count against it as the fan-out does.
  const startedAt = Date.now();
  const machinesFor = (signal?: AbortSignal) => {
    const fly = settings.target.kind === 'fly' ? settings.target : undefined;
    if (!fly) throw new Error('Fly Machines are only used when target is fly');
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
  const observed = await ctx.log.step('discover', { target: kind }, () =>
    observeTargets(settings, () => machinesFor(cancel)),
  );
  cancel.throwIfAborted();
  for (const note of observed.notes) ctx.info(note);
  const plan = buildPlan(settings.request, shardOf(observed.selected, settings.shard));
  if (settings.shard) {
    ctx.info(
      msg`Shard ${settings.shard.index}/${settings.shard.count}: ${plan.length} of ${observed.selected.length} targets`,
    );
  }
  if (observed.selected.length === 0)
    ctx.warning(msg`No ${noun(kind, 0)} to update: ${observed.notes.join('; ')}`);
  const title =
    settings.target.kind === 'fly'
      ? `Config update: Fly app ${ctx.secrets.redact(settings.target.app)}`
      : 'Config update: Kamal hosts';
  const notes = [
    ...observed.notes,
    ...(settings.shard ? [`Shard ${settings.shard.index}/${settings.shard.count}.`] : []),
  ];

  const redact = (text: string) => ctx.secrets.redact(text);
  const resultsFile = new ResultsFile(ctx.log.path);
  ctx.setOwnOutput('results-file', resultsFile.path);
  const listName = settings.target.kind === 'kamal' ? settings.target.list : undefined;
  const listedAtOf = (unit: PlannedUnit) =>
    unit.target.line ? `${listName} line ${unit.target.line}` : undefined;
  if (settings.dryRun) {
    // Redacted before it is shortened, as progress lines are: a cut never leaves part of a secret.
    const show = (text: string, unit: PlannedUnit) => progressName(redact(text), listedAtOf(unit));
    for (const line of describePlan(kind, plan, show)) ctx.info(line);
    const results = plan.map((u) => shownResult(plannedOnly(u), redact));
    for (const r of results) resultsFile.add(r);
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
    ctx.info(
      msg`${r.outcome === 'failed' ? own('Failed') : own('Skipped')} ${r.id}${r.region ? msg` (${r.region})` : ''}: ${r.error}`,
    );
    ctx.log.write({
      step: 'update',
      outcome: r.outcome,
      ids: { target: r.id, region: r.region ?? undefined },
      detail: r.error ?? undefined,
    });
  }
  const sending = toSend(plan);
  // The HTTP client's modules are loaded before the fan-out starts: start-up, not the targets' time.
  if (sending.length > 0) await loadUndici();
  const wakes = sending.filter((u) => u.disposition === 'wake').length;
  ctx.info(
    msg`Will update ${sending.length} ${noun(kind, sending.length)}${wakes > 0 ? msg` (${wakes} to wake first)` : ''}`,
  );

  const batch = new StdoutBatch();
  const logged = ctx.log.batchTurns();
  const progress = new Progress(sending.length, (line) => {
    batch.hold();
    ctx.info(line);
  });
  const started = performance.now();
  // Each result is redacted once, as it finishes; every output after that shows this copy.
  const sent: ShownResult[] = [];
  const listedAt = new Map<ShownResult, string>();
  await runFanout(
    sending,
    {
      concurrency: settings.concurrency,
      retries: settings.retries,
      timeoutMs: settings.timeoutMs,
      deadlineMs: settings.deadlineMs,
      spentMs: Date.now() - startedAt,
      cancel,
    },
    {
      send: createEndpointSender((t) => ctx.secrets.redact(t)),
      machines: (signal) => machinesFor(signal),
      onFinish: (result, index) => {
        const shown = shownResult(result, redact);
        sent[index] = shown;
        resultsFile.add(shown);
        const unit = sending[index];
        const where = unit ? listedAtOf(unit) : undefined;
        if (where) listedAt.set(shown, where);
        progress.done(progressUnit(shown, where));
        logResult(ctx, shown);
      },
      onRetry: (unit: PlannedUnit, event) => {
        ctx.log.write({
          step: 'update',
          outcome: 'retried',
          ids: { target: unit.target.id, attempt: event.attempt },
          detail: `${event.reason}; next attempt in ${event.delayMs} ms`,
        });
      },
    },
  ).finally(() => {
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
  if (cancelled) throw new CancelledError(cancelSignalName(cancel), cancelled);
  const failure = failureOf(results, settings.maxFailures, (r) => listedAt.get(r as ShownResult));
  if (failure) throw failure;
  const tolerated = toleratedFailures(results, settings.maxFailures, (r) => listedAt.get(r as ShownResult));
  if (tolerated) ctx.warning(tolerated);
}

function logResult(ctx: ActionContext, r: ShownResult): void {
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
async function publish(
  ctx: ActionContext,
  summary: Omit<SummaryInput, 'output' | 'results'> & { results: readonly ShownResult[] },
): Promise<void> {
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
