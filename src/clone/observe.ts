import { existsSync, readFileSync } from 'node:fs';
import { ApiError, StepError } from '../core/errors.ts';
import { msg } from '../core/message.ts';
import { isSecretConfigValue } from '../core/secrets.ts';
import { HerokuAppForbidden, type HerokuAppInfo } from '../providers/heroku/apps.ts';
import type { HerokuDomainInfo } from '../providers/heroku/domains.ts';
import type { Heroku } from '../providers/heroku/index.ts';
import type { HerokuCouplingInfo } from '../providers/heroku/pipelines.ts';
import { MARKER_VAR } from './config.ts';
import type { DnsRecordState, DnsZone } from './dns.ts';
import type { CloneSettings } from './inputs.ts';
import { findRecord, recordPrefix } from './servers-file.ts';

/**
 * Read-only calls that learn everything the plan needs: the account, the source
 * app (pipeline, stage, current release, config and the vars its add-ons own), the
 * target app if it exists, the DNS zone and record, and the servers file.
 */

export interface ObservedSource {
  app: HerokuAppInfo;
  /** Values are secrets: registered the moment they are read. */
  config: Record<string, string>;
  /** Config vars set by the source's add-on attachments, shared ones included (DATABASE_URL and friends). */
  addonVars: string[];
  pipeline: { id: string; name: string };
  stage: string;
  release: { id: string; version: number; slugId: string };
}

export interface ObservedTarget {
  app: HerokuAppInfo;
  config: Record<string, string>;
  coupling: HerokuCouplingInfo | undefined;
  /** The custom domain `<name>.<domain>` on the target, when it is there. */
  domain: HerokuDomainInfo | undefined;
  customDomains: number;
  /** Slug of the release the target runs, if any code was ever released there. */
  currentSlugId: string | undefined;
  /** Whether any release of the target carries code. */
  hasCode: boolean;
}

export interface ObservedDns {
  provider: DnsZone['provider'];
  zone: string;
  /** The record's name relative to the zone, e.g. `tati.staging` in `example.com`. */
  name: string;
  record: DnsRecordState | undefined;
}

export interface Observed {
  account: { id: string; email: string };
  source: ObservedSource;
  target: ObservedTarget | undefined;
  /** Set when an app of the target's name exists but belongs to another account: Heroku's 403 message. */
  targetForbidden?: string | undefined;
  dns: ObservedDns | undefined;
  /** The servers-file line already written for this clone, if any. */
  serversRecord: string | undefined;
}

export interface ObserveDeps {
  heroku: Heroku;
  dns: DnsZone | undefined;
  /** Registers a secret value before anything can print it. */
  secret(value: string): void;
  serversPath: string;
}

export function hostnameOf(settings: Pick<CloneSettings, 'name' | 'dns'>): string | undefined {
  return settings.dns.domain === undefined ? undefined : `${settings.name}.${settings.dns.domain}`;
}

/** The clone's DNS record; a provider's refusal or failure says which record could not be read. */
function readDnsRecord(dns: DnsZone, name: string): Promise<DnsRecordState | undefined> {
  const record = dns.recordName(name);
  return dns.find(record).catch((error: unknown) => {
    if (error instanceof ApiError)
      throw new StepError('preflight', msg`read the DNS record ${record}.${dns.zone}`, error);
    throw error;
  });
}

