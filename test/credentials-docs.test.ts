import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pMap from 'p-map';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../sandbox/index.ts';
import { pushImage, type Registry, startRegistry } from '../sandbox/registry.ts';
import { createWorld, READ_ONLY_DNS_TOKEN, type World } from './clone/world.ts';
import { workspaceWith } from './evidence/helpers.ts';
import { type BundleRun, ROOT, runBundle, UNSPACED_GITHUB_WRITES } from './helpers/run-bundle.ts';

/**
 * docs/credentials.md shows, per provider, the error a refused credential prints. Each case here
 * runs a committed bundle against the sandbox's fakes with that credential refused (wrong, read-only,
 * without a permission), and its one `::error::` line must match a message of the provider's
 * section, `…` standing for any text; every message of the page must be printed by some case.
 */

const PAGE = readFileSync(join(ROOT, 'docs', 'credentials.md'), 'utf8');

/** `## Heroku (`heroku-api-key`)` → its fenced blocks, each a message. */
function documentedMessages(page: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  for (const part of page.split(/^## /m).slice(1)) {
    const heading = part.slice(0, part.indexOf('\n'));
    const blocks = [...part.matchAll(/^```\n([\s\S]*?)\n```$/gm)].map((m) => m[1]!);
    sections.set(heading.replace(/ \(.*$/, ''), blocks);
  }
  return sections;
}

/** A documented message as a pattern: literal text, `…` any text in between. */
function pattern(message: string): RegExp {
  const parts = message.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.+?')}$`);
}

const DIGEST_IMAGE = `ghcr.io/acme/web@sha256:${'b'.repeat(64)}`;
const REGISTRY_USER = { username: 'deployer', password: 'registry-pass-credentials-docs' };

interface Case {
  section: string;
  label: string;
  run: () => Promise<BundleRun>;
}

let sandbox: Sandbox;
let world: World;
let registry: Registry;
let sshKey: string;
const runs = new Map<string, BundleRun>();

beforeAll(async () => {
  [sandbox, world, registry] = await Promise.all([
    startSandbox(),
    createWorld(),
    startRegistry({ auth: REGISTRY_USER }),
  ]);
  await pushImage(registry, 'acme/app', '1.0.0', { content: 'credentials-docs' });
  sandbox.heroku.state.foreignApps.add('someone-elses');
  const dir = mkdtempSync(join(tmpdir(), 'credentials-docs-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
  sshKey = readFileSync(join(dir, 'key'), 'utf8');

  const s = sandbox;
  const flyDeploy = (inputs: Record<string, string>) =>
    runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: {
        target: 'fly',
        image: DIGEST_IMAGE,
        'tag-image': 'false',
        'fly-app': 'smooth',
        'fly-api-token': s.tokens.fly,
        'fly-api-url': s.urls.fly,
        'github-token': s.tokens.github,
        'github-api-url': s.urls.github,
        ...inputs,
      },
    });
  const herokuDeploy = (inputs: Record<string, string>) =>
    runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: {
        target: 'heroku',
        'heroku-app': 'fetlife-prod',
        'heroku-api-key': s.tokens.heroku,
        'heroku-api-url': s.urls.heroku,
        'source-url': 'https://example.test/app.tgz',
        'github-token': s.tokens.github,
        'github-api-url': s.urls.github,
        ...inputs,
      },
    });
  const image = `${registry.host}/acme/app:1.0.0`;
  const cases: Case[] = [
    {
      section: 'GitHub token',
      label: 'deploy, wrong token',
      run: () => flyDeploy({ 'github-token': 'ghs_wrongWRONGwrong0000000000000000000000' }),
    },
    {
      section: 'GitHub token',
      label: 'evidence require-previous, wrong token',
      run: () =>
        runBundle('evidence', {
          cwd: workspaceWith(
            'target: t1\nmilestones: [env-created, gates-pass]\nchecks:\n  - id: ok\n    run: echo ok\n',
          ),
          inputs: {
            milestone: 'gates-pass',
            'require-previous': 'true',
            'github-token': 'ghs_wrongWRONGwrong0000000000000000000000',
            'github-api-url': s.urls.github,
            upload: 'false',
          },
        }),
    },
    {
      section: 'GitHub token',
      label: 'deploy, token without deployments: write',
      run: () => {
        // GitHub's answer to a GITHUB_TOKEN whose job lacks the permission a call needs
        // (docs.github.com, "Permissions required for GitHub Apps"; actions/toolkit#2, #1049).
        s.github.server.inject({
          route: 'repos/create-deployment',
          times: 1,
          fault: {
            status: 403,
            json: {
              message: 'Resource not accessible by integration',
              documentation_url: 'https://docs.github.com/rest/deployments/deployments#create-a-deployment',
              status: '403',
            },
          },
        });
        return flyDeploy({});
      },
    },
    { section: 'Heroku', label: 'clone, wrong key', run: () => world.run({ 'heroku-api-key': 'wrong-key' }) },
    { section: 'Heroku', label: 'deploy, wrong key', run: () => herokuDeploy({ 'heroku-api-key': 'wrong' }) },
    {
      section: 'Heroku',
      label: "deploy, another account's app",
      run: () => herokuDeploy({ 'heroku-app': 'someone-elses' }),
    },
    { section: 'Fly.io', label: 'deploy, wrong token', run: () => flyDeploy({ 'fly-api-token': 'wrong' }) },
    {
      section: 'Fly.io',
      label: 'config-update, wrong token',
      run: () =>
        runBundle('config-update', {
          inputs: {
            target: 'fly',
            url: `${s.urls.flyApp}/showcase/update_config`,
            'fly-app': 'smooth',
            'fly-api-token': 'wrong',
            'fly-api-url': s.urls.fly,
          },
        }),
    },
    {
      section: 'DigitalOcean',
      label: 'deploy ssh by tag, wrong token',
      run: () =>
        runBundle('deploy', {
          env: UNSPACED_GITHUB_WRITES,
          inputs: {
            target: 'ssh',
            'digitalocean-tag': 'web',
            'digitalocean-token': 'wrong',
            'digitalocean-api-url': s.urls.digitalocean,
            service: 'shop',
            image: DIGEST_IMAGE,
            'tag-image': 'false',
            'ssh-key': sshKey,
            'ssh-known-hosts': `127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${'B'.repeat(43)}`,
            'github-token': s.tokens.github,
            'github-api-url': s.urls.github,
          },
        }),
    },
    {
      section: 'Hetzner Cloud DNS',
      label: 'clone, wrong token',
      run: () => world.run({ name: 'wrongdns', 'dns-token': 'wrong-token' }),
    },
    {
      section: 'Hetzner Cloud DNS',
      label: 'clone, read-only token',
      run: () => world.run({ 'dns-token': READ_ONLY_DNS_TOKEN }),
    },
    {
      section: 'Cloudflare DNS',
      label: 'clone, wrong token',
      run: () => world.run({ name: 'wrongcf', 'dns-provider': 'cloudflare', 'dns-token': 'wrong-token' }),
    },
    {
      section: 'Cloudflare DNS',
      label: 'clone, token without Zone:Read',
      run: () =>
        world.run({ name: 'dnsonly', 'dns-provider': 'cloudflare', 'dns-token': READ_ONLY_DNS_TOKEN }),
    },
    {
      section: 'Container registries',
      label: 'deploy, wrong registry-password',
      run: () =>
        flyDeploy({
          image,
          'registry-username': REGISTRY_USER.username,
          'registry-password': 'wrong-password',
        }),
    },
    { section: 'Container registries', label: 'deploy, no credentials', run: () => flyDeploy({ image }) },
    {
      section: 'Container registries',
      label: 'deploy with tag-image, no credentials',
      run: () => flyDeploy({ image, 'tag-image': 'true' }),
    },
  ];
  // Each refusal ends its run at the first request: a few runs at a time share the fakes.
  const done = await pMap(cases, async (c) => [`${c.section}: ${c.label}`, await c.run()] as const, {
    concurrency: 4,
  });
  for (const [key, run] of done) runs.set(key, run);
}, 180_000);

