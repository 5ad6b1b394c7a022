import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from './registry.ts';

/**
 * A real Docker daemon for tests, isolated from any other: its own data root,
 * exec root, pid file and unix socket in a temp dir, no bridge, no iptables,
 * so containers only ever use `--network host` on loopback. Stopped by PID;
 * its mounts (overlay layers, the netns) are unmounted before the dir goes.
 */

export const DOCKERD_BINARY = '/usr/sbin/dockerd';
export const BUSYBOX_BINARY = '/bin/busybox';

export interface Dockerd {
  /** `unix:///…/docker.sock`, for DOCKER_HOST. */
  host: string;
  pid: number;
  dir: string;
  /** Runs the docker CLI against this daemon; rejects with the output on a non-zero exit. */
  docker(args: string[], options?: { input?: string; env?: Record<string, string> }): Promise<string>;
  logs(): string;
  stop(): Promise<void>;
}

export interface StartDockerdOptions {
  /** `host:port` of registries spoken to over plain HTTP (a loopback test registry). */
  insecureRegistries?: string[];
  startTimeoutMs?: number;
}

export async function startDockerd(options: StartDockerdOptions = {}): Promise<Dockerd> {
  const dir = await mkdtemp(join(tmpdir(), 'dockerd-'));
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const args = [
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'dockerd.pid'),
    '-H',
    host,
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    '--ip6tables=false',
    ...(options.insecureRegistries ?? []).flatMap((r) => ['--insecure-registry', r]),
  ];
  const child: ChildProcess = spawn(DOCKERD_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-30_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const docker = (cliArgs: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
    dockerCli(host, cliArgs, opts);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      }, 15_000);
      await exited;
      clearTimeout(timer);
    }
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`dockerd exited before serving:\n${output}`);
    }
    try {
      await docker(['info', '--format', '{{.ServerVersion}}']);
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`dockerd did not answer within its start timeout: ${String(error)}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { host, pid: child.pid!, dir, docker, logs: () => output, stop };
}

function dockerCli(
  host: string,
  args: string[],
  options: { input?: string; env?: Record<string, string> },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'docker',
      args,
      { env: { ...process.env, DOCKER_HOST: host, ...options.env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`docker ${args.join(' ')}: ${stderr || stdout || error.message}`));
        else resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Mounts dockerd leaves when stopped (netns files, layers of a killed daemon), deepest first. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((path) => path.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const path of mounts) {
    try {
      execFileSync('umount', ['-l', path], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

// ---- a tiny runnable image -----------------------------------------------

export interface AppImage {
  /** `127.0.0.1:<port>/<repo>@sha256:…`, as a deploy runs it. */
  ref: string;
  /** `127.0.0.1:<port>/<repo>:<tag>` */
  tagged: string;
  digest: string;
}

/**
 * Builds an image without any base image or network: a rootfs with a static
 * busybox, imported with `docker import`, whose command serves `/www` with
 * busybox httpd on 127.0.0.1:$PORT ($BIND:$PORT when set). `/www/up` holds `version` unless
 * `healthy: false`, so `curl -fsS http://127.0.0.1:$PORT/up` tells versions
 * apart and fails on a broken one. Pushed to `registry` (logging in with a
 * throwaway DOCKER_CONFIG) and removed locally, so a deploy really pulls it.
 */
export async function pushAppImage(
  dockerd: Dockerd,
  registry: Registry,
  repo: string,
  tag: string,
  options: { version?: string; healthy?: boolean } = {},
): Promise<AppImage> {
  const dir = await mkdtemp(join(tmpdir(), 'app-image-'));
  try {
    const root = join(dir, 'rootfs');
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'www'), { recursive: true });
    mkdirSync(join(root, 'tmp'), { recursive: true });
    copyFileSync(BUSYBOX_BINARY, join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    for (const applet of ['sh', 'httpd', 'sleep', 'cat', 'wget', 'test']) {
      symlinkSync('busybox', join(root, 'bin', applet));
    }
    const version = options.version ?? tag;
    writeFileSync(join(root, 'www', 'version'), `${version}\n`);
    if (options.healthy !== false) writeFileSync(join(root, 'www', 'up'), `${version}\n`);
    const tarball = join(dir, 'rootfs.tar');
    await new Promise<void>((resolve, reject) =>
      execFile('tar', ['-C', root, '-cf', tarball, '.'], (error) => (error ? reject(error) : resolve())),
    );
    const tagged = `${registry.host}/${repo}:${tag}`;
    await dockerd.docker([
      'import',
      '--change',
      'ENV PATH=/bin',
      '--change',
      'ENV PORT=8080',
      '--change',
      // PID 1 ignores SIGTERM unless it traps it: without this every `docker stop` would wait 10 s.
      // BIND=0.0.0.0 makes it reachable through a published port (`-p`) on a bridge network.
      'CMD ["/bin/sh", "-c", "trap \'exit 0\' TERM; httpd -f -p ${BIND:-127.0.0.1}:$PORT -h /www & wait"]',
      tarball,
      tagged,
    ]);
    const config = join(dir, 'docker-config');
    mkdirSync(config);
    const env = { DOCKER_CONFIG: config };
    if (registry.auth) {
      await dockerd.docker(
        ['login', '--username', registry.auth.username, '--password-stdin', registry.host],
        {
          input: registry.auth.password,
          env,
        },
      );
    }
    const pushed = await dockerd.docker(['push', tagged], { env });
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
    if (!digest) throw new Error(`docker push printed no digest:\n${pushed}`);
    await dockerd.docker(['image', 'rm', tagged]);
    return { ref: `${registry.host}/${repo}@${digest}`, tagged, digest };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
