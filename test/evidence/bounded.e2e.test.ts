import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { MAX_CAPTURE_BYTES } from '../../src/core/bounded-output.ts';
import { peakRss } from '../helpers/peak-rss.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { evidenceFiles, sshInputs, workspaceWith } from './helpers.ts';

/**
 * Checks that print without end, hold their pipes or answer with huge bodies,
 * through the committed bundle: the step ends, memory stays bounded (the
 * kernel's peak RSS of the bundle process), and the evidence says what was cut.
 */

const MB = 1024 * 1024;
const LINE = '0123456789012345678901234567890123456789';
const MEMORY_LIMIT_MB = 300;
const capNote = (kept: string) => `[output over ${MAX_CAPTURE_BYTES} bytes: ${kept}]`;

let sshd: Sshd;
let http: Server;
let httpUrl: string;
const strayPids: number[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  http = createServer((req, res) => {
    if (req.url !== '/huge') return res.writeHead(404).end();
    // 300 MB of lines, written as fast as the client reads; the client stops reading at the cap.
    res.writeHead(200, { 'content-type': 'text/plain' });
    const block = Buffer.from(`${LINE}\n`.repeat(1600));
    let sent = 0;
    const pump = () => {
      while (sent < 300_000_000) {
        sent += block.length;
        if (!res.write(block)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  httpUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  for (const pid of strayPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  http?.closeAllConnections();
  await new Promise((resolve) => http?.close(resolve));
  await sshd?.stop();
});

describe('bounded output', () => {
  it('a 600 MB ssh check keeps the cap with a note, under 300 MB peak RSS, and leaves no key file', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: flood
    run: yes ${LINE} | head -c 600000000; echo done
    timeout: 600
`);
    const rss = peakRss();
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: sshInputs(sshd),
      env: rss.env,
      timeoutMs: 600_000,
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toMatch(/\| flood \| flood \| ✅ passed \| exit 0 \|/);
    const note = new RegExp(
      `\\[output over ${MAX_CAPTURE_BYTES} bytes: the last (\\d+) bytes were not kept\\]`,
    );
    const dropped = Number(note.exec(text)?.[1]);
    // Every byte is either kept (whole lines) or counted as cut.
    const kept = Math.floor(MAX_CAPTURE_BYTES / (LINE.length + 1)) * (LINE.length + 1);
    expect(dropped).toBeGreaterThanOrEqual(600_000_000 + 5 - MAX_CAPTURE_BYTES - 64 * 1024);
    expect(dropped).toBeLessThanOrEqual(600_000_000 + 5 - kept);
    expect(rss.mb()).toBeLessThan(MEMORY_LIMIT_MB);
    expect(readdirSync(join(run.dir, 'runner-temp')).filter((f) => f.startsWith('ops-ssh-'))).toEqual([]);
  }, 620_000);

  it('a 32 MB single-line ssh check is kept up to the cap and said to be cut', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: one-line
    run: head -c ${32 * MB} /dev/zero | tr '\\\\0' x; echo; echo after
`);
    const rss = peakRss();
    const run = await runBundle('evidence', { cwd: ws, inputs: sshInputs(sshd), env: rss.env });
    expect(run.errors).toEqual([]);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toMatch(/\| one-line \| one-line \| ✅ passed \| exit 0 \|/);
    // The one line is longer than the cap: nothing of it is kept, all of it is counted.
    expect(text).toContain(capNote(`the last ${32 * MB + 1 + 6} bytes were not kept`));
    expect(rss.mb()).toBeLessThan(MEMORY_LIMIT_MB);
  });

  it('an http body of 300 MB is read up to the cap, the rest left unread', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: huge
    http: ${httpUrl}/huge
`);
    const rss = peakRss();
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { milestone: 'm', upload: 'false', 'max-lines': '4' },
      env: rss.env,
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toMatch(/\| huge \| huge \| ✅ passed \| HTTP 200 \|/);
    expect(text).toMatch(
      new RegExp(
        `\\[output over ${MAX_CAPTURE_BYTES} bytes: the rest was not read \\(\\d+ bytes of it were after the last complete line\\)\\]`,
      ),
    );
    expect(rss.mb()).toBeLessThan(MEMORY_LIMIT_MB);
  });
});

describe('a daemon holding the output pipe', () => {
  const daemonCheck = (dir: string) => `
target: t1
checks:
  - id: daemon
    run: setsid sleep 40 & echo $! > ${dir}/daemon.pid; sleep 40 & echo $! >> ${dir}/daemon.pid; echo started
    timeout: 3
`;
  // One daemon that left the check's process group and one background job inside it, both holding
  // the output pipe (a Node child's stdout is a socket: `> /dev/stdout` could not reopen it).
  const remember = (file: string) => {
    try {
      strayPids.push(...readFileSync(file, 'utf8').trim().split('\n').map(Number));
    } catch {}
  };

  it('locally: the check ends shortly after its shell exits, with what it printed', async () => {
    const ws = workspaceWith('');
    const config = join(ws, '.github', 'evidence.yml');
    writeFileSync(config, daemonCheck(ws));
    // Were the step to wait for the pipe, the daemon's 40 s would outlast this bound and kill it.
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { milestone: 'm', upload: 'false' },
      timeoutMs: 30_000,
    });
    remember(join(ws, 'daemon.pid'));
    expect(run.code).toBe(0);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toMatch(/\| daemon \| daemon \| ✅ passed \| exit 0 \|/);
    expect(text).toContain('started');
  });

  it('over ssh: the check ends shortly after its shell exits on the host, with its exit code and what it printed', async () => {
    const ws = workspaceWith('');
    writeFileSync(join(ws, '.github', 'evidence.yml'), daemonCheck(ws));
    const run = await runBundle('evidence', { cwd: ws, inputs: sshInputs(sshd), timeoutMs: 30_000 });
    remember(join(ws, 'daemon.pid'));
    expect(run.code).toBe(0);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toMatch(/\| daemon \| daemon \| ✅ passed \| exit 0 \|/);
    expect(text).toContain('started');
    expect(readdirSync(join(run.dir, 'runner-temp')).filter((f) => f.startsWith('ops-ssh-'))).toEqual([]);
  });
});
