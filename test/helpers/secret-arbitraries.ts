import fc from 'fast-check';

/**
 * Generated secrets for the issue-12 property tests. Two kinds:
 * - registered: a value we are told is secret (a secret input, `redact`), of
 *   any look: ASCII, unicode, 1–3 characters, full of regex metacharacters, or
 *   a multi-line PEM; it is printed raw or in one of its encodings;
 * - shaped: a value we are not told about, printed inside a shape we must
 *   recognise (Authorization in its Go/JSON/CGI spellings, a URL password with
 *   `@`, presigned-URL signatures, query tokens).
 * `needles` lists what must never be found in any output: the value and every
 * encoding of it (for a multi-line value, each line too).
 */

export interface Planted {
  /** The secret value itself. */
  value: string;
  /** What is printed: the value, an encoding of it, or the shape around it. */
  printed: string;
  /** Whether the action is told the value (a secret input, `redact`). */
  registered: boolean;
  label: string;
}

const ASCII_VISIBLE = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const META = fc.constantFrom('.', '*', '+', '?', '^', '$', '{', '}', '(', ')', '|', '[', ']', '\\', '/', '-');
const TOKEN_CHAR = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split(''),
);

/** A value no shape recognises on its own, long enough to be unmistakable in a scan. */
const token = fc.string({ unit: TOKEN_CHAR, minLength: 12, maxLength: 40 }).map((s) => `q${s}`);

const pem = fc
  .array(fc.string({ unit: TOKEN_CHAR, minLength: 8, maxLength: 64 }), { minLength: 1, maxLength: 4 })
  .map((lines) =>
    ['-----BEGIN OPENSSH PRIVATE KEY-----', ...lines, '-----END OPENSSH PRIVATE KEY-----'].join('\n'),
  );

export const registeredValue = fc.oneof(
  fc.string({ unit: ASCII_VISIBLE, minLength: 4, maxLength: 40 }).map((v) => ({ v, label: 'ascii' })),
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
    .filter((v) => v.trim() === v && v !== '' && !/[\r\n\0]/.test(v))
    .map((v) => ({ v, label: 'unicode' })),
  fc.string({ unit: ASCII_VISIBLE, minLength: 1, maxLength: 3 }).map((v) => ({ v, label: 'short' })),
  fc
    .string({ unit: fc.oneof(META, ASCII_VISIBLE), minLength: 1, maxLength: 16 })
    .map((v) => ({ v, label: 'regex' })),
  pem.map((v) => ({ v, label: 'pem' })),
);

/** A registered value, printed raw or in one of the encodings it travels in. */
export const registered: fc.Arbitrary<Planted> = fc
  .tuple(registeredValue, fc.constantFrom('raw', 'uri', 'json', 'base64', 'html-python', 'html-go'))
  .map(([{ v, label }, form]) => ({
    value: v,
    printed:
      form === 'uri'
        ? encodeURIComponent(v)
        : form === 'json'
          ? JSON.stringify(v).slice(1, -1)
          : form === 'base64'
            ? Buffer.from(v).toString('base64')
            : form.startsWith('html-')
              ? htmlEscape(v, form === 'html-go')
              : v,
    registered: true,
    label: `${label}/${form}`,
  }));

const SHAPES: [string, (t: string) => string][] = [
  ['go-header', (t) => `map[Authorization:[Bearer ${t}] Accept:[*/*]]`],
  ['json-header', (t) => `{"authorization":["Bearer ${t}"]}`],
  ['cgi', (t) => `HTTP_AUTHORIZATION: Bearer ${t}`],
  ['header', (t) => `Authorization: token ${t}`],
  ['url-password-at', (t) => `postgres://app:${t.slice(0, 5)}@${t.slice(5)}@db/app`],
  ['url-password', (t) => `https://deploy:${t}@registry.example.com/v2/`],
  ['s3-signature', (t) => `https://b.s3.amazonaws.com/k?X-Amz-Date=1&X-Amz-Signature=${t}&x=1`],
  ['signature', (t) => `https://d.cloudfront.net/a?Expires=1&Signature=${t}`],
  ['sas', (t) => `https://a.blob.core.windows.net/c?sv=1&sig=${t}`],
  ['token', (t) => `https://h.example/x?token=${t}`],
  ['access_token', (t) => `https://h.example/x?a=1&access_token=${t}#f`],
  ['api_key', (t) => `https://h.example/x?api_key=${t}`],
];

/** As Python's html.escape writes a value, or Go's html.EscapeString (`&#39;`, `&#34;`). */
function htmlEscape(v: string, go: boolean): string {
  return v
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, go ? '&#34;' : '&quot;')
    .replace(/'/g, go ? '&#39;' : '&#x27;');
}

/** A value we are not told about, inside a shape we recognise. */
export const shaped: fc.Arbitrary<Planted> = fc
  .tuple(fc.constantFrom(...SHAPES), token)
  .map(([[label, wrap], t]) => ({
    // A URL password with `@` is the whole `abcde@rest`.
    value: label === 'url-password-at' ? `${t.slice(0, 5)}@${t.slice(5)}` : t,
    printed: wrap(t),
    registered: false,
    label,
  }));

export const planted = fc.oneof(registered, shaped);

/** Output around the secret: any text, unicode and line breaks included. */
export const noise = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...'abcdefghij klmnop=:/.-_0123456789'.split('')) },
    { weight: 1, arbitrary: fc.constantFrom('\n', '\r\n', '\t', 'ü', '✓', '€', '😀', '"', "'") },
  ),
  maxLength: 300,
});

/** Strings whose presence anywhere is a leak. */
export function needles(p: Planted): string[] {
  const v = p.value;
  const out = new Set([
    v,
    encodeURIComponent(v),
    JSON.stringify(v).slice(1, -1),
    Buffer.from(v).toString('base64'),
  ]);
  if (/[\r\n]/.test(v)) for (const line of v.split(/\r?\n/)) if (line.trim()) out.add(line.trim());
  // A registered value is printed in one of its forms: that form must not be found either.
  if (p.registered) out.add(p.printed);
  return [...out].filter((n) => n !== '');
}

/**
 * The first needle found in `text`, if any. Our markers are taken out first
 * (a 1-character secret `E` is inside `[REDACTED:secret]`, and the marker's
 * `]` next to the text after it is not the secret either), and so is a marker
 * cut short at the end of an excerpt (`[REDACTED:se`).
 */
export function leak(text: string, p: Planted): string | undefined {
  const bare = text
    .replace(/\[REDACTED:[a-z0-9-]+\]/g, '\0')
    .replace(/\[(?:R(?:E(?:D(?:A(?:C(?:T(?:E(?:D(?::[a-z0-9-]*)?)?)?)?)?)?)?)?)?$/, '\0');
  return needles(p).find((n) => bare.includes(n));
}

/** Shapes sit at a word boundary, as they do in real output. */
export function place(before: string, p: Planted, after: string): string {
  return p.registered ? `${before}${p.printed}${after}` : `${before} ${p.printed}\n${after}`;
}

/** Cut points for splitting `length` units into chunks. */
export function cuts(length: number): fc.Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 0, max: Math.max(0, length) }), { maxLength: 12 })
    .map((xs) => [...new Set(xs)].sort((a, b) => a - b));
}

export function split<T extends { subarray?: unknown; slice(a: number, b?: number): T; length: number }>(
  whole: T,
  at: number[],
): T[] {
  const out: T[] = [];
  let from = 0;
  for (const c of at) {
    if (c <= from || c >= whole.length) continue;
    out.push(whole.slice(from, c));
    from = c;
  }
  out.push(whole.slice(from));
  return out;
}
