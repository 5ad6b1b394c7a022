import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/core/redact.ts';
import type { RunCheck } from '../../src/evidence/checks-file.ts';
import { cutLines, statusOf, toResult } from '../../src/evidence/collect.ts';
import {
  evidenceFileName,
  fenceFor,
  redactionTable,
  renderEvidence,
  resultCell,
  utcStamp,
} from '../../src/evidence/evidence-file.ts';
import { artifactName, gateOf } from '../../src/evidence/gate.ts';
import { secretValues } from '../../src/evidence/redaction.ts';
import { unreachable } from '../../src/evidence/run-http.ts';

const run: RunCheck = {
  kind: 'run',
  id: 'x',
  title: 'X',
  command: 'echo',
  timeoutMs: undefined,
  required: true,
  milestones: undefined,
};

describe('cutLines', () => {
  const cases: [string, string, number, string, number][] = [
    ['short text kept', 'a\nb\n', 5, 'a\nb', 0],
    ['empty', '', 3, '', 0],
    ['exactly max', '1\n2\n3', 3, '1\n2\n3', 0],
    [
      'head and tail kept',
      '1\n2\n3\n4\n5\n6',
      4,
      '1\n2\n[… 2 lines cut here (lines 3-4 of 6); max-lines is 4 …]\n5\n6',
      2,
    ],
    ['max 1 keeps the head', '1\n2\n3', 1, '1\n[… 2 lines cut here (lines 2-3 of 3); max-lines is 1 …]', 2],
  ];
  it.each(cases)('%s', (_n, text, max, expected, cut) => {
    const out = cutLines(text, max);
    expect(out.text).toBe(expected);
    expect(out.cut).toBe(cut);
  });

  // The split-everything version it replaced, kept as the reference the in-place slicing must match.
  const bySplit = (text: string, max: number) => {
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    if (body === '') return { text: '', total: 0, cut: 0 };
    const lines = body.split('\n');
    if (lines.length <= max) return { text: body, total: lines.length, cut: 0 };
    const head = Math.ceil(max / 2);
    const tail = max - head;
    const cut = lines.length - max;
    const note = `[… ${cut} lines cut here (lines ${head + 1}-${head + cut} of ${lines.length}); max-lines is ${max} …]`;
    return {
      text: [...lines.slice(0, head), note, ...(tail > 0 ? lines.slice(-tail) : [])].join('\n'),
      total: lines.length,
      cut,
    };
  };
  it('matches splitting every line, for any text and max', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'bc', '', '\n', '\n\n', 'é'), { maxLength: 40 }).map((p) => p.join('')),
        fc.integer({ min: 1, max: 12 }),
        (text, max) => {
          expect(cutLines(text, max)).toEqual(bySplit(text, max));
        },
      ),
    );
  });
});

describe('fences', () => {
  it.each([
    ['no backticks', 'plain', '```'],
    ['a triple', 'a ``` b', '````'],
    ['five', '`````', '``````'],
  ])('%s', (_n, content, fence) => expect(fenceFor(content)).toBe(fence));
});

describe('status and gate', () => {
  it.each([
    ['exit 0', { output: '', exitCode: 0, timedOut: false }, 'passed'],
    ['exit 2', { output: '', exitCode: 2, timedOut: false }, 'failed'],
    ['timed out', { output: '', timedOut: true }, 'timed out'],
    ['no exit code', { output: '', timedOut: false, error: 'spawn failed' }, 'error'],
  ] as const)('%s', (_n, raw, status) => expect(statusOf(run, raw)).toBe(status));

  it('http: any 2xx without expect, the listed statuses with it', () => {
    const http = { ...run, kind: 'http' as const, url: 'https://x', expect: undefined };
    expect(statusOf(http, { output: '', httpStatus: 204, timedOut: false })).toBe('passed');
    expect(statusOf(http, { output: '', httpStatus: 301, timedOut: false })).toBe('failed');
    expect(statusOf({ ...http, expect: [301] }, { output: '', httpStatus: 301, timedOut: false })).toBe(
      'passed',
    );
  });

  it('a failed required check fails the gate and renames the artifact', () => {
    const r = (required: boolean, exitCode: number) =>
      toResult(
        { ...run, required },
        { output: '', exitCode, timedOut: false },
        {
          redactor: new Redactor(),
          timeoutMs: 1000,
          durationMs: 1,
          startedMs: 0,
          maxLines: 10,
        },
      );
    expect(gateOf([r(false, 1), r(true, 0)])).toEqual({ passed: true, failedRequired: [] });
    expect(gateOf([r(true, 1)])).toEqual({ passed: false, failedRequired: ['x'] });
    expect(artifactName('t', 'm', true)).toBe('evidence-t-m');
    expect(artifactName('t', 'm', false)).toBe('evidence-t-m-failed');
  });
});

