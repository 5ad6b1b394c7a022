import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Uploaded } from '../../src/evidence/upload.ts';
import { UploadFailed, uploadInProcess } from '../../src/evidence/upload-process.ts';

/**
 * The parent side of the upload process with stand-in workers: what it relays,
 * what it hands back, and that a worker past the deadline is killed, not left.
 */

const UPLOADED: Uploaded = {
  id: 7,
  name: 'evidence-t1-m',
  size: 10,
  digest: undefined,
  files: ['a.md'],
  replaced: undefined,
  leftovers: [],
};

function worker(body: string): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'upload-worker-'));
  const path = join(dir, 'worker.mjs');
  writeFileSync(
    path,
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(dir, 'pid'))}, String(process.pid));\n${body}\n`,
  );
  return { path, dir };
}

function run(path: string, deadlineMs = 30_000) {
  const seen = {
    lines: [] as string[],
    secrets: [] as string[],
    notes: [] as string[],
    env: {} as Record<string, string>,
  };
  const promise = uploadInProcess({
    request: {
      file: '/w/a.md',
      name: 'evidence-t1-m',
      retentionDays: undefined,
      outputDir: '/w',
      tempDir: '/t',
      attempt: '1',
    },
    deadlineMs,
    blobTimeoutMs: 4321,
    env: {
      PATH: process.env.PATH,
      INPUT_GITHUB_TOKEN: 'ghs_x',
      GITHUB_OUTPUT: '/o',
      ACTIONS_RUNTIME_TOKEN: 'rt',
    },
    onLine: (l) => seen.lines.push(l),
    onSecret: (v) => seen.secrets.push(v),
    onNote: (l) => seen.notes.push(l),
    workerPath: path,
  });
  return { promise, seen };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the upload process', () => {
  it('hands back the outcome, relays lines and masks, and passes only what the upload needs', async () => {
    const { path } = worker(`
      console.log('Uploading artifact: evidence-t1-m.zip');
      console.log('::add-mask::s%25ig%0Anext');
      console.log('::debug::Body: {"signed_url": "…"}');
      console.log('::warning::Retention days cannot be greater than the maximum');
      const env = { timeout: process.env.ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS, input: process.env.INPUT_GITHUB_TOKEN ?? null, output: process.env.GITHUB_OUTPUT ?? null, token: process.env.ACTIONS_RUNTIME_TOKEN, request: JSON.parse(process.env.OPS_EVIDENCE_UPLOAD).name };
      process.send({ kind: 'note', line: JSON.stringify(env) });
      process.send({ kind: 'done', uploaded: ${JSON.stringify(UPLOADED)} }, () => process.exit(0));
    `);
    const { promise, seen } = run(path);
    expect(await promise).toEqual(UPLOADED);
    expect(seen.lines).toEqual([
      'Uploading artifact: evidence-t1-m.zip',
      'warning: Retention days cannot be greater than the maximum',
    ]);
    expect(seen.secrets).toEqual(['s%ig\nnext']);
    expect(JSON.parse(seen.notes[0]!)).toEqual({
      timeout: '4321',
      input: null,
      output: null,
      token: 'rt',
      request: 'evidence-t1-m',
    });
  });

  it.each([
    [
      'a failure',
      `process.send({ kind: 'failed', nameTaken: false, message: 'Failed to CreateArtifact: (503)' }, () => process.exit(0));`,
      /^Failed to CreateArtifact: \(503\)$/,
      false,
    ],
    [
      'a name taken',
      `process.send({ kind: 'failed', nameTaken: true, message: 'the name is taken' }, () => process.exit(0));`,
      /^the name is taken$/,
      true,
    ],
    [
      'a crash',
      `console.error('TypeError: boom'); process.exit(3);`,
      /^the upload process ended \(exit 3\) without an outcome: TypeError: boom$/,
      false,
    ],
  ])('rejects on %s, telling a name conflict apart', async (_, body, message, nameTaken) => {
    const { promise } = run(worker(body).path);
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadFailed);
    expect((error as UploadFailed).message).toMatch(message);
    expect((error as UploadFailed).nameTaken).toBe(nameTaken);
    expect((error as UploadFailed).timedOut).toBe(false);
  });

  it('kills a worker that outlives the deadline, timers and sockets and all', async () => {
    const { path, dir } = worker(`
      setInterval(() => {}, 1000);
      process.on('SIGTERM', () => {});
    `);
    const { promise } = run(path, 3000);
    const error = (await promise.catch((e: unknown) => e)) as UploadFailed;
    expect(error).toBeInstanceOf(UploadFailed);
    expect(error.timedOut).toBe(true);
    expect(alive(Number(readFileSync(join(dir, 'pid'), 'utf8')))).toBe(false);
  });

  it('kills the worker when the step is cancelled, rejecting with the reason', async () => {
    const { path, dir } = worker('setInterval(() => {}, 1000);');
    const controller = new AbortController();
    const promise = uploadInProcess({
      request: {
        file: '/w/a.md',
        name: 'n',
        retentionDays: undefined,
        outputDir: '/w',
        tempDir: '/t',
        attempt: '1',
      },
      deadlineMs: 30_000,
      blobTimeoutMs: 1000,
      env: { PATH: process.env.PATH },
      onLine: () => {},
      onSecret: () => {},
      onNote: () => {},
      workerPath: path,
      signal: controller.signal,
    });
    const pidOf = () => Number(readFileSync(join(dir, 'pid'), { encoding: 'utf8', flag: 'a+' }));
    while (!(pidOf() > 0)) await new Promise((r) => setTimeout(r, 20));
    const reason = new Error('cancelled (SIGINT)');
    controller.abort(reason);
    await expect(promise).rejects.toBe(reason);
    expect(alive(Number(readFileSync(join(dir, 'pid'), 'utf8')))).toBe(false);
  });
});
