import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RecordedRequest } from '../../sandbox/fake-server.ts';
import { seedDemoFleet } from '../../sandbox/fleet.ts';
import { type Sandbox, startSandbox } from '../../sandbox/index.ts';
import { mapConcurrent } from '../../src/core/fanout.ts';
import { type ActionName, runBundle } from '../helpers/run-bundle.ts';
import { generatedKeys } from '../helpers/ssh-keys.ts';
import type { Cell, MatrixResult } from './matrix.ts';

/**
 * Bad input (issue 9): every case runs the committed bundle with every API URL
 * input pointed at a fresh sandbox, so a request sent before validation would
 * be counted. Goal per case: exit 1, exactly one `::error::` that names the
 * input and what is allowed, and 0 requests to any fake (0 mutating ones where
 * the check needs the history first, which the row says).
 */

export interface BadInputCase {
  action: ActionName;
  label: string;
  /** Overrides of the action's valid base inputs; '' removes an input. */
  inputs: Record<string, string>;
  /** What the `::error::` line must name: the input (or the checks-file field). */
  names: string;
  /** What it must say is allowed. */
  allowed: string;
  /** The checks file of an evidence case, when not the valid one. */
  checksFile?: string;
  /** Files in the workspace (path → text, `{KAMAL}` replaced), for `urls-file` and `hosts-file`. */
  files?: Record<string, string>;
  /** The case needs the deployment history before it can know the input matches nothing. */
  readsFirst?: boolean;
}

export const EVIDENCE_CHECKS = `target: staging
milestones: [source-synced, gates-pass, health-passes]
checks:
  - id: disk
    run: df -h /
  - id: health
    http: {KAMAL}/up
    expect: 200
`;

const c = (
  action: ActionName,
  label: string,
  inputs: Record<string, string>,
  names: string,
  allowed: string,
  extra: Partial<BadInputCase> = {},
): BadInputCase => ({ action, label, inputs, names, allowed, ...extra });

