import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';

const run = promisify(execFile);

describe('real sshd on loopback', () => {
  let sshd: Sshd;
  let keyFile: string;
  let knownHosts: string;

  beforeAll(async () => {
    sshd = await startSshd();
    const dir = mkdtempSync(join(tmpdir(), 'ssh-client-'));
    keyFile = join(dir, 'key');
    knownHosts = join(dir, 'known_hosts');
    writeFileSync(keyFile, sshd.privateKey);
    chmodSync(keyFile, 0o600);
    writeFileSync(knownHosts, `${sshd.knownHosts}\n`);
  });
  afterAll(() => sshd?.stop());

  const ssh = (known: string, command: string) =>
    run('ssh', [
      '-i',
      keyFile,
      '-o',
      `UserKnownHostsFile=${known}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-p',
      String(sshd.port),
      `${sshd.user}@${sshd.host}`,
      command,
    ]);

  it('runs a command for the client key when the host key is known', async () => {
    const { stdout } = await ssh(knownHosts, 'echo hello-from-$((40+2))');
    expect(stdout.trim()).toBe('hello-from-42');
  });

  it('refuses a host that is not in known_hosts', async () => {
    const empty = join(mkdtempSync(join(tmpdir(), 'ssh-empty-')), 'known_hosts');
    writeFileSync(empty, '');
    await expect(ssh(empty, 'true')).rejects.toThrow(/Host key verification failed/);
  });

  it('is stopped by PID', async () => {
    const other = await startSshd();
    await other.stop();
    expect(() => process.kill(other.pid, 0)).toThrow();
  });
});
