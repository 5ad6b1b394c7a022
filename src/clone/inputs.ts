import { InputError } from '../core/errors.ts';
import type { InputReader } from '../core/inputs.ts';
import { msg } from '../core/message.ts';

export const SECRET_INPUTS = ['heroku-api-key', 'dns-token'] as const;

export type DnsProvider = 'hetzner' | 'cloudflare' | 'none';
export type PipelineStage = 'review' | 'development' | 'staging' | 'production';

export interface CloneSettings {
  name: string;
  folder: string | undefined;
  folderVar: string;
  sourceApp: string;
  appName: string;
  stage: PipelineStage | undefined;
  region: string | undefined;
  stack: string | undefined;
  team: string | undefined;
  /** Overrides; values are secrets. */
  config: Record<string, string>;
  excludeConfig: string[];
  dns: {
    provider: DnsProvider;
    domain: string | undefined;
    token: string | undefined;
    ttl: number;
    /** Repoint a CNAME at the name that points elsewhere, instead of refusing. */
    overwrite: boolean;
  };
  heroku: { apiKey: string; apiUrl: string };
  hetznerApiUrl: string;
  cloudflareApiUrl: string;
  waitForCertificate: boolean;
  timeoutMs: number;
  serversFile: string;
  onFailure: 'keep' | 'delete';
  dryRun: boolean;
}

/** Heroku's app name rule. */
export const HEROKU_APP_NAME = /^[a-z][a-z0-9-]{1,28}[a-z0-9]$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STAGES = ['review', 'development', 'staging', 'production'] as const;

export function parseInputs(inputs: InputReader): CloneSettings {
  const name = inputs.required('name', 'is required: the instance name (a DNS label)');
  if (!DNS_LABEL.test(name)) {
    throw new InputError(
      'name',
      msg`must be a lowercase DNS label (letters, digits, inner dashes); got ${JSON.stringify(name)}`,
    );
  }
  const sourceApp = inputs.required('source-app', 'is required: the Heroku app to clone');
  const appName = renderAppName(inputs.raw('app-name') || '{source-app}-{name}', { name, sourceApp });
  const provider = inputs.choice('dns-provider', ['hetzner', 'cloudflare', 'none'] as const, 'hetzner');
  const domain = inputs.optional('domain')?.toLowerCase().replace(/\.$/, '');
  if (domain !== undefined && !DOMAIN.test(domain)) {
    throw new InputError('domain', msg`must be a DNS zone like example.com; got ${JSON.stringify(domain)}`);
  }
  if (provider !== 'none' && domain === undefined) {
    throw new InputError('domain', msg`is required when dns-provider is ${provider}`);
  }
  const token = inputs.optional('dns-token');
  if (provider !== 'none' && token === undefined) {
    throw new InputError('dns-token', msg`is required when dns-provider is ${provider}`);
  }
  const folderVar = inputs.raw('folder-var') || 'IMAGE_FOLDER';
  if (!ENV_NAME.test(folderVar))
    throw new InputError('folder-var', msg`must be a config var name like IMAGE_FOLDER`);
  const folder = inputs.optional('folder');
  // The servers file is comma-separated, one record per line.
  if (folder !== undefined && /[,\r\n]/.test(folder)) {
    throw new InputError(
      'folder',
      msg`must not contain a comma or a line break; got ${JSON.stringify(folder)}`,
    );
  }
  const exclude = inputs.list('exclude-config');
  for (const pattern of exclude) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(pattern)) {
      throw new InputError(
        'exclude-config',
        msg`takes KEY or PREFIX_* entries; ${JSON.stringify(pattern)} is neither`,
      );
    }
  }
  return {
    name,
    folder,
    folderVar,
    sourceApp,
    appName,
    stage: inputs.raw('stage') === '' ? undefined : inputs.choice('stage', STAGES),
    region: inputs.optional('region'),
    stack: inputs.optional('stack'),
    team: inputs.optional('team'),
    config: inputs.keyValues('config', { secretValues: true }),
    excludeConfig: exclude,
    dns: {
      provider,
      domain,
      token,
      ttl: inputs.integer('dns-ttl', 300, { min: 60, max: 86_400 }),
      overwrite: inputs.boolean('dns-overwrite', false),
    },
    heroku: {
      apiKey: inputs.required('heroku-api-key'),
      apiUrl: inputs.url('heroku-api-url', { fallback: 'https://api.heroku.com' })!,
    },
    hetznerApiUrl: inputs.url('hetzner-api-url', { fallback: 'https://api.hetzner.cloud/v1' })!,
    cloudflareApiUrl: inputs.url('cloudflare-api-url', { fallback: 'https://api.cloudflare.com/client/v4' })!,
    waitForCertificate: inputs.boolean('wait-for-certificate', false),
    timeoutMs: inputs.seconds('timeout', 600, { max: 6 * 3600 }),
    serversFile: inputs.raw('servers-file') || 'scripts/servers.txt',
    onFailure: inputs.choice('on-failure', ['keep', 'delete'] as const, 'keep'),
    dryRun: inputs.boolean('dry-run', false),
  };
}

export function renderAppName(template: string, values: { name: string; sourceApp: string }): string {
  const unknown = /\{(?!name\}|source-app\})[^}]*\}/.exec(template);
  if (unknown) throw new InputError('app-name', msg`knows {name} and {source-app}; ${unknown[0]} is neither`);
  const rendered = template.replaceAll('{name}', values.name).replaceAll('{source-app}', values.sourceApp);
  if (!HEROKU_APP_NAME.test(rendered)) {
    throw new InputError(
      'app-name',
      msg`gives ${JSON.stringify(rendered)}, which Heroku refuses: 3-30 characters, lowercase letters, digits and dashes, starting with a letter and not ending with a dash`,
    );
  }
  return rendered;
}
