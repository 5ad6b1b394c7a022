import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../src/core/fanout.ts';
import { logFilePath, OpLog } from '../../src/core/oplog.ts';

const read = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('OpLog', () => {
  it('batchTurns: the lines of one turn are written together when it is over, in order; after it, at once', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'oplog-')), 'ops.jsonl');
    const log = new OpLog({ path, action: 'config-update', redact: (t) => String(t) });
    const lines = () => readFileSync(path, { encoding: 'utf8', flag: 'a+' }).split('\n').filter(Boolean);
    log.write({ step: 'inputs', outcome: 'ok' });
    const stop = log.batchTurns();
    log.write({ step: 'update', outcome: 'ok', ids: { target: 'a' } });
    log.write({ step: 'update', outcome: 'failed', ids: { target: 'b' } });
    expect(lines()).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines()).toHaveLength(3);
    log.write({ step: 'update', outcome: 'ok', ids: { target: 'c' } });
    stop();
    log.write({ step: 'report', outcome: 'ok' });
    expect(read(path).map((e) => [e.step, e.ids?.target])).toEqual([
      ['inputs', undefined],
      ['update', 'a'],
      ['update', 'b'],
      ['update', 'c'],
      ['report', undefined],
    ]);
  });

  it('writes one redacted JSON line per step with outcome and duration', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'oplog-')), 'nested', 'ops.jsonl');
    const log = new OpLog({
      path,
      action: 'clone',
      redact: (t) => String(t).replaceAll('s3cret', '[REDACTED:secret]'),
      now: () => new Date('2026-11-22T10:00:00Z'),
    });
    await log.step('app.create', { app: 'fetlife-prod-tati' }, async () => 'ok');
    await expect(
      log.step('dns.upsert', { record: 'tati' }, async () => {
        throw new Error('token s3cret refused');
      }),
    ).rejects.toThrow('s3cret');
    const events = read(path);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      time: '2026-11-22T10:00:00.000Z',
      action: 'clone',
      step: 'app.create',
      outcome: 'ok',
      ids: { app: 'fetlife-prod-tati' },
    });
    expect(events[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(events[1]).toMatchObject({
      step: 'dns.upsert',
      outcome: 'failed',
      detail: 'token [REDACTED:secret] refused',
    });
  });

  it('places the log under RUNNER_TEMP named by action and run', () => {
    const path = logFilePath(
      { RUNNER_TEMP: '/rt', GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '2' },
      'deploy',
      new Date('2026-11-22T10:00:00Z'),
    );
    expect(path).toBe('/rt/ops-actions/deploy-77-2-2026-11-22T10-00-00-000Z.jsonl');
  });
});

describe('mapConcurrent', () => {
  it('never has more than `concurrency` tasks in flight and keeps input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapConcurrent(
      Array.from({ length: 20 }, (_, i) => i),
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5 + (i % 3) * 5));
        inFlight--;
        return i * 2;
      },
      { concurrency: 4 },
    );
    expect(peak).toBe(4);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  });
});