export async function observe(settings: CloneSettings, deps: ObserveDeps): Promise<Observed> {
  const { heroku } = deps;
  const fail = (source: string, message: string) =>
    new StepError('preflight', msg`clone source app ${source}`, new Error(message));

  const [account, sourceApp] = await Promise.all([
    heroku.account.current(),
    heroku.apps.find(settings.sourceApp).catch((error: unknown) => {
      if (error instanceof HerokuAppForbidden) throw fail(settings.sourceApp, error.message);
      throw error;
    }),
  ]);
  if (!sourceApp)
    throw fail(settings.sourceApp, `Heroku has no app ${settings.sourceApp} that this key can see`);
  if (sourceApp.generation === 'fir') {
    throw fail(
      settings.sourceApp,
      `${settings.sourceApp} is a Fir-generation app: its releases are OCI images, not slugs, and action-clone copies a slug through a pipeline promotion, which only Cedar-generation apps have`,
    );
  }

  const [config, attachments, coupling, release, target, record] = await Promise.all([
    heroku.configVars.get(sourceApp.id),
    heroku.attachments.listByApp(sourceApp.id),
    heroku.couplings.findByApp(sourceApp.id),
    heroku.releases.current(sourceApp.id),
    observeTarget(settings, deps),
    deps.dns ? readDnsRecord(deps.dns, settings.name) : Promise.resolve(undefined),
  ]);
  registerSecrets(config, settings, deps);

  if (!coupling) {
    throw fail(
      settings.sourceApp,
      `${settings.sourceApp} is in no pipeline: the clone's release is promoted through the source's pipeline`,
    );
  }
  if (!release?.slugId) {
    throw fail(settings.sourceApp, `${settings.sourceApp} has no release with code to promote`);
  }
  const pipeline = await heroku.pipelines.get(coupling.pipelineId);

  const serversRecord =
    'forbidden' in target || target.found === undefined
      ? undefined
      : findRecord(readIfExists(deps.serversPath), recordPrefix(settings, target.found.app.webUrl));

  return {
    account,
    source: {
      app: sourceApp,
      config,
      addonVars: [...new Set(attachments.flatMap((a) => a.configVars))].sort(),
      pipeline,
      stage: coupling.stage,
      release: { id: release.id, version: release.version, slugId: release.slugId },
    },
    target: 'forbidden' in target ? undefined : target.found,
    targetForbidden: 'forbidden' in target ? target.forbidden : undefined,
    dns: deps.dns
      ? { provider: deps.dns.provider, zone: deps.dns.zone, name: deps.dns.recordName(settings.name), record }
      : undefined,
    serversRecord,
  };
}

async function observeTarget(
  settings: CloneSettings,
  deps: ObserveDeps,
): Promise<{ found: ObservedTarget | undefined } | { forbidden: string }> {
  const { heroku } = deps;
  let app: HerokuAppInfo | undefined;
  try {
    app = await heroku.apps.find(settings.appName);
  } catch (error) {
    if (error instanceof HerokuAppForbidden) return { forbidden: error.message };
    throw error;
  }
  if (!app) return { found: undefined };
  const hostname = hostnameOf(settings);
  const [config, coupling, domains, releases] = await Promise.all([
    heroku.configVars.get(app.id),
    heroku.couplings.findByApp(app.id),
    heroku.domains.list(app.id),
    heroku.releases.latest(app.id),
  ]);
  registerSecrets(config, settings, deps);
  const current = releases.find((r) => r.current) ?? releases.find((r) => r.status === 'succeeded');
  return {
    found: {
      app,
      config,
      coupling,
      domain: hostname === undefined ? undefined : domains.find((d) => d.hostname === hostname),
      customDomains: domains.filter((d) => d.kind === 'custom').length,
      currentSlugId: current?.slugId,
      hasCode: releases.some((r) => r.slugId !== undefined),
    },
  };
}

/**
 * Config values are secrets (core `isSecretConfigValue`: every value of a secret-named
 * var, any other but plain words and numbers), except two we print on purpose: our
 * marker (an app id) and the `folder` input, which the servers file records by design.
 */
function registerSecrets(config: Record<string, string>, settings: CloneSettings, deps: ObserveDeps): void {
  for (const [key, value] of Object.entries(config)) {
    if (key === MARKER_VAR || value === settings.folder) continue;
    if (isSecretConfigValue(key, value)) deps.secret(value);
  }
}

function readIfExists(path: string): string {
  try {
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  } catch {
    return '';
  }
}
