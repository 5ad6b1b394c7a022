import { StepError } from '../core/errors.ts';
import { ComposedError, type Message, msg, own } from '../core/message.ts';
import { configToSet, desiredConfig, MARKER_VAR } from './config.ts';
import { type DnsChange, type DnsRecordState, decideDns, fqdnValue } from './dns.ts';
import type { CloneSettings } from './inputs.ts';
import { hostnameOf, type Observed, type ObservedTarget } from './observe.ts';

/**
 * The clone as data: every step of the flow, each marked `exists` when the world
 * already has it, so execute only runs what is missing and a re-run after a failure
 * at any step finishes the job without doing anything twice. Pure.
 */

interface Base {
  /** Already in place: nothing to send. */
  exists: boolean;
}

export type Step = Base &
  (
    | { kind: 'app.create'; app: string; region: string; stack: string; team: string | undefined }
    | { kind: 'app.claim'; app: string; marker: string }
    | { kind: 'config.set'; app: string; keys: string[] }
    | {
        kind: 'pipeline.couple';
        app: string;
        pipelineId: string;
        pipeline: string;
        stage: string;
        /** Set when the app is in the pipeline at another stage: that coupling is moved. */
        couplingId: string | undefined;
      }
    | { kind: 'acm.enable'; app: string }
    | { kind: 'domain.add'; app: string; hostname: string }
    | {
        kind: 'dns.upsert';
        provider: 'hetzner' | 'cloudflare';
        zone: string;
        name: string;
        ttl: number;
        /** The domain's DNS target; unknown until the domain is added. */
        target: string | undefined;
        existing: DnsRecordState | undefined;
        /** What differs, when the target is known and a record exists. */
        changes: DnsChange[];
      }
    | { kind: 'dns.manual'; hostname: string; target: string | undefined }
    | {
        kind: 'release.promote';
        app: string;
        source: string;
        sourceId: string;
        pipelineId: string;
        pipeline: string;
        releaseId: string;
        version: number;
      }
    | { kind: 'certificate.wait'; app: string; hostname: string }
    | { kind: 'servers.append'; file: string }
  );

export type StepKind = Step['kind'];

/** Whether this action may work on the target app. */
export type Ownership = 'absent' | 'ours' | 'claimable';

/**
 * The rule that recognises our app. An app carrying MARKER_VAR equal to the source's
 * id is ours (we set it in the first request after the create). Between the create
 * and that request a run can die (crash, timeout, a failed PATCH): the app then has
 * no marker. Such an app is claimed only when it is pristine, so that claiming it can
 * hurt nobody: owned by this key's account (or the clone's team), no config vars at
 * all, in no pipeline, no custom domain, ACM off, and no release that ever carried
 * code. Any other app of the name — one with another source's marker included — is
 * refused, named, and never modified.
 */
export function ownership(settings: CloneSettings, observed: Observed): Ownership {
  if (observed.targetForbidden !== undefined) {
    throw new StepError(
      'app.create',
      msg`create Heroku app ${settings.appName}`,
      new ComposedError(
        msg`${observed.targetForbidden}: the name is taken by an app of another account, so refusing to touch it. Choose another app-name or name`,
      ),
    );
  }
  const target = observed.target;
  if (!target) return 'absent';
  const marker = target.config[MARKER_VAR];
  if (marker === observed.source.app.id) return 'ours';
  if (marker === undefined && isPristine(target, observed, teamOf(settings, observed))) return 'claimable';
  const why =
    marker === undefined
      ? `it has no ${MARKER_VAR} config var, so action-clone did not create it`
      : `its ${MARKER_VAR} names another source app (${marker})`;
  throw new StepError(
    'app.create',
    msg`create Heroku app ${settings.appName}`,
    new ComposedError(
      msg`Heroku app ${settings.appName} already exists and ${why}: refusing to modify it. Choose another app-name or name, or delete that app`,
    ),
  );
}

function isPristine(target: ObservedTarget, observed: Observed, team: string | undefined): boolean {
  const owned =
    target.app.team !== undefined ? target.app.team === team : target.app.ownerId === observed.account.id;
  return (
    owned &&
    Object.keys(target.config).length === 0 &&
    target.coupling === undefined &&
    target.customDomains === 0 &&
    !target.app.acm &&
    !target.hasCode
  );
}

