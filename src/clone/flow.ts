import type { ActionContext } from '../core/action.ts';
import { CancelledError, isCancelled } from '../core/cancellation.ts';
import { StepError } from '../core/errors.ts';
import type { HttpClient } from '../core/http.ts';
import {
  ComposedError,
  composedOf,
  joinMessages,
  type Line,
  type Message,
  msg,
  own,
  withoutSuffix,
} from '../core/message.ts';
import type { WaitBound } from '../core/rate-limit.ts';
import { redactedData } from '../core/redacted-data.ts';
import { CloudflareHttp } from '../providers/cloudflare/client.ts';
import { createHerokuHttp } from '../providers/heroku/client.ts';
import { herokuClients } from '../providers/heroku/index.ts';
import { createHetznerHttp } from '../providers/hetzner/client.ts';
import { desiredConfig } from './config.ts';
import type { DnsZone } from './dns.ts';
import { openCloudflareZone, openHetznerZone } from './dns-zones.ts';
import { execute, initialRuntime, removeCreated, type StepResult } from './execute.ts';
import type { CloneSettings } from './inputs.ts';
import { hostnameOf, observe } from './observe.ts';
import { buildPlan, describe } from './plan.ts';
import {
  type CloneReport,
  described,
  planEntries,
  plannedResults,
  REPORT_WORDS,
  renderSummary,
} from './report.ts';
import { resolveServersFile, subdomainUrl } from './servers-file.ts';

/**
 * Real clients for one deadline: the whole clone's, or a fresh one for the clean-up. A rate
 * limit is waited out only when the wait ends before `waitBound` (the clone's deadline).
 */
function connect(settings: CloneSettings, ctx: ActionContext, signal: AbortSignal, waitBound: WaitBound) {
  const common = {
    redact: (text: string) => ctx.secrets.redact(text),
    signal,
    waitBound,
    // One line per wait, rate limit or retry, from the client itself.
    log: (line: Line) => ctx.info(line),
  };
  const heroku = herokuClients(
    createHerokuHttp({ ...common, baseUrl: settings.heroku.apiUrl, apiKey: settings.heroku.apiKey }),
  );
  const openDns = async (): Promise<DnsZone | undefined> => {
    const { provider, domain, token } = settings.dns;
    if (provider === 'none' || domain === undefined) return undefined;
    if (provider === 'hetzner') {
      const http: HttpClient = createHetznerHttp({
        ...common,
        credential: 'dns-token',
        baseUrl: settings.hetznerApiUrl,
        token: token!,
      });
      return openHetznerZone(http, domain, signal);
    }
    return openCloudflareZone(
      new CloudflareHttp({
        ...common,
        credential: 'dns-token',
        baseUrl: settings.cloudflareApiUrl,
        token: token!,
      }),
      domain,
    );
  };
  return { heroku, openDns };
}

