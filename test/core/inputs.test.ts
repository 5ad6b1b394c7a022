import { describe, expect, it } from 'vitest';
import { parseInputs as parseClone } from '../../src/clone/inputs.ts';
import { parseInputs as parseConfigUpdate } from '../../src/config-update/inputs.ts';
import { InputError } from '../../src/core/errors.ts';
import { fromRecord, InputReader, parseSshHost } from '../../src/core/inputs.ts';
import { parseInputs as parseDeploy } from '../../src/deploy/inputs.ts';
import { parseInputs as parseEvidence } from '../../src/evidence/inputs.ts';
import { generatedKeys } from '../helpers/ssh-keys.ts';

/** A well-formed known_hosts line (ssh-keyscan's form). */
const KNOWN_HOST = 'h ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

const reader = (values: Record<string, string>) => new InputReader(fromRecord(values));

function inputError(parse: () => unknown): InputError {
  try {
    parse();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

const fly = {
  target: 'fly',
  url: 'https://smooth.fly.dev/showcase/update_config',
  'fly-app': 'smooth',
  'fly-api-token': 'tok',
};

describe('config-update inputs', () => {
  it('applies the spec defaults', () => {
    const s = parseConfigUpdate(reader(fly));
    expect(s).toMatchObject({
      request: { method: 'POST', headers: {}, body: undefined, authToken: undefined },
      concurrency: 8,
      retries: 3,
      timeoutMs: 30_000,
      deadlineMs: 600_000,
      maxFailures: 0,
      shard: undefined,
      dryRun: false,
      target: {
        kind: 'fly',
        app: 'smooth',
        apiUrl: 'https://api.machines.dev/v1',
        stoppedMachines: 'skip',
        regions: [],
      },
    });
  });

  it('reads kamal urls, headers, regions and shards', () => {
    const s = parseConfigUpdate(
      reader({
        target: 'kamal',
        urls: 'https://a.example/update\n# comment\n\nhttps://b.example/update',
        headers: 'X-One: 1\nX-Two: two: words',
        shard: '2/3',
      }),
    );
    expect(s.target).toEqual({
      kind: 'kamal',
      urls: ['https://a.example/update', 'https://b.example/update'],
      lines: [1, 4],
      list: 'urls',
      listedIn: '`urls`',
    });
    expect(s.request.headers).toEqual({ 'X-One': '1', 'X-Two': 'two: words' });
    expect(s.shard).toEqual({ index: 2, count: 3 });
    // The example workflow passes `urls` whatever the target: under fly it is not read.
    expect(parseConfigUpdate(reader({ ...fly, urls: 'https://a.example/update' })).target.kind).toBe('fly');
    expect(parseConfigUpdate(reader({ ...fly, regions: 'AMS, fra\niad' })).target).toMatchObject({
      regions: ['ams', 'fra', 'iad'],
    });
  });

  it.each([
    [{ ...fly, target: 'flyio' }, 'target', 'must be one of fly, kamal'],
    [{ ...fly, 'fly-app': '' }, 'fly-app', 'is required when target is fly'],
    [{ ...fly, 'fly-api-token': '' }, 'fly-api-token', 'is required'],
    [{ ...fly, url: '' }, 'url', 'is required'],
    [{ ...fly, url: 'ftp://x' }, 'url', 'http(s) URL'],
    [{ ...fly, url: 'https://user:pw@x.test/' }, 'url', 'must not carry credentials'],
    [{ target: 'kamal' }, 'urls', 'is required when target is kamal'],
    [
      { 'urls-file': 'fleet.txt' },
      'url',
      'target is fly (the default); urls-file is read only when target is kamal',
    ],
    [{ target: 'kamal', urls: 'https://a.test\nnot a url' }, 'urls', 'http(s) URL'],
    [{ target: 'kamal', urls: 'https://a.test\nhttps://a.test/' }, 'urls', 'twice'],
    [{ ...fly, concurrency: 'many' }, 'concurrency', 'whole number from 1 to 256'],
    [{ ...fly, concurrency: '0' }, 'concurrency', 'from 1 to 256'],
    [{ ...fly, retries: '-1' }, 'retries', 'whole number'],
    [{ ...fly, timeout: '-5' }, 'timeout', 'seconds of at least 1'],
    [{ ...fly, timeout: '0' }, 'timeout', 'seconds of at least 1'],
    [{ ...fly, timeout: '0.0001' }, 'timeout', 'seconds of at least 1 and at most 3600'],
    [{ ...fly, timeout: '0.999' }, 'timeout', 'of at least 1'],
    [{ ...fly, deadline: '0.5' }, 'deadline', 'seconds of at least 1 and at most 21600'],
    [
      { target: 'kamal', urls: 'https://a.test/u\nhttps://a.test/u#again' },
      'urls',
      'lists https://a.test/u twice',
    ],
    [{ target: 'kamal', urls: 'https://a.test/u\nHTTPS://A.TEST:443/u?' }, 'urls', 'twice'],
    [{ ...fly, deadline: 'soon' }, 'deadline', 'seconds'],
    [{ ...fly, 'max-failures': '1.5' }, 'max-failures', 'whole number'],
    [{ ...fly, shard: '3/2' }, 'shard', 'i/n with 1 <= i <= n'],
    [{ ...fly, shard: '0/2' }, 'shard', 'i/n'],
    [{ ...fly, shard: 'half' }, 'shard', 'i/n'],
    [{ ...fly, 'stopped-machines': 'ignore' }, 'stopped-machines', 'skip, wake, fail'],
    [{ ...fly, method: 'FETCH' }, 'method', 'POST, PUT, PATCH, GET, DELETE'],
    [{ ...fly, headers: 'no colon here' }, 'headers', "'Name: value'"],
    [{ ...fly, 'dry-run': 'maybe' }, 'dry-run', 'true or false'],
    [{ ...fly, 'fly-app': 'Smooth App' }, 'fly-app', 'Fly app name'],
  ])('%j → error on %s', (values, input, text) => {
    const error = inputError(() => parseConfigUpdate(reader(values as Record<string, string>)));
    expect(error.input).toBe(input);
    expect(error.message).toContain(`Input '${input}'`);
    expect(error.message).toContain(text);
  });
});

const clone = {
  name: 'tati',
  'source-app': 'fetlife-prod',
  domain: 'shibari.photo',
  'dns-token': 'dns-secret',
  'heroku-api-key': 'hk',
};

describe('clone inputs', () => {
  it('renders the app name template and applies defaults', () => {
    const s = parseClone(reader(clone));
    expect(s).toMatchObject({
      appName: 'fetlife-prod-tati',
      folderVar: 'IMAGE_FOLDER',
      dns: { provider: 'hetzner', domain: 'shibari.photo', ttl: 300 },
      heroku: { apiUrl: 'https://api.heroku.com' },
      hetznerApiUrl: 'https://api.hetzner.cloud/v1',
      serversFile: 'scripts/servers.txt',
      onFailure: 'keep',
      timeoutMs: 600_000,
    });
  });

  it('reads config overrides with = in values and PREFIX_* excludes', () => {
    const s = parseClone(
      reader({
        ...clone,
        config: 'A=1\nURL=postgres://x?a=b',
        'exclude-config': 'SENTRY_*, PAPERTRAIL_API_TOKEN',
      }),
    );
    expect(s.config).toEqual({ A: '1', URL: 'postgres://x?a=b' });
    expect(s.excludeConfig).toEqual(['SENTRY_*', 'PAPERTRAIL_API_TOKEN']);
  });

  it('needs neither domain nor token with dns-provider none', () => {
    const s = parseClone(
      reader({ name: 'tati', 'source-app': 'src-app', 'heroku-api-key': 'k', 'dns-provider': 'none' }),
    );
    expect(s.dns).toEqual({
      provider: 'none',
      domain: undefined,
      token: undefined,
      ttl: 300,
      overwrite: false,
    });
  });

  it.each([
    [{ ...clone, name: '' }, 'name', 'is required'],
    [{ ...clone, name: 'Tati!' }, 'name', 'DNS label'],
    [{ ...clone, 'source-app': '' }, 'source-app', 'is required'],
    [{ ...clone, 'source-app': 'a-very-long-source-app-name-x' }, 'app-name', 'which Heroku refuses'],
    [{ ...clone, name: 'ab', 'app-name': '{name}' }, 'app-name', 'which Heroku refuses'],
    [{ ...clone, 'app-name': '9-{name}' }, 'app-name', 'starting with a letter'],
    [{ ...clone, 'app-name': '{source}-{name}' }, 'app-name', '{source} is neither'],
    [{ ...clone, 'dns-provider': 'route53' }, 'dns-provider', 'hetzner, cloudflare, none'],
    [{ ...clone, domain: '' }, 'domain', 'required when dns-provider is hetzner'],
    [{ ...clone, domain: 'not a domain' }, 'domain', 'DNS zone'],
    [{ ...clone, 'dns-token': '', 'dns-provider': 'cloudflare' }, 'dns-token', 'cloudflare'],
    [{ ...clone, 'dns-ttl': '30' }, 'dns-ttl', 'from 60 to 86400'],
    [{ ...clone, 'heroku-api-key': '' }, 'heroku-api-key', 'is required'],
    [{ ...clone, 'heroku-api-url': 'api.heroku.com' }, 'heroku-api-url', 'http(s) URL'],
    [{ ...clone, stage: 'prod' }, 'stage', 'review, development, staging, production'],
    [{ ...clone, 'on-failure': 'rollback' }, 'on-failure', 'keep, delete'],
    [{ ...clone, config: 'not a pair' }, 'config', 'KEY=value'],
    [{ ...clone, 'exclude-config': 'BAD-KEY' }, 'exclude-config', 'KEY or PREFIX_*'],
    [{ ...clone, 'folder-var': 'image folder' }, 'folder-var', 'config var name'],
    [{ ...clone, timeout: 'ten' }, 'timeout', 'seconds'],
    [{ ...clone, folder: '/Photos/a,b' }, 'folder', 'must not contain a comma'],
  ])('%j → error on %s', (values, input, text) => {
    const error = inputError(() => parseClone(reader(values as Record<string, string>)));
    expect(error.input).toBe(input);
    expect(error.message).toContain(text);
  });

  it('never echoes a config value in its error', () => {
    const error = inputError(() => parseClone(reader({ ...clone, config: 'secret-value-without-key' })));
    expect(error.message).not.toContain('secret-value-without-key');
  });
});

const deployFly = {
  target: 'fly',
  image: 'ghcr.io/acme/app:1.2.3',
  'fly-app': 'smooth',
  'fly-api-token': 't',
};
const deploySsh = {
  target: 'ssh',
  image: 'registry.example.com/app:2',
  hosts: 'deploy@10.0.0.5:2222\nweb-2.example.com',
  'ssh-key': generatedKeys().usable[0]!.text,
  'ssh-known-hosts':
    'web-2.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
  service: 'web',
};

describe('deploy inputs', () => {
  it('parses a fly deploy with defaults', () => {
    const s = parseDeploy(reader(deployFly), { GITHUB_REPOSITORY: 'acme/fleet' });
    expect(s).toMatchObject({
      operation: 'deploy',
      environment: 'production',
      image: { registry: 'ghcr.io', repository: 'acme/app', tag: '1.2.3' },
      tagImage: true,
      rollbackTo: { kind: 'previous' },
      autoRollback: true,
      healthTimeoutMs: 300_000,
      github: { apiUrl: 'https://api.github.com', repository: 'acme/fleet' },
      target: { kind: 'fly', strategy: 'rolling', maxUnavailable: { fraction: 0.33 } },
    });
  });

  it('parses ssh hosts and docker hub short names', () => {
    const s = parseDeploy(reader({ ...deploySsh, image: 'nginx' }));
    expect(s.image).toEqual({
      registry: 'docker.io',
      repository: 'library/nginx',
      tag: undefined,
      digest: undefined,
    });
    expect(s.target).toMatchObject({
      kind: 'ssh',
      hosts: [
        { user: 'deploy', host: '10.0.0.5', port: 2222 },
        { user: undefined, host: 'web-2.example.com', port: 22 },
      ],
      keep: 5,
      lockTimeoutMs: 120_000,
      proxy: 'none',
      healthPath: undefined,
      drainTimeoutMs: 30_000,
      digitalocean: { tag: 'deployed-via-api' },
    });
  });

  it.each([
    ['previous', { kind: 'previous' }],
    ['12345', { kind: 'deployment', id: 12345 }],
    ['deploy_4bd0ed9b', { kind: 'tag', tag: 'deploy_4bd0ed9b' }],
  ])('rollback-to %s', (value, expected) => {
    const s = parseDeploy(reader({ ...deployFly, operation: 'rollback', 'rollback-to': value }));
    expect(s.rollbackTo).toEqual(expected);
  });

  it('rollback-to an image reference', () => {
    const s = parseDeploy(
      reader({ ...deployFly, operation: 'rollback', 'rollback-to': 'ghcr.io/acme/app:1.2.2' }),
    );
    expect(s.rollbackTo).toMatchObject({ kind: 'image', image: { tag: '1.2.2' } });
  });

  it.each([
    [{ ...deployFly, target: '' }, 'target', 'is required: one of fly, ssh, heroku'],
    [{ ...deployFly, target: 'k8s' }, 'target', 'fly, ssh, heroku'],
    [{ ...deployFly, operation: 'redeploy' }, 'operation', 'deploy, rollback'],
    [{ ...deployFly, image: '' }, 'image', 'is required to deploy to fly'],
    [{ ...deployFly, image: 'UPPER/Case:tag' }, 'image', 'image reference'],
    [{ ...deployFly, image: 'ghcr.io/a/b:bad tag' }, 'image', 'image reference'],
    [{ ...deployFly, strategy: 'blue-green' }, 'strategy', 'rolling, canary, immediate, bluegreen'],
    [{ ...deployFly, 'max-unavailable': '1.5' }, 'max-unavailable', 'fraction between 0 and 1'],
    [{ ...deployFly, 'max-unavailable': '0' }, 'max-unavailable', 'count >= 1'],
    [{ ...deployFly, 'rollback-to': 'last-good' }, 'rollback-to', 'previous, a GitHub deployment id'],
    [{ ...deployFly, 'rollback-to': 'deploy_xyz' }, 'rollback-to', 'deploy_xxxxxxxx'],
    [{ ...deployFly, 'health-timeout': '-1' }, 'health-timeout', 'seconds'],
    [{ ...deployFly, 'registry-username': 'u' }, 'registry-password', 'together'],
    [{ ...deployFly, 'fly-app': '' }, 'fly-app', 'required when target is fly'],
    [{ ...deploySsh, hosts: 'web:99999' }, 'hosts', 'port outside 1-65535'],
    [{ ...deploySsh, hosts: 'user@@host' }, 'hosts', '[user@]host[:port]'],
    [{ ...deploySsh, hosts: '' }, 'hosts', 'or digitalocean-token is required'],
    [{ ...deploySsh, service: '' }, 'service', 'required when target is ssh'],
    [{ ...deploySsh, service: 'web app' }, 'service', 'container name stem'],
    [{ ...deploySsh, proxy: 'traefik' }, 'proxy', 'one of none, nginx'],
    [{ ...deploySsh, proxy: 'nginx', 'run-args': '' }, 'run-args', 'publish the app port with one -p'],
    [{ ...deploySsh, proxy: 'nginx', 'run-args': '-P' }, 'run-args', '-P/--publish-all'],
    [{ ...deploySsh, proxy: 'nginx', 'run-args': '-p 80 -p 443' }, 'run-args', 'exactly one port'],
    [{ ...deploySsh, proxy: 'nginx', 'run-args': '-p 8000-8010' }, 'run-args', 'one tcp port'],
    // issue 18: traffic never moves to an unchecked container; inputs that would be ignored are refused.
    [{ ...deploySsh, proxy: 'nginx', 'run-args': '-p 80' }, 'proxy', 'nginx needs health-cmd or health-path'],
    [{ ...deploySsh, 'health-path': '/up' }, 'health-path', 'needs proxy: nginx'],
    [{ ...deploySsh, 'drain-timeout': '10' }, 'drain-timeout', 'needs proxy: nginx'],
    [
      { ...deploySsh, proxy: 'nginx', 'health-path': '/up', 'run-args': '--network host -e PORT=3000' },
      'run-args',
      'the action sets PORT',
    ],
    [
      { ...deploySsh, proxy: 'nginx', 'health-path': '/up', 'run-args': '--network host --env PORT=3000' },
      'run-args',
      'the action sets PORT',
    ],
    [
      { ...deploySsh, proxy: 'nginx', 'health-path': '/up', 'run-args': '--network host -ePORT=3000' },
      'run-args',
      'the action sets PORT',
    ],
    [
      { ...deploySsh, proxy: 'nginx', 'health-path': '/up', 'run-args': '--network host --env=PORT' },
      'run-args',
      'the action sets PORT',
    ],
    [
      { ...deploySsh, proxy: 'nginx', 'health-path': '/up', 'run-args': '--network host -e PORT' },
      'run-args',
      'the action sets PORT',
    ],
    [
      { ...deploySsh, proxy: 'nginx', 'run-args': '--network host', 'health-path': 'up' },
      'health-path',
      'starting with /',
    ],
    [
      { ...deploySsh, proxy: 'nginx', 'run-args': '--network host', 'health-path': "/up'; rm -rf /" },
      'health-path',
      'starting with /',
    ],
    [{ ...deploySsh, 'drain-timeout': '-1' }, 'drain-timeout', ''],
    [{ ...deploySsh, 'ssh-known-hosts': '' }, 'ssh-known-hosts', 'known_hosts'],
    [
      {
        ...deploySsh,
        'ssh-known-hosts': `${deploySsh['ssh-known-hosts']}\nweb-2.example.com ssh-ed25519 AAAA`,
      },
      'ssh-known-hosts',
      'line 2 is not a known_hosts line: the key is not a base64 ssh-ed25519 key',
    ],
    [{ ...deploySsh, keep: '0' }, 'keep', 'from 1 to 100'],
    [{ ...deploySsh, 'lock-timeout': 'x' }, 'lock-timeout', 'seconds'],
    [{ ...deploySsh, 'ssh-key': '' }, 'ssh-key', 'required when target is ssh'],
    [{ ...deploySsh, 'ssh-key': generatedKeys().encrypted[0]!.text }, 'ssh-key', 'passphrase'],
    [{ ...deploySsh, 'ssh-key': 'not a key' }, 'ssh-key', 'no BEGIN line'],
    [
      { target: 'heroku', 'heroku-app': 'a', 'heroku-api-key': 'k' },
      'source-url',
      'or promote-from is required',
    ],
    [
      {
        target: 'heroku',
        'heroku-app': 'a',
        'heroku-api-key': 'k',
        'source-url': 'https://x/a.tgz',
        'promote-from': 'b',
      },
      'source-url',
      'exclude each other',
    ],
  ])('%j → error on %s', (values, input, text) => {
    const error = inputError(() => parseDeploy(reader(values as Record<string, string>)));
    expect(error.input).toBe(input);
    expect(error.message).toContain(text);
  });
});

describe('evidence inputs', () => {
  it('applies the spec defaults', () => {
    const s = parseEvidence(reader({ milestone: 'stack-starts' }));
    expect(s).toMatchObject({
      milestone: 'stack-starts',
      configPath: '.github/evidence.yml',
      outputDir: 'docs/evidence',
      upload: true,
      retentionDays: undefined,
      requirePrevious: false,
      timeoutMs: 60_000,
      maxLines: 400,
      ssh: undefined,
    });
  });

  it('reads the ssh host and redact lines', () => {
    const s = parseEvidence(
      reader({
        milestone: 'm',
        'ssh-host': 'root@127.0.0.1:2200',
        'ssh-known-hosts': KNOWN_HOST,
        redact: 'one\n\ntwo words',
      }),
    );
    expect(s.ssh?.host).toEqual({ user: 'root', host: '127.0.0.1', port: 2200 });
    expect(s.redact).toEqual(['one', 'two words']);
  });

  it('takes ssh-key as pasted and gives it as ssh-keygen wrote it, in both actions', () => {
    const key = generatedKeys().usable[0]!.text;
    const crlf = key.replace(/\n/g, '\r\n');
    const spaces = key.replace(/\n/g, ' ');
    const evidence = (k: string) =>
      parseEvidence(reader({ milestone: 'm', 'ssh-host': 'h', 'ssh-known-hosts': KNOWN_HOST, 'ssh-key': k }))
        .ssh?.key;
    expect(evidence(crlf)).toBe(key);
    expect(evidence(spaces)).toBe(key);
    const deploy = (k: string) =>
      (parseDeploy(reader({ ...deploySsh, 'ssh-key': k })).target as { sshKey: string }).sshKey;
    expect(deploy(crlf)).toBe(key);
    expect(deploy(spaces)).toBe(key);
  });

  it.each([
    [{}, 'milestone', 'is required'],
    [{ milestone: 'a b' }, 'milestone', 'letters, digits'],
    [{ milestone: 'm', target: '../etc' }, 'target', 'letters, digits'],
    [{ milestone: 'm', 'ssh-host': 'host:0' }, 'ssh-host', 'port outside'],
    [{ milestone: 'm', 'ssh-host': 'host' }, 'ssh-known-hosts', 'required with ssh-host'],
    [{ milestone: 'm', 'retention-days': '365' }, 'retention-days', 'from 1 to 90'],
    [{ milestone: 'm', 'require-previous': 'true' }, 'github-token', 'required when require-previous'],
    [{ milestone: 'm', 'max-lines': 'all' }, 'max-lines', 'whole number'],
    [{ milestone: 'm', upload: 'yes please' }, 'upload', 'true or false'],
    [
      {
        milestone: 'm',
        'ssh-host': 'h',
        'ssh-known-hosts': KNOWN_HOST,
        'ssh-key': generatedKeys().encrypted[2]!.text,
      },
      'ssh-key',
      'passphrase',
    ],
    [
      { milestone: 'm', 'ssh-host': 'h', 'ssh-known-hosts': KNOWN_HOST, 'ssh-key': 'ssh-ed25519 AAAAC3Nza' },
      'ssh-key',
      'public key',
    ],
  ])('%j → error on %s', (values, input, text) => {
    const error = inputError(() => parseEvidence(reader(values as Record<string, string>)));
    expect(error.input).toBe(input);
    expect(error.message).toContain(text);
  });
});

describe('parseSshHost', () => {
  it.each([
    ['host', { user: undefined, host: 'host', port: 22 }],
    ['root@1.2.3.4', { user: 'root', host: '1.2.3.4', port: 22 }],
    ['deploy@[::1]:2200', { user: 'deploy', host: '::1', port: 2200 }],
  ])('%s', (value, expected) => expect(parseSshHost('hosts', value)).toEqual(expected));
});
