import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './sshd.ts';
import { stopChild } from './stop-child.ts';

/** Debian's nginx package. */
export const NGINX_BINARY = '/usr/sbin/nginx';

export interface Nginx {
  /** `http://127.0.0.1:<port>`: the server block that proxies to the service's upstream. */
  url: string;
  pid: number;
  dir: string;
  /** Holds an `nginx` wrapper bound to this instance's prefix and config (the host's OPS_ACTIONS_NGINX). */
  binDir: string;
  /** Files in here are included in the `http` block after the upstream file (to break `nginx -t` on purpose). */
  extraDir: string;
  stop(): Promise<void>;
}

export interface StartNginxOptions {
  /** The action's upstream file, included as an operator's server block would. */
  upstreamFile: string;
  /** The upstream name inside it, for `proxy_pass`. */
  upstream: string;
}

/**
 * A real nginx on a free loopback port with a prefix of its own (no root paths;
 * it runs as the test's user), in the foreground so the test owns its PID.
 * The config is the README's example server block: `include` of the action's
 * upstream file and keep-alive to the upstream (nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive).
 */
export async function startNginx(options: StartNginxOptions): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
  const binDir = join(dir, 'bin');
  const extraDir = join(dir, 'extra');
  for (const d of [binDir, extraDir, join(dir, 'logs'), join(dir, 'temp')]) mkdirSync(d, { recursive: true });
  const port = await freePort();
  const temp = join(dir, 'temp');
  const config = [
    'daemon off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'logs', 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${temp}/${k};`),
    `  include ${options.upstreamFile};`,
    `  include ${extraDir}/*.conf;`,
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    location / {',
    `      proxy_pass http://${options.upstream};`,
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '    }',
    '  }',
    '}',
  ].join('\n');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `${config}\n`);
  const wrapper = join(binDir, 'nginx');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec ${NGINX_BINARY} -p ${dir}/ -c ${conf} -e ${join(dir, 'logs', 'error.log')} "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  const child: ChildProcess = spawn(wrapper, [], { stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    logs += chunk.toString();
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${logs}`);
    const up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}: ${logs}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    dir,
    binDir,
    extraDir,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