describe('the result cell of a row', () => {
  const result = (raw: Parameters<typeof toResult>[1], check: Parameters<typeof toResult>[0] = run) =>
    toResult(check, raw, {
      redactor: new Redactor(),
      timeoutMs: 1000,
      durationMs: 1,
      startedMs: 0,
      maxLines: 10,
    });
  const http = { ...run, kind: 'http' as const, url: 'https://x', expect: undefined };
  const long = `ssh could not run the check: ${'x'.repeat(300)}`;
  it.each([
    ['an exit code', result({ output: '', exitCode: 3, timedOut: false }), 'exit 3'],
    ['an HTTP status', result({ output: '', httpStatus: 503, timedOut: false }, http), 'HTTP 503'],
    ['a timeout', result({ output: '', timedOut: true }), '—'],
    [
      'an error: its reason',
      result({
        output: '',
        timedOut: false,
        error: 'ssh could not run the check: Permission denied (publickey).',
      }),
      'ssh could not run the check: Permission denied (publickey).',
    ],
    [
      'a long reason: cut to 160 characters',
      result({ output: '', timedOut: false, error: long }),
      `${long.slice(0, 159)}…`,
    ],
    ['a reason over lines: one line', result({ output: '', timedOut: false, error: 'a\n b' }, http), 'a b'],
  ] as const)('%s', (_n, r, cell) => expect(resultCell(r)).toBe(cell));
});

describe('the evidence file', () => {
  it('names the file by UTC time, target and milestone', () => {
    const time = new Date('2026-05-05T12:03:04.567Z');
    expect(utcStamp(time)).toBe('20260505T120304Z');
    expect(evidenceFileName({ time, target: 'hetzner-staging', milestone: 'gates-pass' })).toBe(
      '20260505T120304Z-hetzner-staging-gates-pass.md',
    );
  });

  it('redacts output before cutting, and lists counts, never values', () => {
    const redactor = new Redactor();
    redactor.addLiteral('s3cret-value-1', 'secret');
    const output = `${'line\n'.repeat(20)}token s3cret-value-1\n`;
    const result = toResult(
      run,
      { output, exitCode: 0, timedOut: false },
      {
        redactor,
        timeoutMs: 1000,
        durationMs: 12,
        startedMs: 0,
        maxLines: 4,
      },
    );
    expect(result.output).toContain('token [REDACTED:secret]');
    const md = renderEvidence(
      {
        target: 't',
        milestone: 'm',
        time: new Date(0),
        repository: 'acme/fleet',
        commit: 'abc',
        ref: undefined,
        runUrl: 'https://github.com/acme/fleet/actions/runs/1',
        checksFile: '.github/evidence.yml',
        ranOn: 'the runner',
        gate: gateOf([result]),
      },
      [result],
      redactor.counts,
    );
    expect(md).toContain('| secret | 1 |');
    expect(md).not.toContain('s3cret-value-1');
    expect(md).toContain('## x — X');
    expect(redactionTable({})).toBe('No redactions were needed.');
  });
});

describe('secret values from the environment', () => {
  it('takes names with secret words and the listed ones, skips trivial values and inputs', () => {
    const values = secretValues({
      secretInputs: ['in-secret'],
      redactLines: ['line-secret'],
      env: {
        API_TOKEN: 'tok-value-1',
        DB_PASSWD: 'pw-value-2',
        SENTRY_DSN: 'https://k@sentry/1',
        DATABASE_URL: 'postgres://u:p@h/d',
        SSH_KEY_COUNT: '3',
        FEATURE_SECRET_ENABLED: 'true',
        PATH: '/usr/bin',
        'INPUT_SSH-KEY': 'already-a-secret-input',
      },
      redactEnv: ['DATABASE_URL'],
      patterns: [],
    }).map((v) => v.value);
    expect(values.sort()).toEqual(
      [
        'in-secret',
        'line-secret',
        'tok-value-1',
        'pw-value-2',
        'https://k@sentry/1',
        'postgres://u:p@h/d',
      ].sort(),
    );
  });
});

describe('an http check that reached nothing', () => {
  it.each([
    [
      'http://127.0.0.1:9/x',
      'ECONNREFUSED',
      /^could not connect to 127\.0\.0\.1 port 9 \(ECONNREFUSED, connection refused: nothing listens there\): check /,
    ],
    [
      'https://ex.example/up',
      'UND_ERR_CONNECT_TIMEOUT',
      /^could not connect to ex\.example port 443 \(UND_ERR_CONNECT_TIMEOUT, no answer\): /,
    ],
    [
      'http://ex.example/up',
      'EHOSTUNREACH',
      /^could not connect to ex\.example port 80 \(EHOSTUNREACH, no route to host\): /,
    ],
    [
      'http://no-such.invalid/',
      'ENOTFOUND',
      /^could not find host no-such\.invalid \(ENOTFOUND\): check the host name in the check's URL$/,
    ],
  ])('%s %s', (url, code, sentence) => expect(unreachable(url, code)).toMatch(sentence));

  it('leaves other errors to their own words', () => {
    expect(unreachable('http://h/', 'UND_ERR_HEADERS_TIMEOUT')).toBeUndefined();
    expect(unreachable('http://h/', undefined)).toBeUndefined();
  });
});
