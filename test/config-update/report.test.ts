import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cancelledNote,
  failureOf,
  PROGRESS_NAME_CHARS,
  progressName,
  progressUnit,
  RESULTS_OUTPUT_BYTES,
  resultsOutput,
  toleratedFailures,
  totalsLine,
  totalsOf,
} from '../../src/config-update/report.ts';
import { resultEntry } from '../../src/config-update/results-file.ts';
import type { TargetResult } from '../../src/config-update/update.ts';
import { formatProgressLine } from '../../src/core/progress.ts';

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
const skipped = (id: string) =>
  result(id, {
    outcome: 'skipped',
    status: null,
    attempts: 0,
    ms: 0,
    startMs: 0,
    endMs: 0,
    error: 'machine is stopped',
  });

describe('progress and totals', () => {
  it.each([
    [result('e784', { ms: 123.4 }), 1, 4, '[1/4  25%] e784 (ams) ok status=200 attempts=1 123ms'],
    [
      failed('f1', { region: null, ms: 2000 }),
      4,
      4,
      '[4/4 100%] f1 failed status=500 attempts=4 2000ms - HTTP 500: boom',
    ],
    [result('w', { woken: true }), 2, 10, '[ 2/10  20%] w (ams) ok (woken) status=200 attempts=1 100ms'],
    [
      failed('t', { status: null, attempts: 2, error: 'no answer within 1000 ms' }),
      1,
      1,
      '[1/1 100%] t (ams) failed attempts=2 100ms - no answer within 1000 ms',
    ],
  ])('line for %o', (r, position, total, line) => {
    expect(formatProgressLine(position, total, progressUnit(r))).toBe(line);
  });

  it('counts outcomes', () => {
    const totals = totalsOf([result('a'), failed('b'), skipped('c'), result('d')]);
    expect(totals).toEqual({ total: 4, succeeded: 2, failed: 1, skipped: 1, planned: 0 });
    expect(totalsLine(totals, 1500)).toBe('Done in 1.5 s: 2 ok, 1 failed, 1 skipped of 4');
  });
});

describe('progressName', () => {
  const id = (length: number) => `h.test/${'a'.repeat(length - 8)}Z`;
  const marker = '[REDACTED:url-secret]';
  it.each([
    ['a short id is kept', 'web-1.test', 'urls line 3', 'web-1.test'],
    ['an id of exactly the limit is kept', id(PROGRESS_NAME_CHARS), 'urls line 3', id(PROGRESS_NAME_CHARS)],
    ['without a list line (a Fly machine id) the id is kept', id(300), undefined, id(300)],
    [
      'past the limit: 80 characters of head, 24 of tail, and the list line',
      id(300),
      'urls-file line 12',
      `h.test/${'a'.repeat(73)}…${'a'.repeat(23)}Z (urls-file line 12)`,
    ],
    [
      'a marker across the head cut is left out whole',
      `h.test/${'a'.repeat(70)}${marker}${'b'.repeat(200)}`,
      'urls line 1',
      `h.test/${'a'.repeat(70)}…${'b'.repeat(24)} (urls line 1)`,
    ],
    [
      'a marker across the tail cut is left out whole',
      `h.test/${'a'.repeat(200)}${marker}endend`,
      'urls line 1',
      `h.test/${'a'.repeat(73)}…endend (urls line 1)`,
    ],
    [
      'a surrogate pair across the head cut stays whole',
      `h.test/${'a'.repeat(72)}😀${'b'.repeat(200)}`,
      'urls line 1',
      `h.test/${'a'.repeat(72)}…${'b'.repeat(24)} (urls line 1)`,
    ],
  ])('%s', (_, name, listedAt, shown) => {
    expect(progressName(name, listedAt)).toBe(shown);
  });

  it('is a head and a tail of the id around `…`, bounded, naming the line, splitting no marker or pair', () => {
    const piece = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.constant(marker));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.nat({ max: 100_000 }), (pieces, line) => {
        const name = pieces.join('');
        const listedAt = `urls-file line ${line}`;
        const shown = progressName(name, listedAt);
        if (name.length <= PROGRESS_NAME_CHARS) {
          expect(shown).toBe(name);
          return;
        }
        const suffix = ` (${listedAt})`;
        expect(shown.endsWith(suffix)).toBe(true);
        const cut = shown.slice(0, -suffix.length);
        // Some `…` of the line splits it into a head of the id and a tail of it (the id may hold `…` too).
        const splits = [...cut.matchAll(/…/g)].map((m) => [cut.slice(0, m.index), cut.slice(m.index + 1)]);
        const split = splits.find(([head, tail]) => name.startsWith(head!) && name.endsWith(tail!));
        expect(split).toBeDefined();
        expect(split![0]!.length).toBeLessThanOrEqual(80);
        expect(split![1]!.length).toBeLessThanOrEqual(24 + 1);
        // Every marker shown is whole, and no half of a surrogate pair is left alone.
        expect(cut.replaceAll(marker, '')).not.toContain('[REDACTED');
        expect(cut.replaceAll(marker, '')).not.toMatch(/ED:url-secret\]|[a-z-]*secret\]/);
        expect(cut.isWellFormed()).toBe(true);
      }),
    );
  });
});

describe('cancelled note', () => {
  it.each([
    [[result('a'), failed('b')], '1 of 2 target(s) updated before the cancellation, 1 not'],
    [
      [result('a'), failed('b'), failed('c'), skipped('d')],
      '1 of 4 target(s) updated before the cancellation, 2 not, 1 skipped',
    ],
    [[skipped('d')], '0 of 1 target(s) updated before the cancellation, 0 not, 1 skipped'],
  ])('%#: %s', (results, note) => {
    expect(cancelledNote(results)).toBe(note);
  });
});