export const CASES: BadInputCase[] = [
  // clone
  c(
    'clone',
    'unknown dns-provider',
    { 'dns-provider': 'route53' },
    "'dns-provider'",
    'hetzner, cloudflare, none',
  ),
  c('clone', 'name not a DNS label', { name: 'Tati_1' }, "'name'", 'lowercase DNS label'),
  c(
    'clone',
    'app-name Heroku refuses (case, underscore)',
    { 'app-name': 'Fetlife_{name}' },
    "'app-name'",
    '3-30 characters',
  ),
  c(
    'clone',
    'app-name Heroku refuses (too long)',
    { 'app-name': '{source-app}-{name}-and-a-long-tail' },
    "'app-name'",
    '3-30 characters',
  ),
  c(
    'clone',
    'app-name unknown placeholder',
    { 'app-name': '{region}-{name}' },
    "'app-name'",
    '{name} and {source-app}',
  ),
  c(
    'clone',
    'malformed heroku-api-url',
    { 'heroku-api-url': 'api heroku com' },
    "'heroku-api-url'",
    'http(s) URL',
  ),
  c(
    'clone',
    'hetzner-api-url not http(s)',
    { 'hetzner-api-url': 'ftp://api.hetzner.cloud/v1' },
    "'hetzner-api-url'",
    'http(s) URL',
  ),
  c(
    'clone',
    'cloudflare-api-url with credentials',
    { 'dns-provider': 'cloudflare', 'cloudflare-api-url': 'https://u:p@api.cloudflare.com/client/v4' },
    "'cloudflare-api-url'",
    'token inputs',
  ),
  c(
    'clone',
    'dns-ttl not a number',
    { 'dns-ttl': 'five minutes' },
    "'dns-ttl'",
    'whole number from 60 to 86400',
  ),
  c('clone', 'dns-ttl below the minimum', { 'dns-ttl': '30' }, "'dns-ttl'", 'whole number from 60 to 86400'),
  c('clone', 'negative timeout', { timeout: '-5' }, "'timeout'", 'of at least 1'),
  c('clone', 'sub-second timeout', { timeout: '0.0001' }, "'timeout'", 'of at least 1'),
  c('clone', 'unknown on-failure', { 'on-failure': 'destroy' }, "'on-failure'", 'keep, delete'),
  c('clone', 'domain not a zone', { domain: 'shibari photo' }, "'domain'", 'DNS zone like example.com'),
  c('clone', 'unknown stage', { stage: 'prod' }, "'stage'", 'review, development, staging, production'),
  c(
    'clone',
    'wait-for-certificate not a boolean',
    { 'wait-for-certificate': 'maybe' },
    "'wait-for-certificate'",
    'true or false',
  ),
  c('clone', 'config line without KEY=', { config: 'FEATURE_FLAG=on\nnot a pair' }, "'config'", 'KEY=value'),
  c(
    'clone',
    'exclude-config bad pattern',
    { 'exclude-config': 'SENTRY-*' },
    "'exclude-config'",
    'KEY or PREFIX_*',
  ),
  c(
    'clone',
    'dns-token missing for hetzner',
    { 'dns-token': '' },
    "'dns-token'",
    'required when dns-provider is hetzner',
  ),
  // config-update
  c('config-update', 'unknown target', { target: 'k8s' }, "'target'", 'fly, kamal'),
  c('config-update', 'unknown method', { method: 'BREW' }, "'method'", 'POST, PUT, PATCH, GET, DELETE'),
  c(
    'config-update',
    'url without scheme',
    { url: 'smooth.fly.dev/showcase/update_config' },
    "'url'",
    'http(s) URL',
  ),
  c(
    'config-update',
    'kamal urls with a malformed line',
    { target: 'kamal', urls: '{KAMAL}/update\nhost-2 /update' },
    "'urls'",
    'http(s) URL',
  ),
  c(
    'config-update',
    'kamal urls listing a host twice',
    { target: 'kamal', urls: '{KAMAL}/update\n{KAMAL}/update' },
    "'urls'",
    'each endpoint must appear once',
  ),
  c(
    'config-update',
    'kamal urls listing a host twice as the server sees it (fragment, case, default port)',
    { target: 'kamal', urls: '{KAMAL}/update\n{KAMAL}/update#again' },
    "'urls'",
    'each endpoint must appear once',
  ),
  c(
    'config-update',
    'urls-file with a malformed line',
    { target: 'kamal', urls: '', 'urls-file': 'fleet/urls.txt' },
    `'urls-file' "fleet/urls.txt" line 3`,
    'http(s) URL',
    { files: { 'fleet/urls.txt': '# fleet\n{KAMAL}/update\nhost-2 /update\n' } },
  ),
  c(
    'config-update',
    'urls-file listing a host twice as the server sees it',
    { target: 'kamal', urls: '', 'urls-file': 'urls.txt' },
    `'urls-file' "urls.txt" line 2`,
    'each endpoint must appear once',
    { files: { 'urls.txt': '{KAMAL}/update\n{KAMAL}/update?\n' } },
  ),
  c(
    'config-update',
    'urls-file naming a missing file',
    { target: 'kamal', urls: '', 'urls-file': 'missing.txt' },
    "'urls-file'",
    'a workspace path to a file with one entry per line',
  ),
  c(
    'config-update',
    'urls and urls-file both given',
    { target: 'kamal', 'urls-file': 'urls.txt' },
    "'urls'",
    'give one',
    { files: { 'urls.txt': '{KAMAL}/update\n' } },
  ),
  c(
    'config-update',
    'concurrency not a number',
    { concurrency: 'eight' },
    "'concurrency'",
    'whole number from 1 to 256',
  ),
  c('config-update', 'concurrency zero', { concurrency: '0' }, "'concurrency'", 'whole number from 1 to 256'),
  c('config-update', 'negative retries', { retries: '-1' }, "'retries'", 'whole number from 0 to 10'),
  c('config-update', 'negative timeout', { timeout: '-1' }, "'timeout'", 'of at least 1'),
  c('config-update', 'sub-second timeout', { timeout: '0.0001' }, "'timeout'", 'of at least 1'),
  c('config-update', 'deadline not a number', { deadline: 'soon' }, "'deadline'", 'of at least 1'),
  c('config-update', 'sub-second deadline', { deadline: '0.5' }, "'deadline'", 'of at least 1'),
  c('config-update', 'shard index past count', { shard: '3/2' }, "'shard'", 'i/n with 1 <= i <= n'),
  c('config-update', 'shard index zero', { shard: '0/3' }, "'shard'", 'i/n with 1 <= i <= n'),
  c('config-update', 'shard not i/n', { shard: 'first-half' }, "'shard'", 'i/n with 1 <= i <= n'),
  c(
    'config-update',
    'unknown stopped-machines',
    { 'stopped-machines': 'ignore' },
    "'stopped-machines'",
    'skip, wake, fail',
  ),
  c(
    'config-update',
    'fly-app not a Fly name',
    { 'fly-app': 'Smooth App' },
    "'fly-app'",
    'lowercase letters, digits, dashes',
  ),
  c(
    'config-update',
    'header line without a name',
    { headers: 'X-Ok: 1\n: no name' },
    "'headers'",
    "'Name: value'",
  ),
  c(
    'config-update',
    'negative max-failures',
    { 'max-failures': '-1' },
    "'max-failures'",
    'whole number >= 0',
  ),
  c(
    'config-update',
    'malformed fly-api-url',
    { 'fly-api-url': 'machines dev' },
    "'fly-api-url'",
    'http(s) URL',
  ),
  // deploy
  c('deploy', 'unknown operation', { operation: 'redeploy' }, "'operation'", 'deploy, rollback'),
  c('deploy', 'unknown target', { target: 'k8s' }, "'target'", 'fly, ssh, heroku'),
  c('deploy', 'unknown strategy', { strategy: 'blue-green' }, "'strategy'", 'rolling, canary, immediate'),
  c(
    'deploy',
    'max-unavailable above 1 as a fraction',
    { 'max-unavailable': '1.5' },
    "'max-unavailable'",
    'fraction between 0 and 1',
  ),
  c(
    'deploy',
    'malformed image reference',
    { image: 'ghcr.io/Acme/Web:1.0' },
    "'image'",
    'image reference like',
  ),
  c('deploy', 'negative health-timeout', { 'health-timeout': '-10' }, "'health-timeout'", 'of at least 1'),
  c('deploy', 'sub-second health-timeout', { 'health-timeout': '0.5' }, "'health-timeout'", 'of at least 1'),
  c(
    'deploy',
    'ssh sub-second lock-timeout',
    { target: 'ssh', 'lock-timeout': '0.0001' },
    "'lock-timeout'",
    'of at least 1',
  ),
  c(
    'deploy',
    'ssh sub-second drain-timeout',
    {
      target: 'ssh',
      proxy: 'nginx',
      'health-path': '/healthz',
      'run-args': '-p 8080',
      'drain-timeout': '0.2',
    },
    "'drain-timeout'",
    'of at least 1',
  ),
  c('deploy', 'tag-image not a boolean', { 'tag-image': 'sometimes' }, "'tag-image'", 'true or false'),
  c(
    'deploy',
    'malformed github-api-url',
    { 'github-api-url': 'api github com' },
    "'github-api-url'",
    'http(s) URL',
  ),
  c(
    'deploy',
    'registry-username without password',
    { 'registry-username': 'deployer' },
    "'registry-password'",
    'together with the other',
  ),
  c(
    'deploy',
    'rollback-to not a version',
    { operation: 'rollback', 'rollback-to': 'yesterday' },
    "'rollback-to'",
    'previous, a GitHub deployment id, a deploy_xxxxxxxx tag',
  ),
  c(
    'deploy',
    'rollback-to a deploy tag that matches nothing',
    { target: 'heroku', operation: 'rollback', 'rollback-to': 'deploy_0badc0de' },
    "'rollback-to'",
    'carries that tag (GitHub deployments of every environment were searched)',
    { readsFirst: true },
  ),
  c(
    'deploy',
    'ssh host with a port past 65535',
    { target: 'ssh', hosts: 'deploy@127.0.0.1:99999' },
    "'hosts'",
    '1-65535',
  ),
  c(
    'deploy',
    'ssh host with a non-numeric port',
    { target: 'ssh', hosts: 'deploy@127.0.0.1:ssh' },
    "'hosts'",
    '[user@]host[:port]',
  ),
  c(
    'deploy',
    'ssh hosts naming one host twice (another user, a trailing dot)',
    { target: 'ssh', hosts: 'alice@web1\nbob@WEB1.' },
    "'hosts'",
    'each host must appear once',
  ),
  c(
    'deploy',
    'ssh hosts-file naming one IPv6 host twice ([::1], [0:0::1])',
    { target: 'ssh', hosts: '', 'hosts-file': 'hosts.txt' },
    `'hosts-file' "hosts.txt" line 2`,
    'each host must appear once',
    { files: { 'hosts.txt': 'deploy@[::1]\ndeploy@[0:0::1]:22\n' } },
  ),
  c(
    'deploy',
    'ssh hosts-file with a malformed line',
    { target: 'ssh', hosts: '', 'hosts-file': 'hosts.txt' },
    `'hosts-file' "hosts.txt" line 2`,
    '[user@]host[:port]',
    { files: { 'hosts.txt': '# web\ndeploy@127.0.0.1:ssh\n' } },
  ),
  c(
    'deploy',
    'ssh hosts and hosts-file both given',
    { target: 'ssh', 'hosts-file': 'hosts.txt' },
    "'hosts'",
    'give one',
    { files: { 'hosts.txt': 'deploy@127.0.0.1:2222\n' } },
  ),
  c(
    'deploy',
    'ssh-key PEM behind a passphrase',
    { target: 'ssh', 'ssh-key': '{KEY:pem-rsa-passphrase}' },
    "'ssh-key'",
    'is protected by a passphrase',
  ),
  c(
    'deploy',
    'ssh-key the public key',
    { target: 'ssh', 'ssh-key': '{KEY:openssh-ed25519 public}' },
    "'ssh-key'",
    'give the private key',
  ),
  c(
    'deploy',
    'ssh-key not a key',
    { target: 'ssh', 'ssh-key': 'my-deploy-key' },
    "'ssh-key'",
    'no BEGIN line',
  ),
  c('deploy', 'ssh keep zero', { target: 'ssh', keep: '0' }, "'keep'", 'whole number from 1 to 100'),
  c(
    'deploy',
    'ssh lock-timeout not a number',
    { target: 'ssh', 'lock-timeout': 'forever' },
    "'lock-timeout'",
    'of at least 1',
  ),
  c(
    'deploy',
    'ssh service not a container name',
    { target: 'ssh', service: 'my service' },
    "'service'",
    'container name stem',
  ),
  c(
    'deploy',
    'ssh digitalocean-api-url not http(s)',
    {
      target: 'ssh',
      hosts: '',
      'digitalocean-token': 'do-canary-token',
      'digitalocean-api-url': 'ftp://api.digitalocean.com/v2',
    },
    "'digitalocean-api-url'",
    'http(s) URL',
  ),
  c(
    'deploy',
    'heroku source-url and promote-from together',
    { target: 'heroku', 'source-url': 'https://example.test/app.tgz', 'promote-from': 'fetlife-staging' },
    "'source-url'",
    'give one',
  ),
  c(
    'deploy',
    'heroku deploy without a source',
    { target: 'heroku' },
    "'source-url'",
    'or promote-from is required',
  ),
  // evidence
  c(
    'evidence',
    'milestone not a name',
    { milestone: 'gates pass!' },
    "'milestone'",
    'letters, digits, . _ -',
  ),
  c(
    'evidence',
    'milestone not in the file',
    { milestone: 'launched' },
    "'milestone'",
    'source-synced, gates-pass, health-passes',
  ),
  c(
    'evidence',
    'checks file: check without run or http',
    {},
    "check 'disk'",
    'exactly one of `run` and `http`',
    { checksFile: 'checks:\n  - id: disk\n    title: Disk\n' },
  ),
  c('evidence', 'checks file: check without id', {}, 'field `id`', 'letters, digits, . _ -', {
    checksFile: 'checks:\n  - run: df -h /\n',
  }),
  c('evidence', 'checks file: unknown field', {}, 'field `command`', 'allowed: id, title, run, http', {
    checksFile: 'checks:\n  - id: disk\n    command: df -h /\n',
  }),
  c('evidence', 'checks file missing', { config: '.github/nope.yml' }, "'config'", '.github/nope.yml'),
  c(
    'evidence',
    'config names a directory',
    { config: '.github' },
    "'config'",
    'give the path of the checks file',
  ),
  c(
    'evidence',
    'output-dir names a file',
    { 'output-dir': '.github/evidence.yml' },
    "'output-dir'",
    'which is a file; give a directory',
  ),
  c(
    'evidence',
    'output-dir below a file',
    { 'output-dir': '.github/evidence.yml/out' },
    "'output-dir'",
    'is a file, so no directory can be made there',
  ),
  // /sys refuses new entries to every user, root included.
  c(
    'evidence',
    'output-dir not writable',
    { 'output-dir': '/sys/evidence' },
    "'output-dir'",
    'where no file can be written',
  ),
  c('evidence', 'max-lines zero', { 'max-lines': '0' }, "'max-lines'", 'whole number from 1 to 100000'),
  c(
    'evidence',
    'retention-days past 90',
    { 'retention-days': '365' },
    "'retention-days'",
    'whole number from 1 to 90',
  ),
  c(
    'evidence',
    'ssh-host with port 0',
    {
      'ssh-host': 'ops@127.0.0.1:0',
      'ssh-known-hosts':
        '[127.0.0.1]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
    },
    "'ssh-host'",
    '1-65535',
  ),
  c(
    'evidence',
    'require-previous without github-token',
    { 'require-previous': 'true', 'github-token': '' },
    "'github-token'",
    'required when require-previous is true',
  ),
  c(
    'evidence',
    'require-previous-ref not a branch name',
    { 'require-previous': 'true', 'require-previous-ref': 'release..2' },
    "'require-previous-ref'",
    'must be a branch name',
  ),
  c('evidence', 'negative timeout', { timeout: '-3' }, "'timeout'", 'of at least 1'),
  c('evidence', 'sub-second timeout', { timeout: '0.0001' }, "'timeout'", 'of at least 1'),
  c(
    'evidence',
    'ssh-key behind a passphrase',
    {
      'ssh-host': 'ops@127.0.0.1:2222',
      'ssh-known-hosts':
        '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
      'ssh-key': '{KEY:openssh-ed25519-passphrase}',
    },
    "'ssh-key'",
    'is protected by a passphrase',
  ),
  c(
    'evidence',
    'ssh-key with its newlines turned into spaces, cut short',
    {
      'ssh-host': 'ops@127.0.0.1:2222',
      'ssh-known-hosts':
        '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
      'ssh-key': '{KEY:openssh-ed25519 spaces cut}',
    },
    "'ssh-key'",
    'no END OPENSSH PRIVATE KEY line',
  ),
  c('evidence', 'upload not a boolean', { upload: 'perhaps' }, "'upload'", 'true or false'),
];

