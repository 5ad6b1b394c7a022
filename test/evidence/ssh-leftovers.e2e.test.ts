import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { evidenceFiles, sshInputs, workspaceWith } from './helpers.ts';

/**
 * A check that backgrounds a process ignoring SIGTERM (the sshd runs on this
 * machine, so the host's processes are ours to see): once the check's shell
 * exits, what it left in its process group is ended, TERM then KILL.
 */
let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(() => sshd?.stop());

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('ssh check leaving a TERM-ignoring process behind', () => {
  it('passes with its exit code, and the leftover is killed on the host', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'leftover-')), 'pid');
    const ws = workspaceWith(`
target: t1
checks:
  - id: stubborn
    run: sh -c 'trap "" TERM HUP; sleep 60' >/dev/null 2>&1 & echo $! > ${pidFile}; echo started
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: sshInputs(sshd),
    });
    expect(run.errors).toEqual([]);
    expect(evidenceFiles(ws)[0]!.text).toMatch(/\| stubborn \| stubborn \| ✅ passed \| exit 0 \|/);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(pid).toBeGreaterThan(1);
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 10_000, interval: 200 });
  }, 60_000);
});