function teamOf(settings: CloneSettings, observed: Observed): string | undefined {
  return settings.team ?? observed.source.app.team;
}

export function buildPlan(settings: CloneSettings, observed: Observed): Step[] {
  const own = ownership(settings, observed);
  const app = settings.appName;
  const { source } = observed;
  const target = observed.target;
  const steps: Step[] = [];

  steps.push({
    kind: 'app.create',
    app,
    region: settings.region ?? source.app.region,
    stack: settings.stack ?? source.app.stack,
    team: teamOf(settings, observed),
    exists: own !== 'absent',
  });
  if (own === 'claimable') steps.push({ kind: 'app.claim', app, marker: MARKER_VAR, exists: false });

  const desired = desiredConfig(settings, {
    id: source.app.id,
    config: source.config,
    addonVars: source.addonVars,
  });
  const current = target?.config ?? {};
  // The marker goes with the create (or the claim), never with the copied config.
  const missing = configToSet(desired.vars, current).filter((key) => key !== MARKER_VAR);
  const keys = missing.length > 0 ? missing : Object.keys(desired.vars).filter((k) => k !== MARKER_VAR);
  steps.push({ kind: 'config.set', app, keys: keys.sort(), exists: missing.length === 0 });

  const stage = settings.stage ?? source.stage;
  const coupling = target?.coupling;
  if (coupling && coupling.pipelineId !== source.pipeline.id) {
    throw new StepError(
      'pipeline.couple',
      msg`couple ${app} to pipeline ${source.pipeline.name}`,
      new ComposedError(
        msg`${app} is coupled to another pipeline (${coupling.pipelineId}), not ${source.pipeline.name}`,
      ),
    );
  }
  steps.push({
    kind: 'pipeline.couple',
    app,
    pipelineId: source.pipeline.id,
    pipeline: source.pipeline.name,
    stage,
    couplingId: coupling && coupling.stage !== stage ? coupling.id : undefined,
    exists: coupling !== undefined && coupling.stage === stage,
  });

  const hostname = hostnameOf(settings);
  if (hostname !== undefined) {
    steps.push({ kind: 'acm.enable', app, exists: target?.app.acm === true });
    const domain = target?.domain;
    steps.push({ kind: 'domain.add', app, hostname, exists: domain !== undefined });
    const dnsTarget = domain?.cname;
    const dns = observed.dns;
    if (dns) {
      const decision =
        dnsTarget === undefined ? undefined : decideDns(dns.record, dnsTarget, settings.dns.ttl);
      if (dns.record?.protected && decision?.op !== 'none') {
        throw new StepError(
          'dns.upsert',
          msg`point ${hostname} at Heroku app ${app}`,
          new ComposedError(msg`the CNAME ${dns.name} in ${dns.zone} is protected against changes`),
        );
      }
      refuseForeignCname(settings, dns, dnsTarget, hostname);
      steps.push({
        kind: 'dns.upsert',
        provider: dns.provider,
        zone: dns.zone,
        name: dns.name,
        ttl: settings.dns.ttl,
        target: dnsTarget,
        existing: dns.record,
        changes: decision?.op === 'update' ? decision.changes : [],
        exists: decision?.op === 'none',
      });
    } else {
      steps.push({ kind: 'dns.manual', hostname, target: dnsTarget, exists: false });
    }
  }

  steps.push({
    kind: 'release.promote',
    app,
    source: source.app.name,
    sourceId: source.app.id,
    pipelineId: source.pipeline.id,
    pipeline: source.pipeline.name,
    releaseId: source.release.id,
    version: source.release.version,
    exists: target?.currentSlugId !== undefined && target.currentSlugId === source.release.slugId,
  });

  if (settings.waitForCertificate && hostname !== undefined) {
    steps.push({
      kind: 'certificate.wait',
      app,
      hostname,
      exists: target?.domain?.acmStatus === 'cert issued',
    });
  }

  steps.push({
    kind: 'servers.append',
    file: settings.serversFile,
    exists: observed.serversRecord !== undefined,
  });
  return steps;
}

