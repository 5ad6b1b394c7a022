import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/core/cancellation.ts';
import { ApiError, InputError, StepError } from '../../src/core/errors.ts';
import { type Message, msg, own, redactPieces } from '../../src/core/message.ts';
import { judgeWait, retryLine, waitLine } from '../../src/core/rate-limit.ts';
import { encodedForms, TOKEN_SHAPES } from '../../src/core/redact.ts';
import { Secrets } from '../../src/core/secrets.ts';

/**
 * Mixed strings, generated: short secrets cut from our own wording (`on`, `ss`,
 * `ing`: what a user may well name in `redact`) and from the values, against
 * messages our code composes around generated provider values. Our words stay
 * whole unless a secret straddles a value and them; no form of any secret is
 * ever left outside our words. Shrunk failures are kept below as fixed cases.
 */

type Build = (v: readonly string[]) => Message;

/** Messages as our code composes them, each around three values from outside. */
const BUILDS: [string, Build][] = [
  [
    'step error around an API error',
    ([app, body, id]) =>
      new StepError(
        'app.create',
        msg`create Heroku app ${app}`,
        new ApiError({
          provider: 'Heroku',
          operation: 'app.create',
          request: 'POST /apps',
          status: 422,
          providerMessage: body,
          requestId: id,
          retryable: false,
          attempts: 3,
        }),
      ).composed,
  ],
  [
    'refused credential',
    ([body, id, hint]) =>
      new ApiError({
        provider: 'DigitalOcean',
        operation: 'droplets.list',
        request: 'GET /v2/droplets',
        status: 401,
        providerMessage: body,
        requestId: id,
        hint,
        retryable: false,
        attempts: 1,
        refusedCredential: 'digitalocean-token',
      }).composed,
  ],
  [
    'retry line',
    ([path, code]) =>
      retryLine('Fly Machines', `GET /v1/apps/${path}`, {
        waitMs: 1500,
        limit: msg`${code} (retry ${own(2)} of ${own(3)})`,
      }),
  ],
  [
    'rate-limit line',
    ([limit]) => waitLine('Hetzner', { waitMs: 30_000, limit: limit ?? '' }, 'rrset.upsert'),
  ],
  [
    'rate limit past the bound',
    ([limit]) => {
      const verdict = judgeWait({
        provider: 'Cloudflare',
        wait: { waitMs: 300_000, limit: limit ?? '' },
        sleptMs: 0,
        bound: { budgetMs: 60_000, name: 'the input timeout' },
        now: 0,
        scale: 1,
      });
      return verdict.wait ? msg`` : verdict.reason;
    },
  ],
  [
    'cancel note',
    ([host, why]) =>
      new CancelledError('SIGINT', msg`${own(1)} host(s) changed, ${host} sent back: ${why}`).composed,
  ],
  [
    'input error',
    ([raw]) => new InputError('strategy', msg`must be rolling or blue-green, not "${raw}"`).composed,
  ],
  [
    'plan line',
    ([name, zone, target]) => msg`upsert CNAME ${name}.${zone} → ${target} (exists, pointing elsewhere)`,
  ],
];

/** Our words in those messages, as `redactPieces` sees them. */
const OUR_WORDS = [
  ...new Set(
    BUILDS.flatMap(([, build]) =>
      build(['\0', '\0', '\0'])
        .segments.filter((s) => s.ours)
        .map((s) => s.text),
    ),
  ),
];

const valueChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz .-_:/"\'<>&0123456789äé'.split(''));
const value = fc.string({ unit: valueChar, maxLength: 24 });

/** A 1–4 character piece of our wording, or of a value, named as a secret. */
function shortSecret(values: readonly string[]): fc.Arbitrary<string> {
  const sources = [...OUR_WORDS, ...values.filter((v) => v.trim().length > 0)];
  return fc
    .tuple(fc.constantFrom(...sources), fc.nat(), fc.integer({ min: 1, max: 4 }))
    .map(([text, at, length]) => {
      const from = at % Math.max(1, text.length);
      return text.slice(from, from + length).trim();
    })
    .filter((s) => s !== '' && !s.includes('\0'));
}

