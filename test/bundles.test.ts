import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActionName, runBundle } from './helpers/run-bundle.ts';

/**
 * Every committed bundle, run as the runner runs it, refuses bad input with one
 * `::error::` naming the input, exit code 1, and no request sent anywhere.
 */

let server: Server;
let api: string;
let requests = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const apis = () => ({
  'heroku-api-url': api,
  'hetzner-api-url': api,
  'cloudflare-api-url': api,
  'fly-api-url': api,
  'digitalocean-api-url': api,
  'github-api-url': api,
});

const cases: [ActionName, Record<string, string>, string, string][] = [
  ['clone', {}, 'name', 'is required'],
  [
    'clone',
    { name: 'tati', 'source-app': 'src', 'heroku-api-key': 'hk-test-key', 'dns-provider': 'bind' },
    'dns-provider',
    'hetzner, cloudflare, none',
  ],
  [
    'clone',
    { name: 'tati', 'source-app': 'this-source-app-name-is-too-long', 'heroku-api-key': 'hk-test-key' },
    'app-name',
    'Heroku refuses',
  ],
  ['config-update', { 'fly-api-token': 'tok' }, 'url', 'is required'],
  ['config-update', { url: 'https://a.test/u', 'fly-api-token': 'tok' }, 'fly-app', 'is required'],
  ['config-update', { target: 'nomad' }, 'target', 'fly, kamal'],
  ['config-update', { target: 'kamal', urls: 'https://a.test', shard: '4/3' }, 'shard', 'i/n'],
  ['deploy', {}, 'target', 'fly, ssh, heroku'],
  [
    'deploy',
    {
      target: 'fly',
      image: 'ghcr.io/a/b:1',
      'fly-app': 'a',
      'fly-api-token': 'fly-test-token',
      strategy: 'yolo',
    },
    'strategy',
    'rolling, canary, immediate',
  ],
  [
    'deploy',
    {
      target: 'ssh',
      image: 'a:1',
      hosts: 'h:70000',
      'ssh-key': 'ssh-test-key',
      'ssh-known-hosts': 'h',
      service: 's',
    },
    'hosts',
    '1-65535',
  ],
  ['evidence', {}, 'milestone', 'is required'],
  ['evidence', { milestone: 'gates-pass', 'max-lines': '-3' }, 'max-lines', 'whole number'],
];

describe('bundles refuse bad input', () => {
  it.each(cases)('%s with %j fails on %s', async (action, inputs, input, allowed) => {
    const before = requests;
    const run = await runBundle(action, { inputs: { ...apis(), ...inputs } });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(`Input '${input}'`);
    expect(run.errors[0]).toContain(allowed);
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toMatch(/\bat .*index\.js:\d+/);
    expect(requests - before).toBe(0);
    expect(run.outputs['log-file']).toMatch(/ops-actions\/.+\.jsonl$/);
    expect(run.log.at(-1)).toMatchObject({ step: 'inputs', outcome: 'failed' });
  });
});

describe('bundles mask secret inputs before anything else', () => {
  it.each(['clone', 'config-update', 'deploy', 'evidence'] as const)('%s', async (action) => {
    const secret = 'canary-secret-7f3a9c';
    const inputs: Record<string, string> = {
      'heroku-api-key': secret,
      'fly-api-token': secret,
      'ssh-key': secret,
      redact: secret,
      'auth-token': secret,
      target: 'not-a-target',
    };
    const run = await runBundle(action, { inputs });
    const firstLine = run.stdout.split('\n')[0];
    expect(firstLine).toBe(`::add-mask::${secret}`);
    expect(run.everything).not.toContain(secret);
  });
});
