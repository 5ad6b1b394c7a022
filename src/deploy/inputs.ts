import { InputError } from '../core/errors.ts';
import { atLine, type InputReader, parseSshHost, type SshHost, sshHostKey } from '../core/inputs.ts';
import { msg, own } from '../core/message.ts';
import { type ImageReference, readImageReference } from '../providers/registry/reference.ts';
import { knownHostsText } from '../providers/ssh/known-hosts.ts';
import { normalisePrivateKey } from '../providers/ssh/private-key.ts';
import { type RegistryCredentialSources, registrySources } from './registry-credentials.ts';
import { reachOf } from './ssh/publish.ts';

export const SECRET_INPUTS = [
  'github-token',
  'registry-password',
  'fly-api-token',
  'digitalocean-token',
  'ssh-key',
  'heroku-api-key',
] as const;

export type RollbackTo =
  | { kind: 'previous' }
  | { kind: 'deployment'; id: number }
  | { kind: 'tag'; tag: string }
  | { kind: 'image'; image: ImageReference; raw: string };

export interface FlyDeploySettings {
  kind: 'fly';
  app: string;
  apiToken: string;
  apiUrl: string;
  strategy: 'rolling' | 'canary' | 'immediate' | 'bluegreen';
  /** A fraction in (0, 1) of the machines, or a count >= 1. */
  maxUnavailable: { fraction: number } | { count: number };
  processGroup: string | undefined;
  /**
   * Sent as `min_secrets_version` with every machine update, so a machine starts only with
   * secrets at least that version (flyctl sends the version `fly secrets set` stored locally).
   */
  minSecretsVersion: number | undefined;
}

export interface SshDeploySettings {
  kind: 'ssh';
  hosts: SshHost[];
  digitalocean: { tag: string; token: string | undefined; apiUrl: string };
  sshKey: string;
  knownHosts: string;
  service: string;
  runArgs: string;
  healthCmd: string | undefined;
  keep: number;
  lockTimeoutMs: number;
  /** `none`: stop old, start new. `nginx`: start beside, health-check, switch the upstream, drain. */
  proxy: 'none' | 'nginx';
  /** HTTP path probed on the new container's own port (proxy nginx), e.g. `/up`. */
  healthPath: string | undefined;
  /** Milliseconds the old container keeps serving after the upstream switch. */
  drainTimeoutMs: number;
}

export interface HerokuDeploySettings {
  kind: 'heroku';
  app: string;
  apiKey: string;
  apiUrl: string;
  source: { kind: 'url'; url: string } | { kind: 'promote'; from: string } | undefined;
}

export interface DeploySettings {
  /** `release-lock` (ssh only) removes this service's deploy lock on the hosts: see ssh/release-lock.ts. */
  operation: 'deploy' | 'rollback' | 'release-lock';
  target: FlyDeploySettings | SshDeploySettings | HerokuDeploySettings;
  environment: string;
  github: { token: string | undefined; apiUrl: string; repository: string | undefined };
  image: ImageReference | undefined;
  tagImage: boolean;
  /** Credentials per registry host: see `credentialsFor` for which host gets which. */
  registry: RegistryCredentialSources;
  rollbackTo: RollbackTo;
  autoRollback: boolean;
  healthTimeoutMs: number;
  dryRun: boolean;
}

/** The settings of a deploy or a rollback: what runDeploy works with. */
export type DeployOrRollback = DeploySettings & { operation: 'deploy' | 'rollback' };