/**
 * A CNAME at the name that points anywhere but this app's DNS target belongs to
 * something else (another app, a service outside Heroku): it is refused before
 * anything is created, unless `dns-overwrite` says to repoint it. Before the
 * domain exists its target is unknown, so any existing CNAME is foreign then.
 */
function refuseForeignCname(
  settings: CloneSettings,
  dns: NonNullable<Observed['dns']>,
  dnsTarget: string | undefined,
  hostname: string,
): void {
  const current = dns.record?.values[0];
  if (current === undefined || settings.dns.overwrite) return;
  if (dnsTarget !== undefined && fqdnValue(current) === fqdnValue(dnsTarget)) return;
  throw new StepError(
    'dns.upsert',
    msg`point ${hostname} at Heroku app ${settings.appName}`,
    new ComposedError(
      msg`the CNAME ${dns.name} in ${dns.zone} points at ${current}, not at this app's Heroku DNS target: refusing to repoint it. Set dns-overwrite: true to repoint it, or choose another name`,
    ),
  );
}

/** What a plan says a CNAME points at before Heroku has given the new domain its DNS target. */
const UNKNOWN_TARGET = "the new domain's DNS target (known once Heroku has added the domain)";

/**
 * The step with the DNS target this run has learnt since planning (from the domain it
 * added), so that what is printed about it names the target instead of saying it is unknown.
 */
export function withKnownTarget(step: Step, dnsTarget: string | undefined): Step {
  if ((step.kind === 'dns.upsert' || step.kind === 'dns.manual') && step.target === undefined && dnsTarget)
    return { ...step, target: dnsTarget };
  return step;
}

/** One line a person reads: what the step does (or did). Never a config value. */
/** A step in words: our words around its names and targets (values, core/message.ts). */
export function describe(step: Step): Message {
  switch (step.kind) {
    case 'app.create':
      return msg`create app ${step.app} in ${step.region}${step.team ? msg` for team ${step.team}` : ''}`;
    case 'app.claim':
      return msg`claim app ${step.app} (left empty by an interrupted run): set ${own(step.marker)}`;
    case 'config.set':
      return msg`set ${own(step.keys.length)} config var${step.keys.length === 1 ? '' : own('s')} (values hidden)`;
    case 'pipeline.couple':
      return step.couplingId
        ? msg`move ${step.app} to stage ${step.stage} of pipeline ${step.pipeline}`
        : msg`couple ${step.app} to pipeline ${step.pipeline} at ${step.stage}`;
    case 'acm.enable':
      return msg`enable ACM on ${step.app}`;
    case 'domain.add':
      return msg`add domain ${step.hostname} to ${step.app}`;
    case 'dns.upsert': {
      const target = step.target === undefined ? own(UNKNOWN_TARGET) : fqdnValue(step.target);
      if (!step.existing) return msg`create CNAME ${step.name} -> ${target}`;
      const what = step.changes.length > 0 ? own(` (${step.changes.join(', ')})`) : '';
      return msg`${own(step.exists ? 'keep' : 'update')} CNAME ${step.name} -> ${target}${what}`;
    }
    case 'dns.manual': {
      const target = step.target === undefined ? own(UNKNOWN_TARGET) : fqdnValue(step.target);
      return msg`print CNAME ${step.hostname}. -> ${target} for you to create`;
    }
    case 'release.promote':
      return msg`promote v${step.version} of ${step.source} to ${step.app} through pipeline ${step.pipeline}`;
    case 'certificate.wait':
      return msg`wait for the certificate of ${step.hostname}`;
    case 'servers.append':
      return msg`append a line to ${step.file}`;
  }
}

/** The resource a step works on, for the operations log. */
export function resourceOf(step: Step): string {
  switch (step.kind) {
    case 'domain.add':
    case 'dns.manual':
    case 'certificate.wait':
      return step.hostname;
    case 'dns.upsert':
      return `${step.name}.${step.zone}`;
    case 'servers.append':
      return step.file;
    default:
      return step.app;
  }
}