describe('results output', () => {
  it.each([
    [3, 1, 3],
    [500, 1, 500],
    [501, 1, 1],
    [10_000, 25, 25],
  ])('%i targets, %i failed: lists %i (past 500 only the failed and skipped)', (total, failures, listed) => {
    const all = Array.from({ length: total }, (_, i) =>
      i < failures ? failed(`t${String(i).padStart(5, '0')}`) : result(`t${String(i).padStart(5, '0')}`),
    );
    const output = resultsOutput(all);
    expect((JSON.parse(output.json) as unknown[]).length).toBe(listed);
    expect(output).toMatchObject({ listed, due: listed });
    expect(Buffer.byteLength(output.json)).toBeLessThan(1_000_000);
  });

  it.each([
    [500, 0, 500],
    [501, 0, 0],
    [501, 3, 3],
    [10_000, 7, 7],
  ])(
    'dry run, %i targets, %i skipped: lists %i (past 500 not those planned either)',
    (total, skips, listed) => {
      const all = Array.from({ length: total }, (_, i) => {
        const id = `t${String(i).padStart(5, '0')}`;
        return i < skips ? skipped(id) : result(id, { outcome: 'planned', status: null, attempts: 0, ms: 0 });
      });
      const output = resultsOutput(all);
      const parsed = JSON.parse(output.json) as { outcome: string }[];
      expect(parsed).toHaveLength(listed);
      expect(output).toMatchObject({ listed, due: listed });
      if (total > 500) expect(parsed.every((r) => r.outcome === 'skipped')).toBe(true);
    },
  );

  it('stops before the byte cap when even the failures would pass 1 MB, keeping id order', () => {
    const error = `HTTP 503: ${'overloaded '.repeat(10).trim()}`;
    const all = Array.from({ length: 10_000 }, (_, i) =>
      failed(`t${String(i).padStart(5, '0')}`, {
        url: `https://fleet-host-${i}.example.com/showcase/update_config`,
        error,
      }),
    );
    const output = resultsOutput(all);
    const parsed = JSON.parse(output.json) as { id: string }[];
    expect(Buffer.byteLength(output.json)).toBeLessThanOrEqual(RESULTS_OUTPUT_BYTES);
    expect(output.due).toBe(10_000);
    expect(output.listed).toBe(parsed.length);
    expect(output.listed).toBeGreaterThan(3000);
    expect(output.listed).toBeLessThan(10_000);
    expect(parsed.map((r) => r.id)).toEqual(all.slice(0, output.listed).map((r) => r.id));
    // The next entry would not have fitted.
    const next = JSON.stringify(resultEntry(all[output.listed]!));
    expect(Buffer.byteLength(output.json) + Buffer.byteLength(next) + 1).toBeGreaterThan(
      RESULTS_OUTPUT_BYTES,
    );
  });

  it('has exactly the spec fields, sorted by id', () => {
    const parsed = JSON.parse(resultsOutput([failed('b'), result('a', { woken: true })]).json);
    expect(parsed).toEqual([
      {
        id: 'a',
        region: 'ams',
        url: 'https://a.test/u',
        outcome: 'ok',
        status: 200,
        attempts: 1,
        ms: 100,
        error: null,
      },
      {
        id: 'b',
        region: 'ams',
        url: 'https://a.test/u',
        outcome: 'failed',
        status: 500,
        attempts: 4,
        ms: 100,
        error: 'HTTP 500: boom',
      },
    ]);
  });
});

describe('failureOf', () => {
  it.each([
    [[result('a')], 0, undefined],
    [[result('a'), failed('b')], 1, undefined],
    [
      [result('a'), failed('b')],
      0,
      'Could not update 1 of 2 targets: more than max-failures (0) failed: b (HTTP 500: boom)',
    ],
    [
      [failed('b'), failed('c'), skipped('d')],
      1,
      'Could not update 2 of 3 targets: more than max-failures (1) failed: b (HTTP 500: boom); c (HTTP 500: boom)',
    ],
  ])('%#', (results, max, message) => {
    expect(failureOf(results, max)?.message).toBe(message);
  });

  it('names ten failures and counts the rest', () => {
    const many = Array.from({ length: 13 }, (_, i) =>
      failed(`m${String(i).padStart(2, '0')}`, { error: null }),
    );
    expect(failureOf(many, 0)?.message).toBe(
      'Could not update 13 of 13 targets: more than max-failures (0) failed: m00; m01; m02; m03; m04; m05; m06; m07; m08; m09; and 3 more',
    );
  });
});

describe('toleratedFailures', () => {
  it.each([
    [[result('a')], 1, undefined],
    [[result('a'), failed('b')], 0, undefined],
    [[result('a'), failed('b')], 1, '1 of 2 targets failed, within max-failures (1): b (HTTP 500: boom)'],
    [
      [failed('b'), failed('c', { error: null }), skipped('d')],
      5,
      '2 of 3 targets failed, within max-failures (5): b (HTTP 500: boom); c',
    ],
  ])('%#', (results, max, warning) => {
    expect(toleratedFailures(results, max)).toBe(warning);
  });

  it('is said exactly when failures happened and the step does not fail', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('ok', 'failed', 'skipped'), { maxLength: 30 }),
        fc.nat(40),
        (outcomes, max) => {
          const results = outcomes.map((o, i) =>
            o === 'ok' ? result(`t${i}`) : o === 'failed' ? failed(`t${i}`) : skipped(`t${i}`),
          );
          const failures = outcomes.filter((o) => o === 'failed').length;
          const warning = toleratedFailures(results, max);
          expect(warning !== undefined).toBe(failures > 0 && failures <= max);
          expect(failureOf(results, max) !== undefined).toBe(failures > max);
        },
      ),
    );
  });
});
