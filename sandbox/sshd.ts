import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './stop-child.ts';

/**
 * A real OpenSSH server on a free loopback port, with its own host key, config
 * and a client key allowed to log in as the current user (root here). Tests
 * get what a user would put in the action's inputs: the private key and the
 * known_hosts line. Stopped by PID.
 */

export const SSHD_BINARY = '/usr/sbin/sshd';

export interface Sshd {
  host: string;
  port: number;
  user: string;
  /** `user@127.0.0.1:port`, as the actions take it. */
  target: string;
  privateKey: string;
  /** `[127.0.0.1]:port ssh-ed25519 AAAA...` */
  knownHosts: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * In every session: SHLVL=1. Bash run by sshd for a command reads the user's ~/.bashrc when
 * its SHLVL was unset (bash manual, "Invoked by remote shell daemon": shell.c reads it for
 * a top-level shell only), and this user is the test machine's own root, whose ~/.bashrc
 * starts pyenv and cargo: about 0.1 s of CPU, half of each command's time on a loaded machine,
 * before every one of the hundreds of commands the ssh tests run. A deploy host's ~/.bashrc
 * as Debian and Ubuntu ship it (/etc/skel/.bashrc) returns at once for such a shell anyway.
 */
const SESSION_ENV = { SHLVL: '1' };

export interface StartSshdOptions {
  startTimeoutMs?: number;
  /** Environment of every session (`SetEnv`), e.g. DOCKER_HOST for a sandbox dockerd. */
  env?: Record<string, string>;
}

export async function startSshd(options: StartSshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'sshd-'));
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  // sshd refuses to start without its privilege-separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'MaxStartups 100:30:200',
    'MaxSessions 100',
    'AcceptEnv LANG',
    'LogLevel ERROR',
    // Test speed, not behaviour: the key exchange OpenSSH chose before 9.0 (curve25519-sha256; 9.0
    // made the hybrid sntrup761x25519-sha512 the default, https://www.openssh.com/txt/release-9.0),
    // as an OpenSSH 8.x host still negotiates it. The client offers its own default list as ever;
    // on a loaded 2-core machine the hybrid exchange made each of the hundreds of connections the
    // ssh tests open about a quarter slower.
    'KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org',
    // sshd keeps the first SetEnv line only (sshd_config(5)): every variable goes on one line.
    `SetEnv ${Object.entries({ ...SESSION_ENV, ...options.env })
      .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
      .join(' ')}`,
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  const child: ChildProcess = spawn(SSHD_BINARY, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let logs = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    logs += chunk.toString();
  });
  await waitForPort(port, options.startTimeoutMs ?? 10_000, () => logs);
  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const user = process.env.USER || 'root';
  return {
    host: '127.0.0.1',
    port,
    user,
    target: `${user}@127.0.0.1:${port}`,
    privateKey: readFileSync(join(dir, 'client_key'), 'utf8'),
    knownHosts: `[127.0.0.1]:${port} ${hostKey}`,
    pid: child.pid ?? 0,
    dir,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${logs()}`);
}