/** Every API URL input of every action pointed at the sandbox, with valid values elsewhere. */
export function validInputs(action: ActionName, s: Sandbox): Record<string, string> {
  const registry = new URL(s.github.server.url).host;
  switch (action) {
    case 'clone':
      return {
        name: 'tati',
        folder: '/Photos/tati',
        'source-app': 'fetlife-prod',
        domain: 'shibari.photo',
        'dns-provider': 'hetzner',
        'dns-token': s.tokens.hetzner,
        'heroku-api-key': s.tokens.heroku,
        'heroku-api-url': s.urls.heroku,
        'hetzner-api-url': s.urls.hetzner,
        'cloudflare-api-url': s.urls.cloudflare,
      };
    case 'config-update':
      return {
        target: 'fly',
        url: `${s.urls.flyApp}/showcase/update_config`,
        urls: s.urls.kamal.map((u) => `${u}/update`).join('\n'),
        'fly-app': 'smooth',
        'fly-api-token': s.tokens.fly,
        'fly-api-url': s.urls.fly,
        'auth-token': 'update-auth-token-0000',
      };
    case 'deploy':
      return {
        target: 'fly',
        // A registry request would land on a fake too.
        image: `${registry}/acme/web:1.0`,
        'fly-app': 'smooth',
        'fly-api-token': s.tokens.fly,
        'fly-api-url': s.urls.fly,
        'github-token': s.tokens.github,
        'github-api-url': s.urls.github,
        hosts: 'deploy@127.0.0.1:2222',
        'ssh-key': generatedKeys().usable[0]!.text,
        'ssh-known-hosts':
          '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
        service: 'shop',
        'digitalocean-api-url': s.urls.digitalocean,
        'heroku-app': 'fetlife-prod',
        'heroku-api-key': s.tokens.heroku,
        'heroku-api-url': s.urls.heroku,
      };
    case 'evidence':
      return {
        milestone: 'gates-pass',
        'github-token': s.tokens.github,
        'github-api-url': s.urls.github,
        'retention-days': '7',
      };
  }
}