/** Preflight (observe), plan, then create and wire the clone step by step; dry-run stops after the plan. */
export async function runClone(settings: CloneSettings, ctx: ActionContext): Promise<void> {
  const deadline = ctx.cancellation.within(settings.timeoutMs);
  const { heroku, openDns } = connect(settings, ctx, deadline, {
    budgetMs: settings.timeoutMs,
    deadlineAt: Date.now() + settings.timeoutMs,
    name: 'the input timeout',
  });
  const serversPath = resolveServersFile(settings.serversFile, ctx.env.GITHUB_WORKSPACE);

  // Our wording as written; the values in it (names, URLs, provider messages) redacted one by one.
  const outside = <T>(data: T) => redactedData(data, ctx.secrets.redactor, REPORT_WORDS);
  const { dns, observed } = await ctx.log.step('preflight', { app: settings.appName }, async () => {
    try {
      return await preflight();
    } catch (error) {
      if (isCancelled(error)) {
        const [source, app, why] = outside([settings.sourceApp, settings.appName, composedOf(error)]);
        await ctx.writeSummary(
          `### Clone ${source} → ${app} cancelled\n\n**Cancelled:** during the preflight, before any change: ${why}\n`,
          { fromRedactedData: true },
        );
      }
      throw error;
    }
  });
  async function preflight() {
    const dns = await openDns().catch((error: unknown) => {
      throw new StepError(
        'preflight',
        msg`read the DNS zone of ${settings.dns.domain ?? own('the domain')}`,
        error,
      );
    });
    const observed = await observe(settings, {
      heroku,
      dns,
      serversPath,
      secret: (value) => ctx.secrets.add(value, 'config-var'),
    }).catch((error: unknown) => {
      if (error instanceof StepError || isCancelled(error)) throw error;
      throw new StepError(
        'preflight',
        msg`read Heroku app ${settings.sourceApp} and the clone's target`,
        error,
      );
    });
    return { dns, observed };
  }
  const desired = desiredConfig(settings, {
    id: observed.source.app.id,
    config: observed.source.config,
    addonVars: observed.source.addonVars,
  });
  const steps = buildPlan(settings, observed);

  ctx.info(
    msg`Plan to clone ${settings.sourceApp} into ${settings.appName}${settings.dryRun ? own(' (dry run)') : ''}:`,
  );
  for (const [i, step] of steps.entries()) {
    ctx.info(msg`  ${i + 1}. ${describe(step)}${step.exists ? own(' (exists)') : ''}`);
  }
  if (desired.addonOwned.length > 0) {
    ctx.info(msg`Not copied, owned by ${settings.sourceApp}'s add-ons: ${desired.addonOwned.join(', ')}`);
  }
  for (const key of desired.addonDerived) {
    ctx.warning(
      msg`${key} of ${settings.sourceApp} is not copied: its value contains the value of an add-on config var, so the clone would use ${settings.sourceApp}'s add-on. To copy it on purpose, set it in the config input (${key}=...)`,
    );
  }

  const runtime = initialRuntime(observed);
  const report = (results: readonly StepResult[], extra: Partial<CloneReport> = {}): CloneReport => ({
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
  const publish = async (r: CloneReport) => {
    const shown = outside(r);
    ctx.setOwnOutput('plan', JSON.stringify(planEntries(shown.results)));
    await ctx.writeSummary(renderSummary(shown), { fromRedactedData: true });
    if (r.failure !== undefined || r.dryRun) return;
    ctx.setOutput('app-name', settings.appName);
    ctx.setOutput('subdomain-url', subdomainUrl(settings));
    if (r.outputs.appId) ctx.setOutput('app-id', r.outputs.appId);
    if (r.outputs.herokuUrl) ctx.setOutput('heroku-url', r.outputs.herokuUrl);
    if (r.outputs.dnsTarget) ctx.setOutput('dns-target', r.outputs.dnsTarget);
    if (r.outputs.record) ctx.setOutput('record', r.outputs.record);
  };

  if (settings.dryRun) {
    for (const step of steps)
      ctx.log.write({ step: step.kind, outcome: step.exists ? 'skipped' : 'planned' });
    await publish(report(plannedResults(steps)));
    ctx.info(msg`Dry run: ${steps.filter((s) => !s.exists).length} step(s) would run; nothing was changed.`);
    return;
  }

  const results: StepResult[] = [];
  try {
    await execute(
      steps,
      {
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
      },
      runtime,
      results,
    );
  } catch (error) {
    let cleanup: CloneReport['cleanup'];
    const cancelled = isCancelled(error) || isCancelled(deadline.reason);
    if (
      settings.onFailure === 'delete' &&
      (runtime.createdApp || runtime.createdRecord || runtime.repointedRecord)
    ) {
      // After a cancellation the deletion gets what is left of the runner's grace, not a minute.
      const fresh = connect(
        settings,
        ctx,
        cancelled ? ctx.cancellation.cleanupSignal() : AbortSignal.timeout(60_000),
        { budgetMs: cancelled ? 0 : 60_000, name: 'the clean-up' },
      );
      const zone =
        runtime.createdRecord || runtime.repointedRecord
          ? await fresh.openDns().catch(() => undefined)
          : undefined;
      cleanup = await removeCreated(runtime, { heroku: fresh.heroku, dns: zone });
      ctx.log.write({
        step: 'on-failure.delete',
        outcome: cleanup.failed.length === 0 ? 'ok' : 'failed',
        detail: joinMessages([...cleanup.removed.map((r) => msg`removed ${r}`), ...cleanup.failed], '; '),
      });
      if (cleanup.removed.length > 0) {
        runtime.appId = undefined;
        runtime.webUrl = undefined;
        runtime.dnsTarget = undefined;
      }
    }
    await publish(report(results, { failure: composedOf(error), cleanup, cancelled }));
    throw withCleanupNote(error, settings, cleanup);
  }

  await publish(report(results));
  ctx.info(
    msg`Cloned ${settings.sourceApp} into ${settings.appName}${hostnameOf(settings) ? msg` at ${subdomainUrl(settings)}` : ''}`,
  );
}

function withCleanupNote(error: unknown, settings: CloneSettings, cleanup: CloneReport['cleanup']): unknown {
  if (error instanceof CancelledError && !cleanup && settings.onFailure === 'keep')
    return new CancelledError(
      error.signalName,
      msg`${error.detail ?? error.composed}; everything made so far is kept: run again to finish the clone`,
    );
  if (!(error instanceof StepError)) return error;
  let note: Message;
  if (cleanup) {
    const removed =
      cleanup.removed.length > 0
        ? msg` on-failure delete removed ${joinMessages(cleanup.removed, ' and ')}.`
        : '';
    const failed =
      cleanup.failed.length > 0
        ? msg` on-failure delete could not remove ${joinMessages(cleanup.failed, '; ')}.`
        : '';
    note = msg`${removed}${failed}`;
  } else if (settings.onFailure === 'keep') {
    note = msg` Everything made so far is kept: run again to finish the clone.`;
  } else {
    note = msg` This run created nothing, so nothing was deleted.`;
  }
  return new StepError(
    error.step,
    error.doing,
    new ComposedError(msg`${withoutSuffix(composedOf(error.cause), '.')}.${note}`),
  );
}
