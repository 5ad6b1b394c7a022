import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, StreamRedactor, type TokenShape } from '../../src/core/redact.ts';
import { ReferenceRedactor } from '../helpers/redact-reference.ts';
import { cuts, split } from '../helpers/secret-arbitraries.ts';

/**
 * The regions (the lines around each literal hit and each anchor, as far as
 * their shapes reach), each running only the shapes whose anchors occur in it
 * and the literal pass only where a literal was found or a shape changed the
 * text, give the same text and counts as the whole-text pipeline: every shape
 * on the whole text, then the literals (test/helpers/redact-reference.ts).
 * StreamRedactor, fed the same text in string or byte chunks cut anywhere,
 * gives the same as the whole text at once. The one difference by design
 * (see the module docstring): a shape without an anchor (a user pattern) sees
 * a stream a run of whole lines at a time, so one that crosses a line break
 * misses a match split between two chunks; the generator's (`u-none`) is
 * single-line, and that is all it avoids.
 */

/** User shapes whose anchors overlap the built-in ones or each other. */
const USER_SHAPES: TokenShape[] = [
  // Found inside every marker: a shape before it brings its anchor in.
  { kind: 'u-red', pattern: /RED[A-Z]*/g, anchor: 'RED' },
  // Starts where the built-in `HRKU-` does: one position, two anchors.
  { kind: 'u-hrk', pattern: /HRK[A-Z0-9]*/g, anchor: 'HRK' },
  // Merged into the built-in `_(?<=…)` and `=(?<=…)` lookbehinds.
  { kind: 'u-under', pattern: /x_[a-z]+/g, anchor: '_(?<=x_)' },
  { kind: 'u-eq', pattern: /k=[a-z0-9]+/g, anchor: '=(?<=k=)' },
  // The same anchor as two built-in shapes.
  { kind: 'u-url', pattern: /:\/\/[a-z]+/g, anchor: ':\\/\\/' },
  // Inside the hit of another anchor (`-----BEGIN`), and holding one (`://`).
  { kind: 'u-gin', pattern: /GIN [A-Z]+/g, anchor: 'GIN' },
  { kind: 'u-scheme', pattern: /p:\/\/\w+/g, anchor: 'p:\\/\\/' },
  // The anchor of `u-red` again, after shapes that may have brought it in since `u-red` ran.
  { kind: 'u-red-again', pattern: /RED(?=ACTED:u)/g, anchor: 'RED' },
  { kind: 'u-none', pattern: /zz+/g },
];

const FRAGMENTS = [
  '://',
  'http://',
  'https://hooks.slack.com/services/T0/B0/x',
  'postgres://',
  'user:pass@',
  'u:p@ss@h',
  'authorization: bearer ',
  'Authorization:',
  'proxy-authorization=',
  'AUTHORIZATION',
  ' Bearer abcdefgh',
  'eyJ',
  'eyJabcdefghij.eyJabcdefghij.abcdefghij',
  'ghp_',
  `ghp_${'a1B2'.repeat(8)}`,
  'github_pat_',
  'AKIA',
  'AKIAABCDEFGHIJKLMNOP',
  'ASIA',
  'aws_secret_access_key=',
  'A'.repeat(40),
  'xoxb-',
  'xoxb-1234567890ab',
  'xapp-1-',
  'fm2_',
  `fm2_${'x'.repeat(20)}`,
  'FlyV1 ',
  'HRKU-',
  `HRKU-${'y'.repeat(20)}`,
  'dop_v1_',
  `dop_v1_${'a'.repeat(64)}`,
  'cfut_',
  `cfut_${'c'.repeat(30)}`,
  'token=',
  'sig=',
  'password=',
  'api_key=',
  'token%3D',
  'https%3A%2F%2F',
  'https:\\/\\/',
  'aws_secret_access_key=\\\n',
  'u%3Ap%40h',
  '%3a%2f%2f',
  '%3Fsig%3D',
  '%26',
  '%23',
  '-----BEGIN RSA PRIVATE KEY-----',
  '-----END RSA PRIVATE KEY-----',
  '-----BEGIN',
  '-----END ',
  '-----BEGIN CERTIFICATE-----',
  '-----END CERTIFICATE-----',
  'HRKU-----BEGIN RSA PRIVATE KEY-----',
  'authorization:\n',
  'Authorization": [\n',
  'authorization: Bearer\n',
  'aws_secret_access_key: \n',
  '[REDACTED:x]',
  '[REDACTED:',
  ']',
  '\n',
  '\n',
  '\r\n',
  ' ',
  '=',
  '_',
  '@',
  ':',
  '/',
  'x_',
  'k=',
  'HRK',
  'RED',
  'GIN',
  'zz',
];