/** A workspace holding the checks file (with `{KAMAL}` pointing at a fake host). */
export function evidenceWorkspace(s: Sandbox, checks = EVIDENCE_CHECKS): string {
  const dir = mkdtempSync(join(tmpdir(), 'reliability-ws-'));
  mkdirSync(join(dir, '.github'), { recursive: true });
  writeFileSync(join(dir, '.github', 'evidence.yml'), checks.replaceAll('{KAMAL}', s.urls.kamal[0]!));
  return dir;
}

/** A workspace holding `files`, `{KAMAL}` pointing at a fake host. */
function workspaceWith(s: Sandbox, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'reliability-ws-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text.replaceAll('{KAMAL}', s.urls.kamal[0]!));
  }
  return dir;
}

export function requestsOf(s: Sandbox): (RecordedRequest & { fake: string })[] {
  return s.servers.flatMap((server) => server.requests.map((r) => ({ ...r, fake: server.name })));
}

export const isMutating = (r: RecordedRequest): boolean => r.method !== 'GET' && r.method !== 'HEAD';

function resolveInputs(base: Record<string, string>, extra: Record<string, string>, s: Sandbox) {
  const out: Record<string, string> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    if (v === '') delete out[k];
    else out[k] = keyOf(v) ?? v.replaceAll('{KAMAL}', s.urls.kamal[0]!);
  }
  return out;
}

