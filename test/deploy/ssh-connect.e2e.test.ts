import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { freePort, type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { bodyLines, generatedKeys } from '../helpers/ssh-keys.ts';

/**
 * Issue 14, action-deploy side, through the committed bundle against the real
 * loopback sshd (no dockerd: every case ends before or at the first docker
 * command). A key pasted with CRLF logs in; when ssh cannot connect, the
 * error line carries ssh's own reason and says nothing about removing a lock
 * this run never took; no key file is left in RUNNER_TEMP.
 */

const GITHUB_TOKEN = 'ghs_sshConnectToken00000000000000000000';
const SERVICE = 'connectshop';
let sshd: Sshd;
let github: GitHubFake;
const keys = generatedKeys();

beforeAll(async () => {
  sshd = await startSshd();
  github = createGitHubFake({ token: GITHUB_TOKEN, repositories: ['acme/fleet'] });
  await github.start();
});
afterAll(async () => {
  await github?.stop();
  await sshd?.stop();
});

const deploy = (inputs: Record<string, string>) =>
  runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: {
      target: 'ssh',
      hosts: sshd.target,
      'ssh-key': sshd.privateKey,
      'ssh-known-hosts': sshd.knownHosts,
      service: SERVICE,
      image: `127.0.0.1:1/acme/web@sha256:${'b'.repeat(64)}`,
      'tag-image': 'false',
      'github-token': GITHUB_TOKEN,
      'github-api-url': github.server.url,
      ...inputs,
    },
  });

describe('deploy over ssh: keys as pasted, ssh reasons in the error', () => {
  it('a key pasted with CRLF line endings logs in: the lock is taken and released', async () => {
    const run = await deploy({ 'ssh-key': sshd.privateKey.replace(/\n/g, '\r\n') });
    // No dockerd behind this sshd: the deploy fails after logging in, never on ssh.
    expect(run.code).toBe(1);
    expect(run.everything).not.toContain('ssh could not connect');
    expect(run.stdout).toContain(`Released the ${SERVICE} deploy lock on ${sshd.target}.`);
    expect(readdirSync(join(run.dir, 'runner-temp')).filter((f) => f.startsWith('ops-ssh-'))).toEqual([]);
  });

  it.each<[string, () => Record<string, string>, () => string]>([
    [
      'a key the host does not accept',
      () => ({ 'ssh-key': keys.usable[1]!.text }),
      () => 'Permission denied (publickey).',
    ],
    [
      'a host key other than the known one',
      () => ({ 'ssh-known-hosts': `[127.0.0.1]:${sshd.port} ${keys.usable[0]!.publicKey}` }),
      () =>
        `Host key verification failed. The host key of [127.0.0.1]:${sshd.port} is not the one ssh-known-hosts gives.`,
    ],
  ])('%s: one error with ssh’s reason, no lock to remove', async (_, inputs, reason) => {
    const run = await deploy(inputs());
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(`could not take the lock: ssh could not connect: `);
    expect(run.errors[0]).toContain(reason());
    expect(run.everything).not.toMatch(/remove/i);
    expect(run.everything).not.toMatch(/ops-ssh-|known_hosts:\d/);
    expect(readdirSync(join(run.dir, 'runner-temp')).filter((f) => f.startsWith('ops-ssh-'))).toEqual([]);
    for (const line of bodyLines(sshd.privateKey)) expect(run.everything).not.toContain(line);
  });

  it('a host where nothing listens: one sentence naming host, port and what to check', async () => {
    const closed = await freePort();
    const run = await deploy({
      hosts: `${sshd.user}@127.0.0.1:${closed}`,
      'ssh-known-hosts': `[127.0.0.1]:${closed} ${sshd.knownHosts.split(' ').slice(1).join(' ')}`,
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(
      `could not take the lock: ssh could not connect to 127.0.0.1 port ${closed} (Connection refused): nothing listens there: check the host and port in hosts, hosts-file or the droplets tagged digitalocean-tag and that sshd runs on it`,
    );
    expect(run.everything).not.toMatch(/remove/i);
    expect(readdirSync(join(run.dir, 'runner-temp')).filter((f) => f.startsWith('ops-ssh-'))).toEqual([]);
  });

  it('a malformed ssh-known-hosts line is refused naming the input and the line, before any connection', async () => {
    const publicKeyOnly = sshd.knownHosts.split(' ').slice(1).join(' ');
    const run = await deploy({ 'ssh-known-hosts': `# fleet\r\n${sshd.knownHosts}\r\n${publicKeyOnly}\r\n` });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /ssh-known-hosts.*line 3 is not a known_hosts line: it starts with the key type/,
    );
    expect(run.stdout).not.toContain('deploy lock');
    expect(readdirSync(join(run.dir, 'runner-temp')).filter((f) => f.startsWith('ops-ssh-'))).toEqual([]);
  });
});
