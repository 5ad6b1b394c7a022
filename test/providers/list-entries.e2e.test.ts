import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FakeServer } from '../../sandbox/fake-server.ts';
import { createDigitalOceanFake } from '../../sandbox/fakes/digitalocean.ts';
import { createWorld, DNS_TOKEN } from '../clone/world.ts';
import { type BundleRun, runBundle } from '../helpers/run-bundle.ts';
import { SCENARIOS, type Scenario } from '../reliability/fault-worlds.ts';

/**
 * A provider list with `null` and non-object entries (the fake-server's `listEntries`
 * fault, after the first real entry), read by each action through its bundle: one
 * `::error::` naming the provider and the operation, the request, the way core/provider-list.ts
 * words it, never a TypeError; nothing changed after the bad list.
 */

const BAD = [null, 'machine', 7];

/** A real key (the action checks it before any request); the run never gets as far as ssh. */
function ed25519Key(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'list-entries-key-')), 'id');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  return readFileSync(file, 'utf8');
}
const scenario = (name: string): Scenario => SCENARIOS.find((s) => s.name === name)!;

interface Case {
  name: string;
  /** Starts the world, injects the fault, runs the bundle; returns the servers to check. */
  run(): Promise<{ run: BundleRun; servers: FakeServer[]; stop: () => Promise<unknown> }>;
  /** The start of the error, up to the list's size. */
  error: RegExp;
}

/** A fault-matrix world with the bad entries in `operation`'s answer on its `server`-th fake. */
function inWorld(name: string, server: number, operation: string, field?: string): Case['run'] {
  return async () => {
    const world = await scenario(name).create();
    world.servers[server]!.inject({
      route: operation,
      times: Number.POSITIVE_INFINITY,
      fault: { listEntries: { entries: BAD, ...(field ? { field } : {}) } },
    });
    return { run: await world.run(), servers: world.servers, stop: () => world.stop() };
  };
}

/** `request` is a regular expression of the `METHOD /path` the message names. */
const entries = (provider: string, request: string, list = 'a list') =>
  new RegExp(
    `${provider} ${request} failed: answered ${list} whose entry \\d+ of \\d+ is null, not an object \\(3 of its entries are not objects\\)`,
  );

const CASES: Case[] = [
  {
    name: 'config-update: Fly Machines_list',
    run: inWorld('config-update', 0, 'Machines_list'),
    error:
      /^Could not list the machines of Fly app smooth: Fly Machines GET \/v1\/apps\/smooth\/machines failed: /,
  },
  {
    name: 'deploy fly: GitHub deployments.list',
    run: inWorld('deploy fly', 1, 'repos/list-deployments'),
    error: entries('GitHub', 'GET /repos/acme/fleet/deployments'),
  },
  {
    name: 'deploy heroku: Heroku build.list',
    run: inWorld('deploy heroku', 0, 'build.list'),
    error: entries('Heroku', 'GET /apps/[\\w-]+/builds'),
  },
  {
    name: 'clone: Heroku add-on-attachment.list-by-app',
    run: inWorld('clone', 0, 'add-on-attachment.list-by-app'),
    error: entries('Heroku', 'GET /apps/[\\w-]+/addon-attachments'),
  },
  {
    name: 'clone: Hetzner list_rrsets',
    run: inWorld('clone', 1, 'list_rrsets', 'rrsets'),
    error: entries('Hetzner', 'GET /v1/zones/[\\w.-]+/rrsets', 'a "rrsets" list'),
  },
  {
    name: 'evidence: GitHub artifacts.list',
    run: inWorld('evidence', 0, 'actions/list-artifacts-for-repo', 'artifacts'),
    error: entries('GitHub', 'GET /repos/acme/fleet/actions/artifacts', 'a "artifacts" list'),
  },
  {
    name: 'clone: Cloudflare zones-get',
    run: async () => {
      const w = await createWorld();
      w.cloudflare.server.inject({
        route: 'zones-get',
        times: Number.POSITIVE_INFINITY,
        fault: { listEntries: { entries: BAD, field: 'result' } },
      });
      const run = await w.run({ 'dns-provider': 'cloudflare', 'dns-token': DNS_TOKEN });
      return { run, servers: [w.heroku.server, w.cloudflare.server], stop: w.stop };
    },
    error: entries('Cloudflare', 'GET /client/v4/zones'),
  },
  {
    name: 'deploy ssh: DigitalOcean droplets.list',
    run: async () => {
      const token = 'do-canary-list-token';
      const digitalocean = createDigitalOceanFake({ token });
      await digitalocean.start();
      digitalocean.addDroplet({ name: 'web-1', tags: ['deployed-via-api'] });
      digitalocean.addDroplet({ name: 'web-2', tags: ['deployed-via-api'] });
      digitalocean.server.inject({
        route: 'droplets_list',
        times: Number.POSITIVE_INFINITY,
        fault: { listEntries: { entries: BAD, field: 'droplets' } },
      });
      const run = await runBundle('deploy', {
        inputs: {
          target: 'ssh',
          image: `ghcr.io/acme/web@sha256:${'c'.repeat(64)}`,
          'tag-image': 'false',
          service: 'shop',
          'digitalocean-token': token,
          'digitalocean-api-url': `${digitalocean.server.url}/v2`,
          'ssh-key': ed25519Key(),
          'ssh-known-hosts':
            '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
        },
      });
      return { run, servers: [digitalocean.server], stop: () => digitalocean.stop() };
    },
    error: entries('DigitalOcean', 'GET /v2/droplets', 'a "droplets" list'),
  },
];

describe('a provider list with null and non-object entries (bundles against the fakes)', () => {
  it.each(CASES)(
    '$name: one error naming the provider and the request',
    async ({ run: start, error }) => {
      const { run, servers, stop } = await start();
      try {
        expect(run.code).toBe(1);
        expect(run.errors).toHaveLength(1);
        expect(run.errors[0]).toMatch(error);
        expect(run.errors[0]).toMatch(
          / failed: answered .* is null, not an object \(3 of its entries are not objects\)/,
        );
        expect(run.everything).not.toMatch(/Cannot read properties|TypeError/);
        // Nothing is changed at the provider on the bad list's account (a deploy still records
        // its failure on GitHub).
        for (const server of servers) {
          expect(server.violations).toEqual([]);
          const bad = server.requests.findIndex((r) => r.faulted);
          if (bad < 0) continue;
          const after = server.requests.slice(bad + 1).filter((r) => r.method !== 'GET');
          expect(after.map((r) => `${r.method} ${r.path}`)).toEqual([]);
        }
      } finally {
        await stop();
      }
    },
    120_000,
  );
});
