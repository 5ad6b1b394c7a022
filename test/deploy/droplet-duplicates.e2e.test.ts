import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDigitalOceanFake, type DigitalOceanFake } from '../../sandbox/fakes/digitalocean.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * One machine is never deployed twice, whatever DigitalOcean's listing answers (deploy bundle,
 * DigitalOcean fake): a droplet listed twice is one host and the log says so; two droplets
 * reached at one address, or two hosts lines naming one droplet, are refused before any ssh.
 */

const TOKEN = 'do-canary-duplicates-token';
const TAG = 'deployed-via-api';
let fake: DigitalOceanFake | undefined;
afterEach(async () => {
  expect(fake?.server.violations).toEqual([]);
  await fake?.stop();
  fake = undefined;
});

function ed25519Key(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'droplet-dup-key-')), 'id');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  return readFileSync(file, 'utf8');
}
const KEY = ed25519Key();

async function deploy(droplets: { id?: number; name: string; publicIp: string }[], hosts = '') {
  fake = createDigitalOceanFake({ token: TOKEN });
  await fake.start();
  for (const d of droplets) fake.addDroplet({ ...d, tags: [TAG] });
  return runBundle('deploy', {
    inputs: {
      target: 'ssh',
      image: `ghcr.io/acme/web@sha256:${'c'.repeat(64)}`,
      'tag-image': 'false',
      service: 'shop',
      hosts,
      'dry-run': 'true',
      'digitalocean-token': TOKEN,
      'digitalocean-api-url': `${fake.server.url}/v2`,
      'ssh-key': KEY,
      'ssh-known-hosts':
        '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
    },
  });
}

describe('DigitalOcean droplets that are one machine (deploy bundle)', () => {
  it('deploys a droplet the listing answered twice once, and says so', async () => {
    // The same droplet on two pages: the listing shifted while it was read.
    const run = await deploy([
      { id: 4242, name: 'web-1', publicIp: '127.0.0.1' },
      { id: 4242, name: 'web-1', publicIp: '127.0.0.1' },
    ]);
    // Dry run still looks at the host (no sshd here): one host, one failure.
    expect(run.errors).toEqual([
      expect.stringContaining('could not connect to 127.0.0.1 port 22 (Connection refused)'),
    ]);
    expect(run.stdout).toContain(
      'DigitalOcean: droplet web-1 (id 4242) was listed 2 times by DigitalOcean; it is deployed once.',
    );
    expect(run.stdout).toContain(
      'DigitalOcean: 1 droplet(s) tagged deployed-via-api: web-1 (root@127.0.0.1:22)',
    );
  });

  it.each([
    [
      'two droplets at one address',
      [
        { name: 'web-1', publicIp: '127.0.0.1' },
        { name: 'web-2', publicIp: '127.0.0.1' },
      ],
      '',
      /droplets web-1 and web-2 are both reached as 127\.0\.0\.1:22; one machine would be deployed twice/,
    ],
    [
      'two hosts lines naming one droplet (by IP and by name)',
      [{ name: 'web-1', publicIp: '127.0.0.1' }],
      'deploy@127.0.0.1:2222\nroot@WEB-1',
      /the hosts entries deploy@127\.0\.0\.1:2222 and root@WEB-1:22 both name it/,
    ],
  ])('refuses %s before any ssh', async (_name, droplets, hosts, error) => {
    const run = await deploy(droplets, hosts);
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringMatching(error)]);
    expect(run.stdout).not.toMatch(/ssh: connect|Permission denied/);
  });
});
