import { readFileSync } from 'node:fs';
import { CancelledError } from '../core/cancellation.ts';
import { ApiError, StepError } from '../core/errors.ts';
import { ComposedError, type Line, msg, own } from '../core/message.ts';
import type { OpLog } from '../core/oplog.ts';
import { Progress } from '../core/progress.ts';
import type { HerokuDomainInfo } from '../providers/heroku/domains.ts';
import type { Heroku } from '../providers/heroku/index.ts';
import { MARKER_VAR } from './config.ts';
import { type DnsRecordState, type DnsZone, decideDns, fqdnValue } from './dns.ts';
import type { CloneSettings } from './inputs.ts';
import { hostnameOf, type Observed } from './observe.ts';
import { describe, resourceOf, type Step, withKnownTarget } from './plan.ts';
import { pollUntil } from './poll.ts';
import { appendRecord, findRecord, formatRecord, recordPrefix } from './servers-file.ts';

/**
 * The only code that changes the world: runs the missing steps of the plan in
 * order, one progress line and one operations-log event per step, and keeps what
 * this run created so that `on-failure: delete` removes exactly that.
 */

export type StepStatus = 'exists' | 'done' | 'would-create' | 'failed' | 'not-run' | 'warning';

export interface StepResult {
  step: Step;
  status: StepStatus;
  ms: number;
  note?: string | undefined;
}

/** What the run learned and made; filled in as steps finish. */
export interface Runtime {
  appId: string | undefined;
  webUrl: string | undefined;
  dnsTarget: string | undefined;
  /** The app this run created (not one found or claimed). */
  createdApp: { id: string; name: string } | undefined;
  /** The DNS record this run created (not one it updated). */
  createdRecord: { name: string; record: DnsRecordState } | undefined;
  /** A record this run repointed (dns-overwrite), with what it held before: put back on delete. */
  repointedRecord: { name: string; previous: DnsRecordState; current: DnsRecordState } | undefined;
  record: string | undefined;
}

export interface ExecuteDeps {
  settings: CloneSettings;
  observed: Observed;
  heroku: Heroku;
  dns: DnsZone | undefined;
  /** Desired config values (secrets), looked up by the keys of the config step. */
  desired: Record<string, string>;
  signal: AbortSignal;
  log: OpLog;
  info(line: Line): void;
  warning(line: Line): void;
  serversPath: string;
  /** The run's secrets removed from text written to files. */
  redact(text: string): string;
  now?: () => Date;
  pollIntervalMs?: number;
}

