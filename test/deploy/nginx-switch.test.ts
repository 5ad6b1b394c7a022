import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { switchUpstream, upstreamConfig } from '../../src/deploy/ssh/commands.ts';

/**
 * The remote script that switches a service's nginx upstream (commands.ts `switchUpstream`), run
 * by the host's `sh` against a stand-in `nginx` (OPS_ACTIONS_NGINX, as an operator would set it)
 * whose `-t` and `-s reload` pass, fail or hang as each row says. However the script ends, the
 * upstream file is the new one only when the reload went through, and no `.next`/`.good` file is
 * left beside it.
 */

const root = mkdtempSync(join(tmpdir(), 'nginx-switch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const OLD = `${upstreamConfig('shop', 20001)}\n`;
const NEW = `${upstreamConfig('shop', 20002)}\n`;

interface Row {
  name: string;
  /** What `nginx -t` does: pass, fail with a message, or take 600 ms (time for a signal). */
  test: 'ok' | 'fail' | 'slow';
  reload: 'ok' | 'fail';
  /** The upstream file before the switch, when there is one. */
  before?: string;
  /** Leftovers of an earlier switch killed outright. */
  stale?: boolean;
  /** Sent to the script while `nginx -t` runs (the ssh session cut on cancel). */
  signal?: NodeJS.Signals;
  code: number;
  after: string | undefined;
  reloaded: boolean;
}

const rows: Row[] = [
  { name: 'both pass', test: 'ok', reload: 'ok', before: OLD, code: 0, after: NEW, reloaded: true },
  { name: 'first file', test: 'ok', reload: 'ok', code: 0, after: NEW, reloaded: true },
  { name: 'nginx -t refuses', test: 'fail', reload: 'ok', before: OLD, code: 1, after: OLD, reloaded: false },
  {
    name: 'nginx -t refuses a first file',
    test: 'fail',
    reload: 'ok',
    code: 1,
    after: undefined,
    reloaded: false,
  },
  { name: 'the reload fails', test: 'ok', reload: 'fail', before: OLD, code: 1, after: OLD, reloaded: false },
  {
    name: 'SIGHUP during nginx -t',
    test: 'slow',
    reload: 'ok',
    before: OLD,
    signal: 'SIGHUP',
    code: 1,
    after: OLD,
    reloaded: false,
  },
  {
    name: 'SIGTERM during nginx -t',
    test: 'slow',
    reload: 'ok',
    before: OLD,
    signal: 'SIGTERM',
    code: 1,
    after: OLD,
    reloaded: false,
  },
  {
    name: 'leftovers of a killed switch',
    test: 'ok',
    reload: 'ok',
    before: OLD,
    stale: true,
    code: 0,
    after: NEW,
    reloaded: true,
  },
];

function fakeNginx(dir: string, row: Row): string {
  const bin = join(dir, 'nginx');
  const t =
    row.test === 'fail'
      ? 'echo "nginx: [emerg] unknown directive \\"oops\\"" >&2; exit 1'
      : row.test === 'slow'
        ? `touch ${dir}/testing; sleep 0.6; exit 0`
        : 'exit 0';
  const reload =
    row.reload === 'fail' ? 'echo "nginx: [error] no master" >&2; exit 1' : `touch ${dir}/reloaded`;
  writeFileSync(bin, `#!/bin/sh\nif [ "$1" = "-t" ]; then ${t}; fi\n${reload}\n`);
  chmodSync(bin, 0o755);
  return bin;
}

async function runSwitch(row: Row): Promise<{ code: number | null; out: string; dir: string; home: string }> {
  const dir = mkdtempSync(join(root, 'row-'));
  const home = join(dir, 'home');
  const upstreams = join(home, '.ops-actions', 'nginx');
  mkdirSync(upstreams, { recursive: true });
  if (row.before !== undefined) writeFileSync(join(upstreams, 'shop.conf'), row.before);
  if (row.stale) {
    writeFileSync(join(upstreams, 'shop.conf.next'), 'stale next');
    writeFileSync(join(upstreams, 'shop.conf.good'), 'stale good');
  }
  const child = spawn('sh', ['-c', switchUpstream('shop', 20002)], {
    env: { PATH: process.env.PATH ?? '', HOME: home, OPS_ACTIONS_NGINX: fakeNginx(dir, row) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  if (row.signal) {
    const signal = row.signal;
    const poll = setInterval(() => {
      if (existsSync(join(dir, 'testing'))) {
        clearInterval(poll);
        child.kill(signal);
      }
    }, 10);
    child.on('exit', () => clearInterval(poll));
  }
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return { code, out, dir, home };
}

describe('switchUpstream on the host', () => {
  it.each(rows)('$name', async (row) => {
    const { code, out, dir, home } = await runSwitch(row);
    const upstreams = join(home, '.ops-actions', 'nginx');
    expect(code).toBe(row.code);
    expect(readdirSync(upstreams)).toEqual(row.after === undefined ? [] : ['shop.conf']);
    if (row.after !== undefined) expect(readFileSync(join(upstreams, 'shop.conf'), 'utf8')).toBe(row.after);
    expect(existsSync(join(dir, 'reloaded'))).toBe(row.reloaded);
    if (row.test === 'fail') {
      expect(out).toContain('unknown directive "oops"');
      expect(out).toContain('nginx -t refused the new upstream; the previous one stays');
    }
    if (row.code === 0) expect(out).toContain('upstream shop_app -> 127.0.0.1:20002');
  });
});