afterAll(async () => {
  await Promise.all([sandbox?.stop(), world?.stop(), registry?.stop()]);
});

describe('docs/credentials.md: the documented refusals are what the bundles print', () => {
  const documented = documentedMessages(PAGE);

  it('has a section with messages for each provider', () => {
    expect([...documented.keys()]).toEqual([
      'GitHub token',
      'Heroku',
      'Fly.io',
      'DigitalOcean',
      'Hetzner Cloud DNS',
      'Cloudflare DNS',
      'Container registries',
    ]);
    for (const [section, messages] of documented) expect(messages.length, section).toBeGreaterThan(0);
  });

  it('each refused credential fails its run with one error, a message of its provider section', () => {
    expect(runs.size).toBe(16);
    const unmatched: string[] = [];
    for (const [key, run] of runs) {
      const section = key.slice(0, key.indexOf(': '));
      expect(run.code, key).toBe(1);
      expect(run.errors, key).toHaveLength(1);
      const error = run.errors[0]!;
      if (!documented.get(section)!.some((m) => pattern(m).test(error))) unmatched.push(`${key}\n  ${error}`);
    }
    expect(unmatched).toEqual([]);
  });

  it('every documented message is printed by some run', () => {
    const errors = [...runs.values()].map((r) => r.errors[0] ?? '');
    const unprinted = [...documented.values()].flat().filter((m) => !errors.some((e) => pattern(m).test(e)));
    expect(unprinted).toEqual([]);
  });

  it('no refused or expired token is printed', () => {
    for (const [key, run] of runs) {
      for (const secret of [
        'ghs_wrongWRONGwrong0000000000000000000000',
        'wrong-password',
        READ_ONLY_DNS_TOKEN,
      ])
        expect(run.everything, key).not.toContain(secret);
    }
  });
});

describe('the check itself', () => {
  it('reads the messages of a section and matches `…` as any text', () => {
    const page = '# t\n\n## A (`a`)\n\ntext\n\n```\nCould not … : x (401: …)\n```\n\n## B\n\n```\nb\n```\n';
    expect([...documentedMessages(page)]).toEqual([
      ['A', ['Could not … : x (401: …)']],
      ['B', ['b']],
    ]);
    expect(pattern('Could not … : x (401: …)').test('Could not read app a : x (401: nope)')).toBe(true);
    expect(pattern('Could not … : x (401: …)').test('Could not read app a : x (403: nope)')).toBe(false);
    expect(pattern('a (b)').test('a (b) and more')).toBe(false);
  });
});