/** Values, one of them carrying a secret in one of its forms, and the secrets the run is told about. */
const scene = fc
  .tuple(fc.constantFrom(...BUILDS), fc.array(value, { minLength: 3, maxLength: 3 }))
  .chain(([build, values]) =>
    fc.tuple(
      fc.constant(build),
      fc.constant(values),
      fc.array(shortSecret(values), { minLength: 1, maxLength: 3 }),
      fc.nat({ max: 2 }),
      fc.constantFrom('raw', 'uri', 'json-u', 'html'),
    ),
  )
  .map(([[label, build], values, secrets, carrier, form]) => {
    const planted = [...values];
    const secret = secrets[0]!;
    const printed =
      form === 'uri'
        ? encodeURIComponent(secret)
        : form === 'json-u'
          ? JSON.stringify(secret)
              .slice(1, -1)
              .replace(/[\u0080-\uffff<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
          : form === 'html'
            ? secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;')
            : secret;
    planted[carrier] = `${planted[carrier]}${printed}${planted[carrier]}`;
    return { label, build, values: planted, secrets };
  });

/** Where each form of a secret occurs in `text`, outside our markers. */
function occurrences(text: string, secrets: readonly string[]): [number, number][] {
  const markers = [...text.matchAll(/\[REDACTED:[a-z0-9-]+\]/g)].map((m) => [m.index, m.index + m[0].length]);
  const found: [number, number][] = [];
  for (const form of secrets.flatMap((s) => encodedForms(s)))
    for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) {
      const span: [number, number] = [at, at + form.length];
      if (!markers.some(([a, b]) => span[0] < b! && a! < span[1])) found.push(span);
    }
  return found;
}

function check({ build, values, secrets }: { build: Build; values: string[]; secrets: string[] }): void {
  const holder = new Secrets(() => undefined);
  for (const s of secrets) holder.add(s);
  const message = build(values);
  const { text, whole } = redactPieces(message, holder.redactor);

  // The same text with each value redacted on its own, and where our words lie in it.
  let pieces = '';
  const ours: [number, number][] = [];
  for (const s of message.segments) {
    const shown = s.ours ? s.text : holder.redact(s.text);
    if (s.ours) ours.push([pieces.length, pieces.length + shown.length]);
    pieces += shown;
  }
  const inOurs = ([start, end]: [number, number]) => ours.some(([a, b]) => a <= start && end <= b);

  if (!whole) {
    // Our words whole: the output is our words and the values, each redacted on its own.
    expect(text).toBe(pieces);
    // Every form of every secret left lies inside our words.
    expect(occurrences(text, secrets).filter((span) => !inOurs(span))).toEqual([]);
  } else {
    // Fallen back only for a reason: a form or a shape across a boundary of the pieces.
    const across = occurrences(pieces, secrets).some((span) => !inOurs(span));
    const shaped = TOKEN_SHAPES.some(({ pattern }) => new RegExp(pattern.source, pattern.flags).test(pieces));
    expect(across || shaped).toBe(true);
    expect(occurrences(text, secrets)).toEqual([]);
  }
}

describe('mixed strings: our words whole, secrets gone', () => {
  it('generated short secrets against generated provider values', () => {
    fc.assert(fc.property(scene, check), { numRuns: 1200 });
  });

  it.each([
    // A secret across two values and our `.` between them, and across a value and our `; `.
    { label: 'plan line', values: ['tati', 'shibari.photo', 'x'], secrets: ['i.sh'] },
    { label: 'rate-limit line', values: ['HTTP 429', '', ''], secrets: ['9; r'] },
    // Shrunk from the property run against a redactPieces that never fell back.
    { label: 'refused credential', values: ['l<ad bl<a', 'b<7näxfik', '&5'], secrets: ['d b', 'C'] },
  ] as { label: string; values: string[]; secrets: string[] }[])('$label', ({ label, values, secrets }) => {
    check({ build: BUILDS.find(([l]) => l === label)![1], values, secrets });
  });
});