const CHAR = fc.constantFrom(...'abcxyzABKUJRE019 =:/@_-[].\n\t"ü'.split(''));
const LITERAL_CHAR = fc.constantFrom(...'abtokenJ=:/_-[]@ \nARED'.split(''));

/** Registered secrets: short (found by indexOf), long, multi-line, anchors and parts of a marker. */
const literal = fc.oneof(
  fc.string({ unit: LITERAL_CHAR, minLength: 1, maxLength: 3 }),
  fc.string({ unit: LITERAL_CHAR, minLength: 4, maxLength: 12 }),
  fc.constantFrom(
    ...FRAGMENTS.filter((f) => f.trim() !== ''),
    'x-[REDACTED:jwt]',
    'D:x]',
    ']x',
    '\n[RE',
    'a\n[RED',
    'ACTED:x]\nab',
    'ab\ncd',
    '\nab',
  ),
);

interface Scene {
  literals: [string, string][];
  shapes: TokenShape[];
  text: string;
}

const scene: fc.Arbitrary<Scene> = fc
  .record({
    literals: fc.array(fc.tuple(literal, fc.constantFrom('secret', 'short', 'authorization')), {
      maxLength: 3,
    }),
    shapes: fc.subarray(USER_SHAPES),
    parts: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) },
        { weight: 3, arbitrary: fc.string({ unit: CHAR, maxLength: 6 }) },
        { weight: 1, arbitrary: fc.nat(2) },
      ),
      { maxLength: 30 },
    ),
  })
  .map(({ literals, shapes, parts }) => ({
    literals,
    shapes,
    text: parts.map((p) => (typeof p === 'number' ? (literals[p]?.[0] ?? '') : p)).join(''),
  }));

function both(s: Scene): { actual: Redactor; reference: ReferenceRedactor } {
  const actual = new Redactor();
  const reference = new ReferenceRedactor();
  for (const [value, kind] of s.literals) {
    actual.addLiteral(value, kind);
    reference.addLiteral(value, kind);
  }
  for (const shape of s.shapes) {
    actual.addShape(shape);
    reference.addShape(shape);
  }
  return { actual, reference };
}

function stream(redactor: Redactor, chunks: (string | Uint8Array)[]): string {
  const s = new StreamRedactor(redactor);
  return chunks.map((c) => s.push(c)).join('') + s.end();
}

function sameAsReference(s: Scene): void {
  const { actual, reference } = both(s);
  expect(actual.redact(s.text)).toBe(reference.redact(s.text));
  expect(actual.counts).toEqual(reference.counts);
}

/** The whole text, then streams of it cut once anywhere, and in one-character, one-byte and one-line chunks. */
function sameEverywhere(s: Scene): void {
  sameAsReference(s);
  const lines = s.text.split(/(?<=\n)/);
  const bytes = Buffer.from(s.text);
  const chunkings: (string | Uint8Array)[][] = [
    ...[...s.text].map((_, i) => [s.text.slice(0, i), s.text.slice(i)]),
    ...[...bytes].map((_, i) => [bytes.subarray(0, i), bytes.subarray(i)]),
    [...s.text],
    [...Buffer.from(s.text)].map((b) => Uint8Array.of(b)),
    lines,
  ];
  for (const chunks of chunkings) {
    const { actual, reference } = both(s);
    expect(stream(actual, chunks)).toBe(reference.redact(s.text));
    expect(actual.counts).toEqual(reference.counts);
  }
}

