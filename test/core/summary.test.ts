import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProgressLine, Progress } from '../../src/core/progress.ts';
import {
  countsLine,
  formatMs,
  markdownTable,
  mermaidGantt,
  rowsWithin,
  summaryTable,
} from '../../src/core/summary.ts';
import { summaryTables } from '../helpers/summary-tables.ts';

describe('markdownTable', () => {
  it('renders headers, rule and escaped cells', () => {
    expect(
      markdownTable(
        ['id', 'note'],
        [
          ['a|b', 'x\ny'],
          [1, undefined],
        ],
      ),
    ).toBe('| id | note |\n| --- | --- |\n| a\\|b | x<br>y |\n| 1 |  |');
  });
});

describe('summaryTable (@actions/core summary.addTable)', () => {
  it.each([
    [['id'], [['plain']], '<table><tr><th>id</th></tr><tr><td>plain</td></tr></table>'],
    [[], [['k', 'v']], '<table><tr><td>k</td><td>v</td></tr></table>'],
    [['a'], [['x < y & z']], '<table><tr><th>a</th></tr><tr><td>x &lt; y &amp; z</td></tr></table>'],
    [
      ['a'],
      [['</td></tr></table><script>']],
      '<table><tr><th>a</th></tr><tr><td>&lt;/td>&lt;/tr>&lt;/table>&lt;script></td></tr></table>',
    ],
    [
      ['a'],
      [['one\ntwo\r\nthree']],
      '<table><tr><th>a</th></tr><tr><td>one<br>two<br>three</td></tr></table>',
    ],
    [['a', 'b'], [[1, undefined]], '<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td></tr></table>'],
  ])('renders %j / %j as one line of HTML with text cells', (headers, rows, html) => {
    expect(summaryTable(headers, rows)).toBe(html);
  });

  it('reads back every cell as it was given (line breaks as \\n), whatever the text', () => {
    const text = fc.string({ unit: 'binary', maxLength: 30 });
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1, maxLength: 4 }),
        fc.array(fc.array(text, { minLength: 1, maxLength: 4 }), { maxLength: 4 }),
        (headers, rows) => {
          const normalise = (cell: string) => cell.replace(/\r?\n/g, '\n');
          const html = summaryTable(headers, rows);
          expect(html).not.toContain('\n');
          expect(summaryTables(html)).toEqual([
            [headers.map(normalise), ...rows.map((r) => r.map(normalise))],
          ]);
        },
      ),
    );
  });
});

describe('mermaidGantt', () => {
  it('renders sections and bars in milliseconds with sanitised labels', () => {
    const chart = mermaidGantt('Fan-out', [
      { section: 'ams', label: 'm1: ok', startMs: 0, endMs: 120, status: 'done' },
      { section: 'ams', label: 'm2', startMs: 5, endMs: 5 },
      { section: 'fra', label: 'm3 #failed', startMs: 10, endMs: 900.4, status: 'crit' },
    ]);
    expect(chart.split('\n')).toEqual([
      '```mermaid',
      'gantt',
      '  title Fan-out',
      '  dateFormat x',
      '  axisFormat %M:%S',
      '  section ams',
      '  m1  ok :done, t0, 0, 120',
      '  m2 :t1, 5, 6',
      '  section fra',
      '  m3  failed :crit, t2, 10, 900',
      '```',
    ]);
  });
});

describe('progress lines', () => {
  it.each([
    [
      1,
      3,
      { id: 'e784', where: 'ams', outcome: 'ok', status: 200, attempts: 1, ms: 123.4 },
      '[1/3  33%] e784 (ams) ok status=200 attempts=1 123ms',
    ],
    [
      3,
      3,
      { id: 'host-b', outcome: 'failed', status: 503, attempts: 4, ms: 2000, note: 'HTTP 503' },
      '[3/3 100%] host-b failed status=503 attempts=4 2000ms - HTTP 503',
    ],
    [7, 12, { id: 'x', outcome: 'skipped', ms: 0 }, '[ 7/12  58%] x skipped 0ms'],
  ] as const)('%i of %i', (position, total, unit, expected) => {
    expect(formatProgressLine(position, total, unit)).toBe(expected);
  });

  it('writes one line per finished unit at once, counting positions', () => {
    const lines: string[] = [];
    const progress = new Progress(2, (l) => lines.push(l));
    progress.done({ id: 'a', outcome: 'ok', ms: 1 });
    expect(lines).toHaveLength(1);
    progress.done({ id: 'b', outcome: 'ok', ms: 2 });
    expect(lines).toEqual(['[1/2  50%] a ok 1ms', '[2/2 100%] b ok 2ms']);
  });
});

describe('formatMs', () => {
  it.each([
    [12, '12 ms'],
    [1500, '1.5 s'],
    [125_000, '2 min 5 s'],
  ])('%i', (ms, text) => expect(formatMs(ms)).toBe(text));
});

describe('rowsWithin', () => {
  const rank = (s: string) => (s.startsWith('failed') ? 0 : s.startsWith('skipped') ? 1 : 2);
  it.each([
    { items: [], limit: 2, shown: [] },
    { items: ['ok a', 'failed b'], limit: 2, shown: ['ok a', 'failed b'] },
    {
      items: ['ok a', 'failed b', 'ok c', 'skipped d', 'failed e'],
      limit: 3,
      shown: ['failed b', 'failed e', 'skipped d'],
    },
    { items: ['ok a', 'ok b', 'ok c'], limit: 2, shown: ['ok a', 'ok b'] },
  ])('$limit of $items: $shown', ({ items, limit, shown }) => {
    expect(rowsWithin(items, limit, rank)).toEqual(shown);
  });
});

describe('countsLine', () => {
  it.each([
    [[], ''],
    [['updated'], '1 updated'],
    [['updated', 'failed', 'updated', 'skipped', 'failed', 'updated'], '3 updated, 2 failed, 1 skipped'],
  ])('%j: %j', (values, line) => {
    expect(countsLine(values)).toBe(line);
  });
});