export function initialRuntime(observed: Observed): Runtime {
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
export async function execute(
  steps: Step[],
  deps: ExecuteDeps,
  runtime: Runtime,
  results: StepResult[],
): Promise<void> {
  const progress = new Progress(steps.length, deps.info);
  for (const [index, planned] of steps.entries()) {
    const step = withKnownTarget(planned, runtime.dnsTarget);
    if (step.exists) {
      results.push({ step, status: 'exists', ms: 0 });
      deps.log.write({ step: step.kind, outcome: 'skipped', ids: ids(step, runtime), detail: own('exists') });
      progress.done({ id: String(describe(step)), outcome: 'exists', ms: 0 });
      continue;
    }
    const started = performance.now();
    if (deps.signal.reason instanceof CancelledError) {
      // No step starts after a cancellation, not even one that sends no request (the servers file).
      for (const rest of steps.slice(index))
        results.push({ step: withKnownTarget(rest, runtime.dnsTarget), status: 'not-run', ms: 0 });
      throw new CancelledError(
        deps.signal.reason.signalName,
        msg`stopped before step ${own(index + 1)}, ${describe(step)}`,
      );
    }
    try {
      const outcome = await deps.log.step(step.kind, ids(step, runtime), () => runStep(step, deps, runtime));
      const ms = performance.now() - started;
      results.push({ step, status: outcome.status, ms, note: outcome.note });
      progress.done({ id: String(describe(step)), outcome: outcome.status, ms, note: outcome.note });
    } catch (error) {
      const ms = performance.now() - started;
      const cause = !deps.signal.aborted
        ? error
        : deps.signal.reason instanceof CancelledError
          ? deps.signal.reason
          : new ComposedError(msg`the clone's timeout of ${own(deps.settings.timeoutMs / 1000)} s ran out`);
      const failure = error instanceof StepError ? error : new StepError(step.kind, describe(step), cause);
      results.push({ step, status: 'failed', ms, note: failure.message });
      progress.done({ id: String(describe(step)), outcome: 'failed', ms });
      for (const rest of steps.slice(index + 1))
        results.push({ step: withKnownTarget(rest, runtime.dnsTarget), status: 'not-run', ms: 0 });
      throw failure;
    }
  }
}

function ids(step: Step, runtime: Runtime): Record<string, string | undefined> {
  return { resource: resourceOf(step), app: runtime.appId };
}

interface Outcome {
  status: StepStatus;
  note?: string;
}

async function runStep(step: Step, deps: ExecuteDeps, runtime: Runtime): Promise<Outcome> {
  const { heroku } = deps;
  const appId = () => {
    if (!runtime.appId) throw new ComposedError(msg`app ${deps.settings.appName} is not known yet`);
    return runtime.appId;
  };
  const poll = { signal: deps.signal, intervalMs: deps.pollIntervalMs ?? 250 };

  switch (step.kind) {
    case 'app.create': {
      let app: Awaited<ReturnType<Heroku['apps']['create']>>;
      try {
        app = await heroku.apps.create({
          name: step.app,
          region: step.region,
          stack: step.stack,
          team: step.team,
        });
      } catch (error) {
        if (error instanceof ApiError && error.status === 422 && /taken/i.test(error.message)) {
          throw new ComposedError(
            msg`Heroku app ${step.app} was created by someone else since this run looked: refusing to use it (${error.message})`,
          );
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
      deps.warning(
        msg`Claimed Heroku app ${step.app}: it has no ${MARKER_VAR} but is empty, as a run interrupted right after creating it leaves it`,
      );
      return { status: 'done' };
    case 'config.set': {
      const changes: Record<string, string> = {};
      for (const key of step.keys) changes[key] = deps.desired[key]!;
      if (step.keys.length > 0) await heroku.configVars.update(appId(), changes);
      return { status: 'done' };
    }
    case 'pipeline.couple':
      if (step.couplingId) await heroku.couplings.updateStage(step.couplingId, step.stage);
      else await heroku.couplings.create({ app: appId(), pipelineId: step.pipelineId, stage: step.stage });
      return { status: 'done' };
    case 'acm.enable':
      await heroku.acm.enable(appId()).catch((error: unknown) => {
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
      const dns = deps.dns!;
      const target = step.target ?? runtime.dnsTarget ?? (await pendingDnsTarget(deps, appId()));
      if (!target) throw new ComposedError(msg`no DNS target known for ${step.name}.${step.zone}`);
      const decision = decideDns(step.existing, target, step.ttl);
      if (decision.op === 'none') return { status: 'exists' };
      if (decision.op === 'create') {
        const record = await dns.create(step.name, target, step.ttl);
        runtime.createdRecord = { name: step.name, record };
        return { status: 'done', note: `CNAME ${step.name} -> ${fqdnValue(target)}` };
      }
      const existing = step.existing!;
      await dns.update(step.name, existing, target, step.ttl, decision.changes);
      if (decision.changes.includes('records')) {
        const before = existing.values.join(' ');
        runtime.repointedRecord = {
          name: step.name,
          previous: existing,
          current: { ...existing, values: [fqdnValue(target)], ttl: step.ttl, proxied: false },
        };
        deps.info(
          msg`CNAME ${step.name}.${step.zone} pointed at ${before}; repointed to ${fqdnValue(target)} (dns-overwrite)`,
        );
        return { status: 'done', note: `repointed from ${before}` };
      }
      return { status: 'done', note: `changed ${decision.changes.join(', ')}` };
    }
    case 'dns.manual': {
      const target = step.target ?? runtime.dnsTarget;
      deps.info(
        msg`Create this DNS record at your DNS provider: ${step.hostname}. ${deps.settings.dns.ttl} IN CNAME ${target ? fqdnValue(target) : own('(unknown target)')}`,
      );
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
      const targets = await pollUntil(
        () => heroku.promotions.targets(promotion.id),
        (list) => list.some((t) => t.appId === id && t.status !== 'pending'),
        poll,
      );
      const mine = targets.find((t) => t.appId === id)!;
      if (mine.status !== 'succeeded') {
        throw new ComposedError(
          msg`promotion ${promotion.id} to ${step.app} ${mine.status}: ${mine.errorMessage ?? own('Heroku gave no reason')}`,
        );
      }
      return { status: 'done', note: `promotion ${promotion.id}` };
    }
    case 'certificate.wait': {
      let last: string | undefined;
      const domain = await pollUntil(
        () => heroku.domains.find(appId(), step.hostname),
        (d) => d === undefined || d.acmStatus === 'cert issued' || d.acmStatus === 'failed',
        {
          ...poll,
          onValue: (d) => {
            if (d?.acmStatus && d.acmStatus !== last && d.acmStatus !== 'cert issued') {
              deps.info(msg`certificate of ${step.hostname}: ${d.acmStatus}`);
            }
            last = d?.acmStatus;
          },
        },
      );
      if (!domain) throw new ComposedError(msg`domain ${step.hostname} is gone from ${step.app}`);
      if (domain.acmStatus !== 'cert issued') {
        throw new ComposedError(
          msg`ACM could not issue the certificate of ${step.hostname}: ${domain.acmStatusReason ?? domain.acmStatus}`,
        );
      }
      return { status: 'done' };
    }
    case 'servers.append':
      return appendServers(deps, runtime);
  }
}

/** How long a new domain may stay without a DNS target (`cname: null`) before the step gives up. */
export const DNS_TARGET_WAIT_MS = 30_000;

/**
 * The domain's DNS target. Heroku may answer a new domain with `cname: null` and
 * status `pending`; the Heroku CLI then polls the domain until it is no longer
 * pending (heroku/cli src/lib/domains/wait-for-domain.ts, every 5 s). We poll every
 * second, up to DNS_TARGET_WAIT_MS, because the clone waits on it.
 */
async function dnsTargetOf(
  heroku: Heroku,
  app: string,
  domain: HerokuDomainInfo,
  deps: Pick<ExecuteDeps, 'signal' | 'info'>,
): Promise<string> {
  if (domain.cname) return domain.cname;
  const { signal } = deps;
  deps.info(
    msg`Heroku has not assigned ${domain.hostname} a DNS target yet (status ${domain.status || 'unknown'}); waiting up to ${DNS_TARGET_WAIT_MS / 1000} s`,
  );
  const wait = AbortSignal.any([signal, AbortSignal.timeout(DNS_TARGET_WAIT_MS)]);
  let last = domain;
  try {
    await pollUntil(
      async () => (last = (await heroku.domains.find(app, domain.id)) ?? last),
      (d) => d.cname !== undefined || d.status === 'failed',
      { signal: wait, intervalMs: 1000, maxIntervalMs: 5000 },
    );
  } catch (error) {
    if (signal.aborted) throw error;
  }
  if (last.cname) return last.cname;
  throw new ComposedError(
    msg`Heroku gave ${domain.hostname} no DNS target within ${DNS_TARGET_WAIT_MS / 1000} s (Heroku's domain status: ${last.status || 'unknown'}); run again to pick it up once Heroku has assigned one`,
  );
}

/** A domain a previous run added while its DNS target was still pending. */
async function pendingDnsTarget(deps: ExecuteDeps, app: string): Promise<string> {
  const hostname = hostnameOf(deps.settings)!;
  const domain = await deps.heroku.domains.find(app, hostname);
  if (!domain) throw new ComposedError(msg`domain ${hostname} is gone from ${deps.settings.appName}`);
  return dnsTargetOf(deps.heroku, app, domain, deps);
}

/**
 * Heroku refuses ACM for apps it cannot manage certificates for, e.g. on Eco dynos
 * (devcenter.heroku.com/articles/automated-certificate-management: ACM needs paid
 * dynos). The step fails here, before the domain and the DNS record are touched.
 */
function acmRefusal(error: unknown, app: string): unknown {
  if (!(error instanceof ApiError) || error.status === undefined || error.status < 400 || error.status >= 500)
    return error;
  if (error.status === 401 || error.status === 403) return error;
  return new ComposedError(
    msg`Heroku refused to enable Automated Certificate Management on ${app} (${error.status}: ${error.providerMessage ?? own('no reason given')}). ACM needs dynos of type Basic or above: change the dyno type (heroku ps:type basic -a ${app}) and run again, or clone without a domain (dns-provider: none and no domain)`,
  );
}

/** A write failure is a warning: the clone itself is complete. */
function appendServers(deps: ExecuteDeps, runtime: Runtime): Outcome {
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
  } catch (error) {
    runtime.record = formatRecord(deps.settings, webUrl, now);
    const why = error instanceof Error ? error.message : String(error);
    deps.warning(msg`could not write the servers file ${deps.settings.serversFile}: ${why}`);
    return { status: 'warning', note: why };
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/**
 * `on-failure: delete`: removes what this run created — its DNS record, then its
 * app — and nothing else. Returns one line per thing removed or not.
 */
export async function removeCreated(
  runtime: Runtime,
  deps: { heroku: Heroku; dns: DnsZone | undefined },
): Promise<{ removed: string[]; failed: string[] }> {
  const removed: string[] = [];
  const failed: string[] = [];
  if (runtime.repointedRecord && deps.dns) {
    const { name, previous, current } = runtime.repointedRecord;
    const what = `CNAME ${name}.${deps.dns.zone} (put back to ${previous.values.join(' ')})`;
    try {
      await deps.dns.restore(name, current, previous);
      removed.push(what);
    } catch (error) {
      failed.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (runtime.createdRecord && deps.dns) {
    const what = `CNAME ${runtime.createdRecord.name}.${deps.dns.zone}`;
    try {
      await deps.dns.remove(runtime.createdRecord.name, runtime.createdRecord.record);
      removed.push(what);
    } catch (error) {
      failed.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (runtime.createdApp) {
    const what = `Heroku app ${runtime.createdApp.name}`;
    try {
      await deps.heroku.apps.delete(runtime.createdApp.id);
      removed.push(what);
    } catch (error) {
      failed.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { removed, failed };
}