describe('regions give the same text and counts as the whole-text pipeline', () => {
  it('whole text', () => {
    fc.assert(fc.property(scene, sameAsReference), { numRuns: 2000 });
  });

  it('text in random chunks (StreamRedactor)', () => {
    fc.assert(
      fc.property(
        scene.chain((s) => fc.tuple(fc.constant(s), cuts(s.text.length))),
        ([s, at]) => {
          const { actual, reference } = both(s);
          const chunks = split(s.text, at);
          expect(stream(actual, chunks)).toBe(reference.redact(s.text));
          expect(actual.counts).toEqual(reference.counts);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('UTF-8 bytes in random chunks (StreamRedactor)', () => {
    fc.assert(
      fc.property(
        scene.chain((s) => fc.tuple(fc.constant(s), cuts(Buffer.byteLength(s.text)))),
        ([s, at]) => {
          const { actual, reference } = both(s);
          const chunks = split(Buffer.from(s.text, 'utf8'), at);
          expect(stream(actual, chunks)).toBe(reference.redact(s.text));
          expect(actual.counts).toEqual(reference.counts);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('redacting redacted text again keeps the Authorization markers as they are', () => {
  // Each output redacts again what it is given (a check's output, then the evidence file, then the
  // summary): the Authorization shape took a scheme or Go's `[` in front of its own marker as a
  // value (`Bearer [REDACTED:…]` became `[REDACTED:…] [REDACTED:…]`, `[[REDACTED:…]]`), which
  // destroys evidence and counts one secret twice. Other shapes may still find more the second
  // time (`postgres://[REDACTED:jwt]@` as url-credentials): not idempotent in general.
  const once = (t: string) => new Redactor().redact(t);
  it.each([
    ['authorization: bearer ', 'authorization: [REDACTED:authorization] '],
    ['> Authorization: Bearer tok\r\n', '> Authorization: Bearer [REDACTED:authorization]\r\n'],
    ['Authorization: [abc', 'Authorization: [[REDACTED:authorization]'],
    // The bare marker config-update's dry-run plan writes for a header value it hides.
    ['authorization: Bearer [REDACTED]\n', 'authorization: Bearer [REDACTED]\n'],
    ['map[Authorization:[Bearer [REDACTED]]]', 'map[Authorization:[Bearer [REDACTED]]]'],
    [
      '"Authorization": [\nauthorization: bearer ',
      '"Authorization": [\nauthorization: [REDACTED:authorization] ',
    ],
  ])('%j', (text, redacted) => {
    expect(once(text)).toBe(redacted);
    expect(once(redacted)).toBe(redacted);
  });
});

describe('fixed cases', () => {
  const shape = (kind: string) => USER_SHAPES.find((s) => s.kind === kind)!;
  const text = (t: string): Scene => ({ literals: [], shapes: [], text: t });
  const cases: [string, Scene][] = [
    // Each of these kept a secret that the whole-text pipeline redacts.
    ['an Authorization value on the line after the name', text('authorization:\n  Bearer abcdefgh123\n')],
    [
      'a blank line between Authorization and a value: no header value',
      text('authorization:\n\n  Bearer abc\n'),
    ],
    ['an Authorization value inside an indented JSON array', text('"Authorization": [\n  "Bearer abc"\n]\n')],
    ['an Authorization value after a folded scheme', text('Authorization: Bearer\n  abc\n')],
    ['an AWS secret key on the line after its name', text(`aws_secret_access_key=\n${'A'.repeat(40)}\n`)],
    [
      'a blank line between an AWS secret key and its name',
      text(`aws_secret_access_key=\n\n${'A'.repeat(40)}\n`),
    ],
    [
      'an anchor inside the hit of another (-----BEGIN in HRKU-----)',
      text('x HRKU-----BEGIN RSA PRIVATE KEY-----\nbody\n-----END RSA PRIVATE KEY-----'),
    ],
    [
      'a certificate END inside a private key block (a PEM bundle)',
      text(
        '-----BEGIN RSA PRIVATE KEY-----\nk1\n-----END CERTIFICATE-----\nk2\n-----END RSA PRIVATE KEY-----\nafter\n',
      ),
    ],
    [
      'a certificate then a private key',
      text(
        '-----BEGIN CERTIFICATE-----\nc1\n-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----\nk1\n-----END EC PRIVATE KEY-----\n',
      ),
    ],
    [
      'a certificate alone (no block, no waiting)',
      text('-----BEGIN CERTIFICATE-----\nc1\n-----END CERTIFICATE-----\n'),
    ],
    [
      'a registered secret starting with a line break at position 0',
      { literals: [['\nab', 'secret']], shapes: [], text: '\nab rest\n' },
    ],
    [
      'a multi-line secret ending inside a marker a shape made',
      { literals: [['\n[RE', 'secret']], shapes: [], text: `x\nghp_${'a1B2'.repeat(8)}\n` },
    ],
    [
      'a multi-line secret starting in what a secret before it left of a marker',
      {
        literals: [
          ['a[RED', 'secret'],
          ['ACTED:jwt]\nab', 'secret'],
        ],
        shapes: [],
        text: 'aeyJabcdefghij.eyJabcdefghij.abcdefghij\nab\n',
      },
    ],
    [
      'shrunk: a secret that is the end of a marker and a line, after a token shape',
      {
        literals: [
          ['E/\n', 'authorization'],
          ['ACTED:x]\nab', 'short'],
          [']n\n', 'secret'],
        ],
        shapes: [shape('u-red'), shape('u-scheme')],
        text: 'ghp_ACTED:x]\nab',
      },
    ],
    [
      'shrunk: a multi-line secret with a blank line, before a JWT',
      {
        literals: [
          ['@n:na@\n\ne-', 'short'],
          ['A[@_', 'secret'],
        ],
        shapes: [shape('u-url'), shape('u-scheme')],
        text: ':U01sig= @n:na@\n\ne-eyJabcdefghij.eyJabcdefghij.abcdefghij.9AJ_RxKA[@_',
      },
    ],
    [
      'a multi-line secret whose short lines come in separate chunks',
      { literals: [['ab\ncd', 'secret']], shapes: [], text: 'ab\ncd\n' },
    ],
    [
      'a marker brings in the anchor of a later user shape',
      { literals: [], shapes: [shape('u-red')], text: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789\n' },
    ],
    [
      'two anchors at one position (HRKU- and HRK)',
      { literals: [], shapes: [shape('u-hrk')], text: `a HRKU-${'y'.repeat(20)} HRKX\n` },
    ],
    [
      'a marker brings in an anchor after a shape at the same position ran',
      { literals: [], shapes: [shape('u-hrk'), shape('u-red')], text: 'HRKU-' },
    ],
    [
      'an anchor absent when one shape ran, brought in by the next for a third',
      { literals: [], shapes: [shape('u-red'), shape('u-hrk'), shape('u-red-again')], text: 'HRKX\n' },
    ],
    [
      'an anchor inside the hit of another (GIN in -----BEGIN)',
      { literals: [], shapes: [shape('u-gin')], text: '-----BEGIN CERTIFICATE-----\n' },
    ],
    [
      'a literal holding part of a marker, brought together by a shape',
      {
        literals: [['x-[REDACTED:jwt]', 'secret']],
        shapes: [],
        text: 'x-eyJabcdefghij.eyJabcdefghij.abcdefghij\n',
      },
    ],
    [
      "a literal's line merged into the region of an anchor on the line before",
      { literals: [['a', 'secret']], shapes: [], text: '://\na' },
    ],
    // The scan runs a private key's pattern once per block, not once per BEGIN inside it (quadratic
    // on a line of them); an anchor inside the match of an earlier one is not run again.
    [
      'private key BEGINs repeated on one line, one END at the end',
      text(`x ${'-----BEGIN RSA PRIVATE KEY-----'.repeat(3)}body-----END RSA PRIVATE KEY----- after\nnext\n`),
    ],
    [
      'private key BEGINs repeated on one line, no END',
      text(`x ${'-----BEGIN RSA PRIVATE KEY-----'.repeat(3)}\nbody\n`),
    ],
    [
      "a second key's header whose dashes the first block's END search takes",
      text(
        '-----BEGIN A PRIVATE KEY-----\nk1\n-----BEGIN B PRIVATE KEY-----END B PRIVATE KEY-----\nk2\n-----END A PRIVATE KEY-----\nafter\n',
      ),
    ],
    [
      'a key block ended, then another BEGIN on the same line',
      text('-----BEGIN A PRIVATE KEY-----k1-----END A PRIVATE KEY----- -----BEGIN B PRIVATE KEY-----\nk2\n'),
    ],
    [
      'many anchors on one line and the line after (Authorization reaching it)',
      text(`${'authorization: a://u:p@h token=x '.repeat(3)}authorization:\n${'Bearer abc ://'.repeat(3)}\n`),
    ],
    // A stream holding back an open block tries again only when the carried text has doubled.
    [
      'a private key block over many lines, then text',
      text(`-----BEGIN RSA PRIVATE KEY-----\n${'body\n'.repeat(12)}-----END RSA PRIVATE KEY-----\nafter\n`),
    ],
    [
      'a private key block that never ends',
      text(`a\n-----BEGIN EC PRIVATE KEY-----\n${'body\n'.repeat(12)}`),
    ],
    [
      'credentials in a JSON-escaped URL (https:\\/\\/user:pass@host)',
      text('{"url":"https:\\/\\/deploy:pw@db.example.com\\/x"}\n'),
    ],
    [
      'an AWS secret key after a shell line continuation',
      text(`export AWS_SECRET_ACCESS_KEY=\\\n  ${'A'.repeat(40)}\n`),
    ],
    [
      'a YAML section named authorization: its keys are no header value',
      text('authorization:\n  mode: Webhook\n  webhook:\n    enabled: true\n'),
    ],
    [
      'credentials in a percent-encoded URL passed as a parameter',
      text('GET /u?src=https%3A%2F%2Fuser%3Ap%2540ss%40host%2Fp%3Ftoken%3Dabc%26x\n'),
    ],
    [
      'a literal that is itself an anchor',
      { literals: [['token=', 'secret']], shapes: [], text: 'a token=abc\nb token=\n' },
    ],
  ];
  it.each(cases)('%s', (_name, s) => sameEverywhere(s));
});