/**
 * `{KEY:<label>[ public| spaces cut]}`: a key ssh-keygen made for this run (see
 * ssh-keys.ts), its public line, or its text with newlines as spaces cut short.
 */
function keyOf(value: string): string | undefined {
  const m = /^\{KEY:([a-z0-9-]+)(?: (public|spaces cut))?\}$/.exec(value);
  if (!m) return undefined;
  const { usable, encrypted } = generatedKeys();
  const key = [...usable, ...encrypted].find((k) => k.label === m[1]);
  if (!key) throw new Error(`no generated key ${m[1]}`);
  if (m[2] === 'public') return key.publicKey;
  if (m[2] === 'spaces cut') return key.text.replace(/\n/g, ' ').slice(0, 200);
  return key.text;
}

async function runCase(k: BadInputCase): Promise<Cell[]> {
  const s = await startSandbox();
  try {
    seedDemoFleet(s);
    const cwd =
      k.action === 'evidence'
        ? evidenceWorkspace(s, k.checksFile)
        : k.files
          ? workspaceWith(s, k.files)
          : undefined;
    const run = await runBundle(k.action, {
      inputs: resolveInputs(validInputs(k.action, s), k.inputs, s),
      env: k.action === 'evidence' ? s.results.env() : {},
      ...(cwd ? { cwd } : {}),
      timeoutMs: 60_000,
    });
    const row = `${k.action}: ${k.label}${k.readsFirst ? ' (reads the deployments first: mutating requests counted)' : ''}`;
    const sent = requestsOf(s);
    const counted = k.readsFirst ? sent.filter(isMutating) : sent;
    const error = run.errors[0] ?? '';
    const named = error.includes(k.names);
    const allowed = error.includes(k.allowed);
    const stack = /\n\s+at |\bat .*\.(?:ts|js):\d+/.test(error);
    return [
      { row, column: 'exit', result: `exit ${run.code}`, ok: run.code === 1 },
      {
        row,
        column: '::error:: lines',
        result: String(run.errors.length),
        ok: run.errors.length === 1 && !stack,
      },
      {
        row,
        column: 'names input and what is allowed',
        result: named && allowed ? 'yes' : `no: ${JSON.stringify(error.slice(0, 160))}`,
        ok: named && allowed,
      },
      {
        row,
        column: 'requests sent',
        result: k.readsFirst
          ? `${counted.length} mutating (${sent.length - counted.length} reads)`
          : `${counted.length}${counted.length ? `: ${counted.map((r) => `${r.fake} ${r.method} ${r.path}`).join(', ')}` : ''}`,
        ok: counted.length === 0 && s.violations().length === 0,
      },
    ];
  } finally {
    await s.stop();
  }
}

export async function run(): Promise<MatrixResult> {
  const cells = (await mapConcurrent(CASES, runCase, { concurrency: 4 })).flat();
  const byAction = (a: ActionName) => CASES.filter((k) => k.action === a).length;
  return {
    name: 'bad-input',
    title: 'Bad input: refused before any request',
    description: `${CASES.length} invalid inputs across the four actions (clone ${byAction('clone')}, config-update ${byAction('config-update')}, deploy ${byAction('deploy')}, evidence ${byAction('evidence')}), each run through the committed bundle with every API URL input (and the image registry, and the evidence http check) pointed at a fresh loopback sandbox, so a request sent before validation is counted. Goal per case: exit 1, exactly one \`::error::\` line (no stack trace) naming the input or checks-file field and what is allowed, and 0 requests to any fake. A \`rollback-to\` that matches nothing can only be known after reading the deployment history, so that row counts mutating requests only.`,
    cells,
    totals: {
      cases: CASES.length,
      'requests sent': cells
        .filter((x) => x.column === 'requests sent')
        .reduce((n, x) => n + Number.parseInt(x.result, 10), 0),
    },
  };
}