export function parseInputs(inputs: InputReader, env: NodeJS.ProcessEnv = {}): DeploySettings {
  const operation = inputs.choice('operation', ['deploy', 'rollback', 'release-lock'] as const, 'deploy');
  const kind = inputs.choice('target', ['fly', 'ssh', 'heroku'] as const);
  if (operation === 'release-lock' && kind !== 'ssh') {
    throw new InputError(
      'operation',
      msg`release-lock is for target ssh (the deploy lock a run leaves on the hosts); with target ${kind} there is none: ${kind === 'fly' ? own('Fly leases expire on their own (or fly machine leases clear)') : own('Heroku deploys take no lock')}`,
    );
  }
  const imageRaw = inputs.optional('image');
  const image = imageRaw === undefined ? undefined : imageReference('image', imageRaw);
  if (operation === 'deploy' && kind !== 'heroku' && !image) {
    throw new InputError(
      'image',
      msg`is required to deploy to ${kind}: an image reference like ghcr.io/org/app:1.2.3`,
    );
  }
  const target =
    kind === 'fly'
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
      apiUrl: inputs.url('github-api-url', { fallback: env.GITHUB_API_URL || 'https://api.github.com' })!,
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

function parseFly(inputs: InputReader): FlyDeploySettings {
  return {
    kind: 'fly',
    app: inputs.required('fly-app', 'is required when target is fly'),
    apiToken: inputs.required('fly-api-token', 'is required when target is fly'),
    apiUrl: inputs.url('fly-api-url', { fallback: 'https://api.machines.dev/v1' })!,
    strategy: inputs.choice('strategy', ['rolling', 'canary', 'immediate', 'bluegreen'] as const, 'rolling'),
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
function refuseDuplicateHosts(
  listed: { line: number; parsed: SshHost }[],
  source: { name: string; file?: string },
): void {
  const seen = new Map<string, number>();
  for (const { line, parsed } of listed) {
    const key = sshHostKey(parsed);
    const first = seen.get(key);
    if (first !== undefined) {
      const problem = `lists the host ${key} on line ${first} and again on line ${line} (users, the case of a name, a trailing dot and the default port 22 do not make another host); each host must appear once`;
      if (source.file === undefined) throw new InputError(source.name, problem);
      atLine(source.name, source.file, line, () => {
        throw new InputError(source.name, problem);
      });
    }
    seen.set(key, line);
  }
}

function parseSsh(inputs: InputReader): SshDeploySettings {
  const fromFile = inputs.fileLines('hosts-file', (line) => parseSshHost('hosts-file', line));
  const lines = inputs.entries('hosts');
  if (fromFile && lines.length > 0)
    throw new InputError('hosts', msg`and hosts-file exclude each other; give one`);
  const listed = fromFile
    ? fromFile.entries
    : lines.map((e) => ({ ...e, parsed: parseSshHost('hosts', e.value) }));
  refuseDuplicateHosts(listed, fromFile ? { name: 'hosts-file', file: fromFile.file } : { name: 'hosts' });
  const hosts = listed.map((e) => e.parsed);
  const token = inputs.optional('digitalocean-token');
  if (hosts.length === 0 && token === undefined) {
    throw new InputError(
      fromFile ? 'hosts-file' : 'hosts',
      fromFile
        ? `names ${JSON.stringify(fromFile.file)}, which lists no host; give [user@]host[:port] per line, or digitalocean-token`
        : 'or hosts-file or digitalocean-token is required when target is ssh: [user@]host[:port] per line',
    );
  }
  const service = inputs.required('service', 'is required when target is ssh: the container name stem');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(service)) {
    throw new InputError(
      'service',
      msg`must be a container name stem (letters, digits, _ . -); got ${JSON.stringify(service)}`,
    );
  }
  const runArgs = inputs.raw('run-args');
  const proxy = inputs.choice('proxy', ['none', 'nginx'] as const, 'none');
  const reach = proxy === 'nginx' ? reachOf(runArgs) : undefined;
  if (reach && 'error' in reach) throw new InputError('run-args', reach.error);
  const healthCmd = inputs.optional('health-cmd');
  const path = healthPath(inputs);
  // Traffic moves to the new container only after a check passed (issue 18): with nginx one is required.
  if (proxy === 'nginx' && healthCmd === undefined && path === undefined)
    throw new InputError(
      'proxy',
      msg`nginx needs health-cmd or health-path: the new container must pass a check before traffic moves to it`,
    );
  // Without a proxy nothing probes a path or drains: a value there would be silently ignored.
  if (proxy === 'none' && path !== undefined)
    throw new InputError('health-path', msg`needs proxy: nginx (without a proxy, use health-cmd)`);
  // action.yml gives drain-timeout its default 30: only another value was asked for.
  if (proxy === 'none' && (inputs.optional('drain-timeout') ?? '30') !== '30')
    throw new InputError(
      'drain-timeout',
      msg`needs proxy: nginx (without a proxy the old container is stopped)`,
    );
  return {
    kind: 'ssh',
    hosts,
    digitalocean: {
      tag: inputs.raw('digitalocean-tag') || 'deployed-via-api',
      token,
      apiUrl: inputs.url('digitalocean-api-url', { fallback: 'https://api.digitalocean.com/v2' })!,
    },
    sshKey: normalisePrivateKey(
      inputs.required('ssh-key', 'is required when target is ssh: a private key'),
      'ssh-key',
    ),
    knownHosts: knownHostsText(
      inputs.required('ssh-known-hosts', 'is required when target is ssh: known_hosts lines for every host'),
      'ssh-known-hosts',
    ),
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

function healthPath(inputs: InputReader): string | undefined {
  const path = inputs.optional('health-path');
  if (path !== undefined && !/^\/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*$/.test(path)) {
    throw new InputError(
      'health-path',
      msg`must be an HTTP path starting with / ; got ${JSON.stringify(path)}`,
    );
  }
  return path;
}

function parseHeroku(inputs: InputReader, operation: 'deploy' | 'rollback'): HerokuDeploySettings {
  const sourceUrl = inputs.url('source-url');
  const promoteFrom = inputs.optional('promote-from');
  if (sourceUrl && promoteFrom)
    throw new InputError('source-url', msg`and promote-from exclude each other; give one`);
  if (operation === 'deploy' && !sourceUrl && !promoteFrom) {
    throw new InputError('source-url', msg`or promote-from is required to deploy to heroku`);
  }
  const source = sourceUrl
    ? ({ kind: 'url', url: sourceUrl } as const)
    : promoteFrom
      ? ({ kind: 'promote', from: promoteFrom } as const)
      : undefined;
  return {
    kind: 'heroku',
    app: inputs.required('heroku-app', 'is required when target is heroku'),
    apiKey: inputs.required('heroku-api-key', 'is required when target is heroku'),
    apiUrl: inputs.url('heroku-api-url', { fallback: 'https://api.heroku.com' })!,
    source,
  };
}

function imageReference(input: string, value: string): ImageReference {
  const ref = readImageReference(value);
  if (typeof ref === 'string')
    throw new InputError(
      input,
      msg`must be an image reference like ghcr.io/org/app:1.2.3 (${ref}); got ${JSON.stringify(value)}`,
    );
  return ref;
}

export function parseMaxUnavailable(value: string): FlyDeploySettings['maxUnavailable'] {
  if (/^\d+$/.test(value) && Number(value) >= 1) return { count: Number(value) };
  if (/^0?\.\d+$/.test(value) && Number(value) > 0) return { fraction: Number(value) };
  throw new InputError(
    'max-unavailable',
    msg`must be a fraction between 0 and 1 (e.g. 0.33) or a count >= 1; got ${JSON.stringify(value)}`,
  );
}

export function parseRollbackTo(value: string): RollbackTo {
  if (value === 'previous') return { kind: 'previous' };
  if (/^\d+$/.test(value)) return { kind: 'deployment', id: Number(value) };
  if (/^deploy_[0-9a-f]{8}$/.test(value)) return { kind: 'tag', tag: value };
  const image = readImageReference(value);
  if (typeof image !== 'string' && (image.tag !== undefined || image.digest !== undefined))
    return { kind: 'image', image, raw: value };
  // A value that looks like an image reference (a `/`, `:` or `@`) is told what is wrong with it.
  const why = typeof image === 'string' && /[/:@]/.test(value) ? ` (${image})` : '';
  throw new InputError(
    'rollback-to',
    msg`must be previous, a GitHub deployment id, a deploy_xxxxxxxx tag or an image reference with tag or digest${why}; got ${JSON.stringify(value)}`,
  );
}

function environmentName(value: string): string {
  if (value.length > 255 || /[\n\r]/.test(value))
    throw new InputError('environment', msg`must be a GitHub environment name`);
  return value;
}
