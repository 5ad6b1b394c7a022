import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resultsOutput } from '../../src/config-update/report.ts';
import {
  FULL_TABLE_UP_TO,
  GANTT_BARS,
  NOT_UPDATED_ROWS,
  REASON_ROWS,
  REGION_ROWS,
  renderSummary,
  SLOWEST_ROWS,
  type SummaryInput,
} from '../../src/config-update/summary.ts';
import type { TargetResult } from '../../src/config-update/update.ts';
import { summaryTables } from '../helpers/summary-tables.ts';

const MIB = 1024 * 1024;

const result = (id: string, extra: Partial<TargetResult> = {}): TargetResult => ({
  id,
  region: 'ams',
  url: 'https://a.test/u',
  outcome: 'ok',
  status: 200,
  attempts: 1,
  ms: 100,
  error: null,
  startMs: 0,
  endMs: 100,
  ...extra,
});
const failed = (id: string, extra: Partial<TargetResult> = {}) =>
  result(id, { outcome: 'failed', status: 500, attempts: 4, error: 'HTTP 500: boom', ...extra });
const skipped = (id: string, extra: Partial<TargetResult> = {}) =>
  result(id, {
    outcome: 'skipped',
    status: null,
    attempts: 0,
    ms: 0,
    startMs: 0,
    endMs: 0,
    error: 'machine is stopped',
    ...extra,
  });

const render = (results: TargetResult[], extra: Partial<SummaryInput> = {}) =>
  renderSummary({
    title: 'Config update: Fly app smooth',
    results,
    wallMs: 905,
    concurrency: 8,
    dryRun: false,
    output: resultsOutput(results),
    ...extra,
  });

/** The tables under a `### heading` of the summary. */
function tablesUnder(md: string, heading: string): string[][][] {
  const start = md.indexOf(`### ${heading}`);
  if (start < 0) return [];
  const end = md.indexOf('\n### ', start + 4);
  return summaryTables(md.slice(start, end < 0 ? undefined : end));
}

describe('a small fleet: one row per target and the chart', () => {
  it('renders totals, a table with failures first and slowest next, and a gantt chart', () => {
    const md = render(
      [
        result('fast', { ms: 10, startMs: 0, endMs: 10 }),
        result('slow', { ms: 900, startMs: 5, endMs: 905 }),
        failed('bad', { startMs: 2, endMs: 400, ms: 398 }),
        skipped('zzz'),
      ],
      { notes: ['Shard 1/2.'] },
    );
    expect(md).toContain('## Config update: Fly app smooth');
    expect(md).toContain('4 targets: **2 ok**, **1 failed**, 1 skipped in 905 ms at concurrency 8.');
    expect(md).toContain('Shard 1/2.');
    expect(summaryTables(md)).toEqual([
      [
        ['target', 'region', 'outcome', 'status', 'attempts', 'time', 'error'],
        ['bad', 'ams', '❌ failed', '500', '4', '398 ms', 'HTTP 500: boom'],
        ['slow', 'ams', '✅ ok', '200', '1', '900 ms', ''],
        ['fast', 'ams', '✅ ok', '200', '1', '10 ms', ''],
        ['zzz', 'ams', '⏭️ skipped', '', '0', '', 'machine is stopped'],
      ],
    ]);
    expect(md).toContain('```mermaid\ngantt\n  title Fan-out\n  dateFormat x\n  axisFormat %M:%S\n');
    expect(md).toContain('  section ok\n  fast ams 200 x1 :t0, 0, 10\n  slow ams 200 x1 :t1, 5, 905');
    expect(md).toContain('  section failed\n  bad ams 500 x4 :crit, t2, 2, 400');
    expect(md).not.toContain('results` output lists');
  });

  it.each([
    [GANTT_BARS, true],
    [GANTT_BARS + 1, false],
  ])('%i targets: chart drawn %s (one readable bar per target, or none)', (n, drawn) => {
    const many = Array.from({ length: n }, (_, i) =>
      result(`t${String(i).padStart(3, '0')}`, { ms: i, startMs: i, endMs: i * 2 + 1 }),
    );
    const md = render(many);
    expect(md.includes('```mermaid')).toBe(drawn);
    if (drawn) expect(md.match(/ :(crit, )?t\d+, /g)).toHaveLength(n);
    else
      expect(md).toContain(`_No fan-out chart: ${n} targets are more than its ${GANTT_BARS} readable bars;`);
  });

  it('says a dry run sent nothing and draws no chart', () => {
    const md = render([skipped('a')], { dryRun: true, wallMs: 0 });
    expect(md).toContain('**Dry run**: nothing was sent to the targets.');
    expect(md).not.toContain('mermaid');
  });
});

