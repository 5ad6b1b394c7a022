import { describe, expect, it } from 'vitest';
import { type FailureReport, renderFailureSummary } from '../../src/core/failure-summary.ts';
import { summaryTables } from '../helpers/summary-tables.ts';

/** The summary of a run that failed before writing its own: heading, error, what was done by then. */

const base: FailureReport = { title: 'probe', cancelled: false, error: 'boom', atInputs: false, steps: [] };

describe('renderFailureSummary', () => {
  it.each([
    [
      'a bad input',
      { atInputs: true },
      '## probe: failed',
      'Nothing was sent or changed: the run stopped at its inputs.',
    ],
    [
      'a failure before any step finished (the inputs step is no work)',
      { steps: [{ step: 'inputs', outcomes: { ok: 1 } }] },
      '## probe: failed',
      'No step had finished when the run failed.',
    ],
    [
      'a cancel',
      { cancelled: true, title: 'deploy to fly (production)' },
      '## deploy to fly (production): cancelled, failed',
      'No step had finished when the run failed.',
    ],
  ] as const)('%s', (_, overrides, heading, line) => {
    const text = renderFailureSummary({ ...base, ...overrides });
    expect(text.split('\n')[0]).toBe(heading);
    expect(text).toContain(`\n${line}\n`);
    expect(summaryTables(text)).toEqual([[['error', 'boom']]]);
  });

  it('lists the steps so far, one row a step, counts when a step logged several events', () => {
    const text = renderFailureSummary({
      ...base,
      steps: [
        { step: 'inputs', outcomes: { ok: 1 } },
        { step: 'discover', outcomes: { ok: 1 } },
        { step: 'update', outcomes: { ok: 9998, failed: 2 } },
        { step: 'wake', outcomes: { failed: 1 } },
      ],
    });
    expect(summaryTables(text)[1]).toEqual([
      ['step', 'outcome'],
      ['discover', 'ok'],
      ['update', '9998 ok, 2 failed'],
      ['wake', 'failed'],
    ]);
  });

  it('stays short: 20 steps at most, the error cut at 2000 characters', () => {
    const steps = Array.from({ length: 25 }, (_, i) => ({ step: `s${i}`, outcomes: { ok: 1 } }));
    const text = renderFailureSummary({ ...base, error: 'x'.repeat(5000), steps });
    const [error, table] = summaryTables(text);
    expect(error?.[0]?.[1]).toBe(`${'x'.repeat(2000)}…`);
    expect(table).toHaveLength(21);
    expect(text).toContain('… and 5 more steps in the log.');
  });

  it.each([
    ['a redaction marker the cut would split', `${'x'.repeat(1995)}[REDACTED:secret] tail`, 'x'.repeat(1995)],
    ['a surrogate pair the cut would split', `${'x'.repeat(1999)}😀${'y'.repeat(10)}`, 'x'.repeat(1999)],
    [
      'a marker ending at the cut',
      `${'x'.repeat(1983)}[REDACTED:secret]yyy`,
      `${'x'.repeat(1983)}[REDACTED:secret]`,
    ],
  ])('cuts a long error before %s', (_, error, head) => {
    expect(summaryTables(renderFailureSummary({ ...base, error }))[0]).toEqual([['error', `${head}…`]]);
  });

  it('shows the title as text: a user value cannot open markup that hides the rest', () => {
    const text = renderFailureSummary({ ...base, title: 'deploy to heroku (prod <!-- & <img src=x>)' });
    expect(text.split('\n')[0]).toBe('## deploy to heroku (prod &lt;!-- &amp; &lt;img src=x>): failed');
    expect(text).not.toContain('<!--');
  });

  it('escapes the error as table text', () => {
    const text = renderFailureSummary({ ...base, error: 'a <b> & c\nd' });
    expect(summaryTables(text)[0]).toEqual([['error', 'a <b> & c\nd']]);
    expect(text).not.toContain('<b>');
  });
});