const REGIONS = ['ams', 'arn', 'atl', 'bog', 'bom', 'bos', 'cdg', 'den', 'dfw', 'ewr', 'eze', 'fra'];
const REASONS = ['HTTP 503: overloaded', 'no answer within 30000 ms', 'ECONNREFUSED'];

/** A fleet like Fly's: 12 regions, 2% failed for one of three reasons, 1% stopped, times 50-1049 ms. */
function fleet(size: number): TargetResult[] {
  return Array.from({ length: size }, (_, i) => {
    const id = `e${String(i).padStart(6, '0')}d1a9e8`;
    const region = REGIONS[i % REGIONS.length]!;
    const ms = 50 + ((i * 7919) % 1000);
    if (i % 50 === 7) return failed(id, { region, ms, error: REASONS[i % 3]!, startMs: i, endMs: i + ms });
    if (i % 100 === 3) return skipped(id, { region });
    return result(id, { region, ms, startMs: i, endMs: i + ms, ...(i % 500 === 1 ? { woken: true } : {}) });
  });
}

describe('a big fleet: aggregated, under 1 MiB', () => {
  it.each([3000, 10_000])('%i targets', (size) => {
    const results = fleet(size);
    const md = render(results);
    expect(Buffer.byteLength(md)).toBeLessThan(MIB);
    const failures = results.filter((r) => r.outcome === 'failed');
    const skips = results.filter((r) => r.outcome === 'skipped');
    const oks = results.filter((r) => r.outcome === 'ok');
    expect(md).toContain(
      `${size} targets: **${oks.length} ok**, **${failures.length} failed**, ${skips.length} skipped in 905 ms at concurrency 8.`,
    );

    const [byOutcome] = tablesUnder(md, 'By outcome');
    expect(byOutcome!.map((row) => row.slice(0, 2))).toEqual([
      ['outcome', 'targets'],
      [`✅ ok (${oks.filter((r) => r.woken).length} woken)`, String(oks.length)],
      ['❌ failed', String(failures.length)],
      ['⏭️ skipped', String(skips.length)],
    ]);
    expect(byOutcome![1]!.slice(2)).toEqual([expect.stringMatching(/ms$/), expect.any(String), '1.0 s']);

    const [byRegion] = tablesUnder(md, 'By region');
    expect(byRegion![0]).toEqual([
      'region',
      'targets',
      'ok',
      'failed',
      'skipped',
      'median',
      'p95',
      'slowest',
    ]);
    expect(
      byRegion!
        .slice(1)
        .map((row) => row[0])
        .sort(),
    ).toEqual([...REGIONS].sort());
    for (const row of byRegion!.slice(1)) {
      const members = results.filter((r) => r.region === row[0]);
      expect(row.slice(1, 5)).toEqual(
        [
          members.length,
          ...(['ok', 'failed', 'skipped'] as const).map((o) => members.filter((r) => r.outcome === o).length),
        ].map(String),
      );
    }

    const [reasons] = tablesUnder(md, 'Failure reasons');
    expect(
      reasons!
        .slice(1)
        .map((row) => [row[0], Number(row[1])])
        .sort(),
    ).toEqual(REASONS.map((reason) => [reason, failures.filter((r) => r.error === reason).length]).sort());

    // Every failure up to the cap (failures first, slowest first), then the skipped ones.
    const [notUpdated] = tablesUnder(md, 'Failed and skipped targets');
    const rows = notUpdated!.slice(1);
    expect(rows).toHaveLength(Math.min(NOT_UPDATED_ROWS, failures.length + skips.length));
    const failedIds = [...failures].sort((a, b) => b.ms - a.ms || (a.id < b.id ? -1 : 1)).map((r) => r.id);
    expect(rows.filter((row) => row[2] === '❌ failed').map((row) => row[0])).toEqual(
      failedIds.slice(0, NOT_UPDATED_ROWS),
    );
    const more = failures.length + skips.length - rows.length;
    if (more > 0) expect(md).toContain(`_${more} more failed or skipped targets are in \`results-file\`._`);

    const [slowest] = tablesUnder(md, `The ${SLOWEST_ROWS} slowest of ${oks.length} updated`);
    const expected = [...oks].sort((a, b) => b.ms - a.ms || (a.id < b.id ? -1 : 1)).slice(0, SLOWEST_ROWS);
    expect(slowest!.slice(1).map((row) => row[0])).toEqual(expected.map((r) => r.id));

    expect(md).not.toContain('mermaid');
    expect(md).toContain(`_No fan-out chart: ${size} targets are more than its ${GANTT_BARS} readable bars;`);
    const output = resultsOutput(results);
    expect(md).toContain(
      `_The \`results\` output lists ${output.listed} of the ${output.due} failed and skipped targets (of ${size}; past 500 it leaves out those updated)`,
    );
  });

  it('10 000 failures with long ids and one reason each: capped everywhere, still far under 1 MiB', () => {
    const results = Array.from({ length: 10_000 }, (_, i) =>
      failed(`fleet-host-${i}.example.com/${'deep/'.repeat(100)}${i}`, {
        region: null,
        error: `HTTP 500: worker ${i} ${'x'.repeat(200)}`,
      }),
    );
    const md = render(results);
    expect(Buffer.byteLength(md)).toBeLessThan(MIB / 4);
    expect(tablesUnder(md, 'By region')).toEqual([]);
    expect(tablesUnder(md, 'Failure reasons')[0]!.slice(1)).toHaveLength(REASON_ROWS);
    expect(md).toContain(`_${10_000 - REASON_ROWS} more reasons, each in \`results-file\`._`);
    expect(tablesUnder(md, 'Failed and skipped targets')[0]!.slice(1)).toHaveLength(NOT_UPDATED_ROWS);
    expect(md).toMatch(/_The `results` output lists \d+ of the 10000 failed and skipped targets/);
  });

  it('many regions: the busiest with failures first, the rest in one row', () => {
    const results = Array.from({ length: 2000 }, (_, i) =>
      i % 97 === 0 ? failed(`t${i}`, { region: `r${i % 80}` }) : result(`t${i}`, { region: `r${i % 80}` }),
    );
    const [byRegion] = tablesUnder(render(results), 'By region');
    expect(byRegion!.slice(1)).toHaveLength(REGION_ROWS + 1);
    expect(byRegion!.at(-1)![0]).toBe(`${80 - REGION_ROWS} more regions`);
    expect(byRegion!.slice(1).reduce((sum, row) => sum + Number(row[1]), 0)).toBe(2000);
    expect(Number(byRegion![1]![3])).toBeGreaterThan(0);
  });

  it('stays under 1 MiB and lists every failure up to the cap, whatever the ids, regions and errors', () => {
    const text = fc.string({ maxLength: 3000 });
    const arbitraryResult = fc.record({
      id: text,
      region: fc.option(text),
      outcome: fc.constantFrom('ok', 'failed', 'skipped'),
      ms: fc.nat(100_000),
      error: fc.option(text),
    });
    fc.assert(
      fc.property(fc.array(arbitraryResult, { maxLength: 400 }), (entries) => {
        const results = entries.map((e, i) =>
          result(`${i}-${e.id}`, {
            region: e.region,
            outcome: e.outcome as TargetResult['outcome'],
            ms: e.ms,
            endMs: e.ms,
            error: e.error,
          }),
        );
        const md = render(results);
        expect(Buffer.byteLength(md)).toBeLessThan(MIB);
        const notUpdated = results.filter((r) => r.outcome !== 'ok').length;
        if (results.length > FULL_TABLE_UP_TO && notUpdated > 0) {
          const rows = tablesUnder(md, 'Failed and skipped targets')[0]!.slice(1);
          expect(rows).toHaveLength(Math.min(NOT_UPDATED_ROWS, notUpdated));
        }
      }),
      { numRuns: 40 },
    );
  });
});
