/**
 * Removing secrets from any text before it is printed, written or uploaded.
 *
 * Two kinds of hits: literal values we know (secret inputs and what is derived
 * from them, in the encodings they travel in), and shapes we recognise without
 * knowing the value (private keys, URL credentials, Authorization headers, JWTs
 * and the token formats of the providers we talk to). Every hit becomes
 * `[REDACTED:<kind>]`; counts per kind are kept, never the values.
 *
 * The result, text and counts, is that of the whole-text pipeline: every
 * anchored shape in order on the whole text (each on the text the ones before
 * left), then every literal form outside the markers, longest first, then the
 * shapes without an anchor (user patterns); `Redactor` only skips the lines
 * where that pipeline can change nothing, and `StreamRedactor` gives the same
 * for any cutting of the text into chunks. One difference by design: a shape
 * without an anchor sees a stream a run of complete lines at a time, so a user
 * pattern that crosses a line break finds no match across two chunks.
 */

export interface TokenShape {
  kind: string;
  /** Must be global. Group 1, when present, is kept in front of the marker. */
  pattern: RegExp;
  /**
   * Regex source that every match contains. Only the lines around an anchor
   * (see `Redactor`) go through the shapes, and of those only the shapes whose
   * anchor occurs there; a shape without an anchor runs on all text. An
   * anchor of the form `_(?<=...)` or `=(?<=...)` is merged with the others of
   * its character into one lookbehind there (see `anchorsOf`).
   */
  anchor?: string;
  /**
   * How many line breaks a match may cross past the line of its anchor (default
   * 0: the match lies on that line); its region is that many lines longer.
   * `Infinity`: any number. Such a match starts where its anchor does (a plain
   * anchor, not a `_(?<=...)` one), and its region runs from the anchor's line
   * to the end of the line where the shape's own pattern, run there on the
   * text as it came, ends (to the end of the text when it ends there, as an
   * open block does): for the private key, the first shape, that is the text
   * it sees. Lines are counted in the text as it came, so an anchor that only
   * a marker brings in must belong to a single-line shape.
   */
  lines?: number;
}

/** Spaces and tabs: whitespace that stays on its line. */
const SP = '[^\\S\\r\\n]';
/** One line break (LF, CRLF or CR) with the indentation around it. */
const BREAK = `${SP}*(?:\\r\\n?|\\n)${SP}*`;
const AUTH_SCHEME = '(?:bearer|basic|token|flyv1|digest)';

/**
 * What a value on the line after `authorization:` may not be: a mapping key
 * (`mode: Webhook` under a kubelet config's `authorization:`, `webhook:`),
 * which says the name was a YAML section, not a header; no token ends in `:`.
 */
const NOT_A_KEY = `(?![^\\s"'<>\\]:]*:(?:\\s|$))`;

/**
 * The part of an Authorization header kept in front of its marker. The value is
 * on the name's line or the next one, with the line break after the separator
 * (YAML `Authorization:` then an indented value), inside a `[` (indented JSON
 * of Go's http.Header: `"Authorization": [` then `"Bearer …"`) or after the
 * scheme (a folded YAML scalar); a blank line between is not a header value,
 * nor is a mapping key (`NOT_A_KEY`).
 */
const AUTH_PREFIX =
  `(?<![a-z0-9])(?:proxy-)?authorization["']?${SP}*[:=]` +
  `(?:(?:${BREAK}(?:\\[${SP}*)?|${SP}*\\[${BREAK})["']?(?:${AUTH_SCHEME}${SP}+)?${NOT_A_KEY}` +
  `|${SP}*(?:\\[${SP}*)?["']?(?:${AUTH_SCHEME}(?:${SP}+|${BREAK}))?)`;

export const TOKEN_SHAPES: readonly TokenShape[] = [
  {
    kind: 'private-key',
    // An unterminated block (output cut mid-key) is redacted to the end of the text.
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*$)/g,
    anchor: '-----BEGIN',
    lines: Number.POSITIVE_INFINITY,
  },
  {
    kind: 'url-credentials',
    // The password may itself hold `@` (`postgres://app:p@ss-word@db/app`): the userinfo ends at
    // the last `@` before the host, so the greedy class backs off to it.
    pattern: /(\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^\s:@/?#"'<>]+:(?!\[REDACTED:)[^\s/?#"'<>]+(?=@)/g,
    anchor: ':\\/\\/',
  },
  {
    // The same in JSON that escapes `/` (PHP's json_encode, Java's org.json): `https:\/\/user:pass@…`.
    kind: 'url-credentials',
    pattern: /(\b[a-zA-Z][a-zA-Z0-9+.-]*:\\\/\\\/)[^\s:@/?#"'<>]+:(?!\[REDACTED:)[^\s/?#"'<>]+(?=@)/g,
    anchor: ':\\\\\\/\\\\\\/',
  },
  {
    // The same inside a percent-encoded URL that is itself a parameter value (`?src=https%3A%2F%2F
    // user%3Apass%40host`): `://` is `%3A%2F%2F`, `:` `%3A` and `@` `%40`; an `@` in the password
    // was `%40` in the URL and is `%2540` once that is encoded, so the first `%40` ends it.
    kind: 'url-credentials',
    pattern:
      /(\b[a-zA-Z][a-zA-Z0-9+.-]*%3A%2F%2F)(?:(?!%3A|%40|%2F)[^\s:@/?#&"'<>])+%3A(?!\[REDACTED:)(?:(?!%40|%2F|%3F|%23|%26)[^\s/?#&"'<>])+(?=%40)/gi,
    anchor: '%3[aA]%2[fF]%2[fF]',
  },
  {
    kind: 'authorization',
    // Also Go's `map[Authorization:[Bearer …]]`, JSON `"authorization":["Bearer …"]` and CGI's
    // `HTTP_AUTHORIZATION`. Text is redacted again at each output, so a value already redacted is
    // left as it is, also where the prefix could stop short of it: the value never starts with
    // `[` (Go's, kept in the prefix) and is not a scheme in front of a marker (ours, or the bare
    // `[REDACTED]` config-update's plan writes for a header value it hides), or
    // `Authorization: Bearer [REDACTED:…]` would lose its scheme and `[REDACTED:…]` gain brackets.
    pattern: new RegExp(
      `(${AUTH_PREFIX})(?!\\[|(?<=\\[)REDACTED[:\\]]|${AUTH_SCHEME}(?:${SP}+|${BREAK})\\[+REDACTED[:\\]])[^\\s"'<>\\]]+(?:[ ,][^\\s"'<>,\\]]*fm\\d_[^\\s"'<>\\]]+)*`,
      'gi',
    ),
    // Anchored on its rare last letter: a scan that stops at every `t` costs a third of the redaction.
    anchor: '[zZ](?<=[tT][hH][oO][rR][iI][zZ])',
    lines: 1,
  },
  {
    kind: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    anchor: 'J(?<=eyJ)',
  },
  {
    kind: 'github-token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})/g,
    anchor: '_(?<=gh[pousr]_|github_pat_)',
  },
  {
    kind: 'aws-access-key',
    pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
    anchor: 'A[KSBC][IC]A',
  },
  {
    // The secret half has no prefix of its own; it is recognised by the name it travels under.
    kind: 'aws-secret-key',
    // Its value on the name's line or, after the separator, on the next one (YAML, `=` then a wrap,
    // a shell line continued with `\`).
    pattern: new RegExp(
      `(\\baws_secret_access_key["']?${SP}*[:=](?:${SP}*\\\\?${BREAK}|${SP}*)["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])`,
      'gi',
    ),
    anchor: '_(?<=[sS][eE][cC][rR][eE][tT]_[aA][cC][cC][eE][sS][sS]_)',
    lines: 1,
  },
  {
    kind: 'slack-token',
    pattern: /\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})/g,
    anchor: 'xox[abposre]-|xapp-',
  },
  {
    kind: 'slack-webhook',
    pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g,
    anchor: ':\\/\\/',
  },
  {
    kind: 'fly-token',
    pattern: /\b(?:FlyV1 )?f[mo]\d_[A-Za-z0-9+/=_-]{20,}(?:,f[mo]\d_[A-Za-z0-9+/=_-]{20,})*/g,
    anchor: '_(?<=f[mo]\\d_)',
  },
  { kind: 'heroku-token', pattern: /\bHRKU-[A-Za-z0-9_-]{20,}/g, anchor: 'HRKU-' },
  {
    kind: 'digitalocean-token',
    pattern: /\bdo[opr]_v1_[a-f0-9]{64}\b/g,
    anchor: '_(?<=do[opr]_v1_)',
  },
  {
    kind: 'cloudflare-token',
    pattern: /\bcf(?:k|ut|at)_[A-Za-z0-9_-]{30,}/g,
    anchor: '_(?<=cf(?:k|ut|at)_)',
  },
  {
    // Presigned-URL signatures (S3 `X-Amz-Signature`, CloudFront and GCS `Signature`, Azure SAS
    // `sig`) and credentials passed as query or form parameters (`token`, `access_token`,
    // `api_key`, `client_secret`, `password`): the value up to the next `&`, `#` or space.
    kind: 'url-secret',
    pattern:
      /((?<![a-z0-9])(?:sig|signature|token|api[_-]?key|apikey|secret|password|passwd)=)(?!\[REDACTED:)[^\s&#"'<>]+/gi,
    anchor:
      '=(?<=(?:[sS][iI][gG]|[tT][uU][rR][eE]|[tT][oO][kK][eE][nN]|[kK][eE][yY]|[sS][eE][cC][rR][eE][tT]|[pP][aA][sS][sS][wW](?:[oO][rR])?[dD])=)',
  },
  {
    // The same parameters inside a percent-encoded URL that is itself a parameter value (a
    // presigned config URL passed to an update endpoint: `?src=https%3A%2F%2Fb.s3…%3FX-Amz-Signature%3D…`):
    // `=` is `%3D`, the name follows `%3F` or `%26`, and the value ends at `%26` (`&`) or `%23` (`#`).
    kind: 'url-secret',
    pattern:
      /((?:(?<![a-z0-9])|(?<=%[0-9a-f]{2}))(?:sig|signature|token|api[_-]?key|apikey|secret|password|passwd)%3D)(?!\[REDACTED:)(?:(?!%2[36])[^\s&#"'<>])+/gi,
    anchor: '%3[dD]',
  },
];

/**
 * The forms in which a secret value travels: itself, its URL encodings (see
 * `urlForms`), its JSON encoding (also with non-ASCII or `<>&` written as
 * `\uXXXX`), its base64 (see `base64Forms`), its HTML-escaped spellings (see
 * `htmlForms`) and, for a multi-line value, each of its lines of at least
 * `MIN_LINE_FORM` characters. A shorter line (`}` of a JSON value, `a` of a
 * list) is no secret on its own: kept as a form it would rewrite ordinary text,
 * so it is redacted only inside the whole value. Every other form is kept
 * whatever its length: a value reaches here only when the user named it a
 * secret or it passed the trivial-value filter (`isTrivialValue` in secrets.ts).
 * These forms are for our own redactor only; the runner is sent the value
 * alone and derives its own (see secrets.ts).
 */
export function encodedForms(value: string): string[] {
  const forms = new Set<string>([value]);
  for (const url of urlForms(value)) forms.add(url);
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  // Python's json.dumps (ensure_ascii, its default) writes each non-ASCII UTF-16 unit as \u00e4
  // (Jackson and .NET as \u00E4); Go's encoding/json writes <, > and & as \u003c, \u003e, \u0026.
  const unicodeEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  const ascii = json.replace(/[\u0080-\uffff]/g, unicodeEscape);
  forms.add(ascii);
  forms.add(ascii.replace(/\\u[0-9a-f]{4}/g, (lower) => `\\u${lower.slice(2).toUpperCase()}`));
  forms.add(json.replace(/[<>&]/g, unicodeEscape));
  for (const b64 of base64Forms(value)) forms.add(b64);
  for (const html of htmlForms(value)) forms.add(html);
  if (/[\r\n]/.test(value))
    for (const line of value.split(/\r?\n|\r/))
      if (line.trim().length >= MIN_LINE_FORM) forms.add(line.trim());
  forms.delete('');
  return [...forms];
}

/**
 * A value as URL encoders write it: `encodeURIComponent` (a query value),
 * `encodeURI` (a whole URL: `/ ? & = + @ :` kept), and the form encoding of
 * HTML forms and `URLSearchParams` (WHATWG URL, application/x-www-form-urlencoded:
 * space as `+`, `!'()~` escaped too), which Go's `url.QueryEscape` and Python's
 * `urlencode` also write (space as `+`). Each also with lower-case hex digits
 * (`%2f`): the same octet (RFC 3986 §2.1), as .NET's `HttpUtility.UrlEncode` and
 * hand-written URLs spell it, and a URL is sent and shown as the user wrote it.
 */
function urlForms(value: string): string[] {
  const component = encodeURIComponent(value);
  const forms = [
    component,
    component.replace(/%20/g, '+'),
    encodeURI(value),
    new URLSearchParams([['', value]]).toString().slice(1),
  ];
  return [...forms, ...forms.map((form) => form.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()))];
}

/** The shortest line of a multi-line secret that is redacted on its own. */
export const MIN_LINE_FORM = 4;

/**
 * A value as HTML escapers write it: `&` and `<` always (our summary tables,
 * `escapeHtml`), `>` or not, `"` raw, `&quot;` or `&#34;`, `'` raw, `&#39;`,
 * `&#x27;` or `&#039;` (Go's html.EscapeString, Python's html.escape, PHP's
 * htmlspecialchars, lodash's escape) — an HTML error page or a rendered body
 * that echoes the secret. Empty for a value without any of those characters.
 */
function htmlForms(value: string): string[] {
  if (!/[&<>"']/.test(value)) return [];
  const base = value.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const forms = new Set<string>();
  for (const gt of ['>', '&gt;'])
    for (const quot of ['"', '&quot;', '&#34;'])
      for (const apos of ["'", '&#39;', '&#x27;', '&#039;'])
        forms.add(base.replace(/>/g, gt).replace(/"/g, quot).replace(/'/g, apos));
  forms.delete(value);
  return [...forms];
}

/**
 * Base64 of a value depends on where it starts within the encoded stream, so we
 * take the stable middle of its encoding at each of the three byte alignments
 * (standard and URL-safe alphabets); those strings appear whenever the value does.
 * A value shorter than six bytes has no stable middle worth matching: only its
 * own encoding is kept.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const fullGroups = Math.floor(padded.length / 3);
    const encoded = padded.toString('base64');
    const start = offset === 0 ? 0 : 4;
    const stable = encoded.slice(start, fullGroups * 4);
    if (stable.length >= 8) forms.push(stable, toBase64Url(stable));
    if (offset === 0) {
      forms.push(encoded);
      const bare = encoded.replace(/=+$/, '');
      if (bare.length >= 4) forms.push(bare, toBase64Url(bare));
    }
  }
  return forms;
}

function toBase64Url(s: string): string {
  return s.replace(/\+/g, '-').replace(/\//g, '_');
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export type RedactionCounts = Record<string, number>;

const MARKER_START = '[REDACTED:';
/** What a hit becomes; literals are never looked for inside one. */
const MARKER = /^\[REDACTED:[a-z0-9-]+\]$/;

/** What the scan learned about one stretch of text: where the redaction work lies. */
interface Region {
  start: number;
  /** Exclusive; `Infinity` when the region needs text that has not arrived yet. */
  end: number;
  /** Whether a literal form occurs in it (the literal pass has something to find). */
  literal: boolean;
}

const GRAM = 4;
/** Longer minimum lengths only widen the stride; past this the gain is small and the table grows. */
const MAX_WINDOW = 32;
const BITS = 24;

/**
 * Literal values found fast: every form of length >= m has one of its first
 * m-3 four-character grams at a text position that is a multiple of m-3, so
 * probing only those positions (a bitset, then an exact map) finds every
 * occurrence without running the regex over text that holds none.
 */
class LiteralIndex {
  readonly stride: number;
  private readonly bits = new Uint32Array(1 << (BITS - 5));
  private readonly grams = new Map<number, { form: string; offset: number }[]>();

  /** `forms`: single-line forms of at least `GRAM` characters (see `isIndexable`). */
  constructor(forms: readonly string[]) {
    const single = forms;
    const m = Math.min(MAX_WINDOW, ...single.map((f) => f.length));
    this.stride = Math.max(1, m - GRAM + 1);
    for (const form of single) {
      for (let offset = 0; offset < this.stride; offset++) {
        const key = gramKey(form, offset);
        const h = hashGram(key);
        this.bits[h >>> 5]! |= 1 << (h & 31);
        const list = this.grams.get(key);
        if (list) list.push({ form, offset });
        else this.grams.set(key, [{ form, offset }]);
      }
    }
  }

  /** Positions of certain literal hits in text[0, limit). */
  find(text: string, limit: number, hit: (at: number) => void): void {
    const last = Math.min(limit, text.length) - GRAM;
    const bits = this.bits;
    for (let p = 0; p <= last; p += this.stride) {
      const key = gramKey(text, p);
      const h = hashGram(key);
      if ((bits[h >>> 5]! & (1 << (h & 31))) === 0) continue;
      for (const { form, offset } of this.grams.get(key) ?? []) {
        const at = p - offset;
        if (at >= 0 && text.startsWith(form, at)) {
          hit(at);
          break;
        }
      }
    }
  }
}

/** Forms the gram index can find; the others (short or multi-line) are found by `indexOf`. */
function isIndexable(form: string): boolean {
  return form.length >= GRAM && !/[\r\n]/.test(form);
}

function gramKey(s: string, i: number): number {
  // Characters past Latin-1 are folded: a collision only costs an exact comparison.
  const fold = (c: number) => (c & 0xff) ^ (c >>> 8);
  return (
    (fold(s.charCodeAt(i)) |
      (fold(s.charCodeAt(i + 1)) << 8) |
      (fold(s.charCodeAt(i + 2)) << 16) |
      (fold(s.charCodeAt(i + 3)) << 24)) >>>
    0
  );
}

function hashGram(key: number): number {
  return Math.imul(key, 0x9e3779b1) >>> (32 - BITS);
}

/** The anchors of the anchored shapes, as the scan and `redactAll` use them. */
interface Anchors {
  /**
   * One scan for every anchor, undefined without anchored shapes: the
   * alternatives grouped by how many lines their shapes reach (see `Reach`),
   * farthest first, each group followed by an empty capture group that tells
   * which group a hit belongs to.
   */
  scan: RegExp | undefined;
  reaches: Reach[];
  /** Regexes to test a region with: each alternative of the scan, and each merged anchor alone. */
  tests: RegExp[];
  /**
   * Per shape (same index), the tests its anchor must pass to occur: its
   * alternative of the scan, then, for a merged anchor, the anchor alone. Where
   * a merged lookbehind fails none of the anchors merged in it occurs, so one
   * test rules them all out.
   */
  testsOf: (number[] | undefined)[];
}

/** The anchors of the scan whose shapes reach the same number of lines past the anchor's line. */
interface Reach {
  lines: number;
  /** The scan's capture group that is set when the hit is one of these anchors. */
  group: number;
  /** These anchors alone, sticky: whether one of them occurs at a position. */
  at: RegExp;
  /** For `Infinity`: the patterns of those shapes, sticky, to run at the anchor. */
  patterns: RegExp[];
}

/**
 * Anchors of the form `c(?<=...)` that start with the same character share one
 * lookbehind at it: the scan stops only at that character, which keeps it fast
 * on logs full of `snake_case` and `key=value`; the shared lookbehind reaches
 * as far as the farthest of its shapes. Every other anchor is its own
 * alternative, before the merged ones and in the order of the shapes.
 */
function anchorsOf(shapes: readonly TokenShape[]): Anchors {
  const plain = new Map<string, number>();
  const behind = new Map<string, { inner: Set<string>; lines: number }>();
  for (const { anchor, lines = 0 } of shapes) {
    if (!anchor) continue;
    const m = /^([_=])\(\?<=(.*)\)$/.exec(anchor);
    if (!m) {
      plain.set(anchor, Math.max(lines, plain.get(anchor) ?? 0));
      continue;
    }
    const merged = behind.get(m[1]!) ?? { inner: new Set<string>(), lines: 0 };
    merged.inner.add(m[2]!);
    merged.lines = Math.max(merged.lines, lines);
    behind.set(m[1]!, merged);
  }
  const alternativeOf = new Map([...plain.keys()].map((a) => [a, a]));
  const linesOf = new Map(plain);
  for (const [c, { inner, lines }] of behind) {
    const merged = `${c}(?<=${[...inner].join('|')})`;
    for (const one of inner) alternativeOf.set(`${c}(?<=${one})`, merged);
    linesOf.set(merged, lines);
  }
  const alternatives = [...new Set(alternativeOf.values())];
  const sources = [...new Set([...alternatives, ...alternativeOf.keys()])];
  const byLines = [...new Set(alternatives.map((a) => linesOf.get(a)!))].sort((a, b) => b - a);
  const reaches: Reach[] = [];
  let groups = 0;
  const parts = byLines.map((lines) => {
    const source = alternatives.filter((a) => linesOf.get(a) === lines).join('|');
    groups += groupCount(source) + 1;
    reaches.push({
      lines,
      group: groups,
      at: new RegExp(source, 'y'),
      patterns:
        lines === Number.POSITIVE_INFINITY
          ? shapes
              .filter((s) => s.anchor && s.lines === lines)
              .map((s) => new RegExp(s.pattern.source, s.pattern.flags.replace('g', 'y')))
          : [],
    });
    return `(?:${source})()`;
  });
  return {
    scan: parts.length === 0 ? undefined : new RegExp(parts.join('|'), 'g'),
    reaches,
    tests: sources.map((source) => new RegExp(source)),
    testsOf: shapes.map(({ anchor }) =>
      anchor ? [...new Set([alternativeOf.get(anchor)!, anchor])].map((a) => sources.indexOf(a)) : undefined,
    ),
  };
}

function groupCount(source: string): number {
  return new RegExp(`(?:${source})|`).exec('')!.length - 1;
}

/**
 * Holds the known secrets and redacts text. A scan first finds where work lies
 * (literal hits through `LiteralIndex`, shape anchors through one combined
 * regex that reports every position where an anchor starts, also inside the
 * hit of another); only the lines around those positions (regions) are
 * redacted: the lines of each literal occurrence, and for an anchor the lines
 * its shapes reach (`TokenShape.lines`: an Authorization header or AWS secret
 * key with its value on the next line, a private key block to its END line).
 * On each region run the anchored shapes whose anchor occurs in it, then the
 * literal alternation (longest first, so an encoding that contains another
 * form wins) where a literal was found or a shape changed the text. Every
 * match of the whole-text pipeline lies inside one region and starts from a
 * line start there, so the regions give what it gives. Shapes without an
 * anchor (user patterns) run on all text. Lines without any candidate cost one
 * probe per stride and one regex scan; a line holding a URL runs the two
 * shapes anchored on `://`, not all of them.
 */
export class Redactor {
  private readonly literals = new Map<string, string>();
  private readonly shapes: TokenShape[];
  private literalPattern: RegExp | undefined;
  /** Built on first use after a change: `null` when no form is indexable. */
  private index: LiteralIndex | null | undefined;
  private unindexed: string[] = [];
  /**
   * Lines a literal match may reach past the lines of a marker a shape made:
   * as many as the multi-line forms that may overlap one span, those holding
   * `[` (`a\n[RED`: a form ends where a marker starts) and those starting like
   * the end of a marker (`ACTED:jwt]\nb`: after a form that broke it). 0 for
   * every realistic secret, a PEM key included.
   */
  private markerReach = 0;
  /** Each start of a multi-line form up to one of its line breaks (not the last character). */
  private openings: string[] = [];
  private anchors: Anchors | undefined;
  readonly counts: RedactionCounts = {};

  constructor(shapes: readonly TokenShape[] = TOKEN_SHAPES) {
    this.shapes = [...shapes];
  }

  /**
   * Adds a secret value and its encodings (`encodedForms`) under a kind, and
   * `spellings`: other texts that carry the same secret and are taken as they
   * are (a URL password as typed, percent-encoded; `user:password` in base64).
   * Returns the forms added.
   */
  addLiteral(value: string, kind = 'secret', spellings: readonly string[] = []): string[] {
    const added: string[] = [];
    for (const form of [...encodedForms(value), ...spellings]) {
      if (form === '') continue;
      if (!this.literals.has(form)) {
        this.literals.set(form, kind);
        added.push(form);
      }
    }
    if (added.length > 0) {
      this.literalPattern = undefined;
      this.index = undefined;
    }
    return added;
  }

  addShape(shape: TokenShape): void {
    this.shapes.push(shape);
    this.anchors = undefined;
  }

  /** Total hits so far, all kinds. */
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  redact(text: string): string {
    if (text.length === 0) return text;
    return this.redactPart(text, text.length, true).out;
  }

  /**
   * Where `redact` could replace text: `[start, end)` of every shape match (past
   * the part a shape keeps) and every literal form outside a marker, found on
   * `text` as it is and not counted. It may name more than `redact` replaces
   * (a literal inside a shape's match), never less: for checking short composed
   * text (core/message.ts), not for scanning logs.
   */
  hits(text: string): [number, number][] {
    const found: [number, number][] = [];
    for (const { pattern } of this.shapes) {
      pattern.lastIndex = 0;
      for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
        if (m[0] === '') {
          pattern.lastIndex++;
          continue;
        }
        const kept = typeof m[1] === 'string' ? m[1].length : 0;
        found.push([m.index + kept, m.index + m[0].length]);
      }
    }
    const literal = this.compiledLiterals();
    if (literal) {
      literal.lastIndex = 0;
      for (let m = literal.exec(text); m !== null; m = literal.exec(text))
        if (!(m[0].startsWith(MARKER_START) && MARKER.test(m[0])))
          found.push([m.index, m.index + m[0].length]);
    }
    return found;
  }

  /**
   * Redacts the whole lines of `text` before `limit`, or less when a match may
   * continue past it (an open private key block, an Authorization header whose
   * value is on the next line, a multi-line secret whose first lines end it).
   * Returns the redacted text and how much of the input it covers; the caller
   * keeps the rest for the next call.
   */
  redactPart(text: string, limit: number, final: boolean): { out: string; consumed: number } {
    if (!final) limit = this.heldBack(text, limit);
    const regions = this.scan(text, limit);
    let consumed = final ? text.length : limit;
    const kept: Region[] = [];
    for (const region of regions) {
      if (region.start >= consumed) break;
      if (region.end > consumed) {
        if (!final) {
          consumed = region.start;
          break;
        }
        region.end = text.length;
      }
      kept.push(region);
    }
    let out = '';
    let at = 0;
    for (const region of kept) {
      out +=
        text.slice(at, region.start) + this.redactAll(text.slice(region.start, region.end), region.literal);
      at = region.end;
    }
    out += text.slice(at, consumed);
    for (const shape of this.shapes) if (!shape.anchor) out = this.applyShape(out, shape);
    return { out, consumed };
  }

  /**
   * Where a stream stops before the line on which a multi-line literal form
   * starts whose first lines end `text[0, limit)`: the rest may come in the
   * next chunk, and the whole form is one hit (its lines alone would be
   * several, and its short lines none). With a `markerReach`, that many lines
   * more wait too: a marker in the next chunk may complete a form there.
   */
  private heldBack(text: string, limit: number): number {
    this.literalIndex();
    let cut = limit;
    for (const opening of this.openings)
      if (opening.length <= limit && text.startsWith(opening, limit - opening.length))
        cut = Math.min(cut, lineStart(text, limit - opening.length));
    for (let i = 0; i < this.markerReach && cut > 0; i++) cut = lineStart(text, cut - 1);
    return cut;
  }

  /**
   * Merged line ranges that need the regexes, in order, each marked when a
   * literal form occurs in it. Which shapes a region needs is left to
   * `redactAll`, which tests their anchors on the region's text as it stands.
   */
  private scan(text: string, limit: number): Region[] {
    const found: Region[] = [];
    const lines = new Lines(text);
    const index = this.literalIndex();
    if (index) index.find(text, limit, (at) => found.push(lines.around(at, 1, true)));
    for (const form of this.unindexed) {
      const count = 1 + countNewlines(form);
      // A multi-line form's occurrences may overlap and reach different lines.
      const step = count > 1 ? 1 : form.length;
      for (let at = text.indexOf(form); at !== -1 && at < limit; at = text.indexOf(form, at + step))
        found.push(lines.around(at, count, true));
    }
    const { scan: anchors, reaches } = this.shapeAnchors();
    if (anchors) {
      const taken = reaches.map((reach) => reach.patterns.map(() => 0));
      anchors.lastIndex = 0;
      for (let m = anchors.exec(text); m !== null && m.index < limit; m = anchors.exec(text)) {
        // Overlapping: an anchor may start inside the hit of another (`HRKU-----BEGIN`).
        anchors.lastIndex = m.index + 1;
        let reach = 0;
        while (m[reaches[reach]!.group] === undefined) reach++;
        const region = regionAt(lines, m.index, reaches, reach, taken);
        if (region) found.push(this.markerReach === 0 ? region : widen(lines, region, this.markerReach));
      }
    }
    if (found.length === 0) return found;
    found.sort((a, b) => a.start - b.start);
    const merged: Region[] = [found[0]!];
    for (const region of found.slice(1)) {
      const last = merged.at(-1)!;
      if (region.start <= last.end) {
        last.end = Math.max(last.end, region.end);
        last.literal ||= region.literal;
      } else merged.push(region);
    }
    return merged;
  }

  /**
   * The pipeline on one region: each anchored shape in order, then literals
   * outside the markers the shapes left (a short literal `t` replaced first
   * would break the shape around it, `token=…`). A shape runs only when its
   * anchor occurs in the region as the shapes before it left it: every match
   * contains the anchor, so where it does not occur the shape cannot match.
   * Each anchor test (see `Anchors`) runs once, and again only after a shape
   * changed the text. `literal`: whether the scan found a literal form in it.
   */
  private redactAll(text: string, literal: boolean): string {
    const { tests, testsOf } = this.shapeAnchors();
    // Per test: 0 not run yet, 1 passed, 2 failed.
    const known = new Uint8Array(tests.length);
    let out = text;
    for (let i = 0; i < this.shapes.length; i++) {
      const need = testsOf[i];
      if (!need) continue;
      let occurs = true;
      for (const t of need) {
        if (known[t] === 0) known[t] = tests[t]!.test(out) ? 1 : 2;
        if (known[t] === 2) {
          occurs = false;
          break;
        }
      }
      if (!occurs) continue;
      const before = out;
      out = this.applyShape(out, this.shapes[i]!);
      // A marker may hold the anchor of a shape after this one.
      if (out !== before) known.fill(0);
    }
    // The scan finds every literal form of the text as it was; only a shape's replacement can
    // bring in another (a form holding part of a marker), so unchanged text without one is done.
    if (literal || out !== text) out = this.replaceLiterals(out);
    return out;
  }

  private replaceLiterals(text: string): string {
    const literal = this.compiledLiterals();
    if (!literal) return text;
    literal.lastIndex = 0;
    return text.replace(literal, (match) =>
      match.startsWith(MARKER_START) && MARKER.test(match)
        ? match
        : this.marker(this.literals.get(match) ?? 'secret'),
    );
  }

  private applyShape(text: string, { kind, pattern }: TokenShape): string {
    pattern.lastIndex = 0;
    return text.replace(pattern, (match: string, keep: unknown) => {
      if (match === '') return match;
      const prefix = typeof keep === 'string' ? keep : '';
      return prefix + this.marker(kind);
    });
  }

  private marker(kind: string): string {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    return `[REDACTED:${kind}]`;
  }

  private literalIndex(): LiteralIndex | undefined {
    if (this.index === undefined) {
      const forms = [...this.literals.keys()];
      const indexable = forms.filter(isIndexable);
      this.unindexed = forms.filter((f) => !isIndexable(f));
      this.markerReach = Math.max(
        0,
        ...forms.filter((f) => /\[|^[A-Z]*:?[a-z0-9-]*\]/.test(f)).map(countNewlines),
      );
      this.openings = this.unindexed.flatMap((form) =>
        [...form.matchAll(/\n(?!$)/g)].map((m) => form.slice(0, m.index + 1)),
      );
      this.index = indexable.length === 0 ? null : new LiteralIndex(indexable);
    }
    return this.index ?? undefined;
  }

  private shapeAnchors(): Anchors {
    this.anchors ??= anchorsOf(this.shapes);
    return this.anchors;
  }

  private compiledLiterals(): RegExp | undefined {
    if (this.literals.size === 0) return undefined;
    if (!this.literalPattern) {
      const alternatives = [...this.literals.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
      // A marker is matched first and kept whole, so no literal is found inside one.
      this.literalPattern = new RegExp([MARKER.source.slice(1, -1), ...alternatives].join('|'), 'g');
    }
    return this.literalPattern;
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function lineStart(text: string, at: number): number {
  return at === 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
}

/**
 * The lines of one text, for the scan: the last few lines it asked about are
 * remembered, so a line holding many hits (a 10 MB line full of `://`) is
 * searched for its ends once, not once per hit, which would be quadratic.
 */
class Lines {
  /** `[start, newline]` of recent lines; `newline` is `text.length` on the last line. */
  private readonly recent: [number, number][] = [];

  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** The line holding `at`: its start, and its end past the newline (`Infinity` on the last line). */
  of(at: number): { start: number; end: number } {
    for (const [start, newline] of this.recent)
      if (at >= start && at <= newline) return this.bounds(start, newline);
    const start = lineStart(this.text, at);
    const nl = this.text.indexOf('\n', at);
    const newline = nl === -1 ? this.text.length : nl;
    this.recent.unshift([start, newline]);
    if (this.recent.length > 3) this.recent.pop();
    return this.bounds(start, newline);
  }

  /** The line holding `at`, and `lines - 1` lines after it; the end is past the newline. */
  around(at: number, lines: number, literal: boolean): Region {
    const { start } = this.of(at);
    let end = at;
    for (let i = 0; i < lines; i++) {
      end = this.of(end).end;
      if (end === Number.POSITIVE_INFINITY) break;
    }
    return { start, end, literal };
  }

  private bounds(start: number, newline: number): { start: number; end: number } {
    return { start, end: newline === this.text.length ? Number.POSITIVE_INFINITY : newline + 1 };
  }
}

/** `region` and `lines` lines before and after it. */
function widen(lines: Lines, region: Region, count: number): Region {
  let start = region.start;
  for (let i = 0; i < count && start > 0; i++) start = lines.of(start - 1).start;
  const end =
    region.end === Number.POSITIVE_INFINITY ? region.end : lines.around(region.end, count, false).end;
  return { start, end, literal: region.literal };
}

/**
 * The region of an anchor hit at `at`: the lines its shapes reach, the first
 * of `reaches` from `first` on whose anchors occur there and, for `Infinity`,
 * whose shapes match there (see `TokenShape.lines`). Undefined when none does.
 * `taken[r][p]`: where the last match of pattern `p` of reach `r` found by
 * this scan ends; an anchor before that lies inside it, as the shape's global
 * regex would have consumed it, so the pattern is not run there again (a line
 * of `-----BEGIN RSA PRIVATE KEY-----` repeated would run it to the END once
 * per hit: quadratic).
 */
function regionAt(
  lines: Lines,
  at: number,
  reaches: readonly Reach[],
  first: number,
  taken: number[][],
): Region | undefined {
  const text = lines.text;
  for (let r = first; r < reaches.length; r++) {
    const reach = reaches[r]!;
    if (r !== first) {
      reach.at.lastIndex = at;
      if (!reach.at.test(text)) continue;
    }
    if (reach.lines !== Number.POSITIVE_INFINITY) return lines.around(at, 1 + reach.lines, false);
    let end = -1;
    reach.patterns.forEach((pattern, p) => {
      if (at < taken[r]![p]!) return;
      pattern.lastIndex = at;
      const m = pattern.exec(text);
      if (m === null || m[0] === '') return;
      taken[r]![p] = at + m[0].length;
      end = Math.max(end, at + m[0].length);
    });
    if (end === -1) continue;
    return {
      start: lines.of(at).start,
      end: end === text.length ? Number.POSITIVE_INFINITY : lines.of(end - 1).end,
      literal: false,
    };
  }
  return undefined;
}

/**
 * Redaction of a stream of chunks: whole lines are redacted as they complete,
 * and whatever a match might still extend into (a partial line, an open key
 * block, a header whose value is on the next line) waits for the next chunk,
 * so a secret split across chunks is never missed.
 *
 * Byte chunks are the fast path: the pending bytes and the new chunk are
 * joined as bytes and decoded once, so the regexes and the literal probe see
 * a flat string (a concatenated string is several times slower to scan in V8,
 * and so are the external strings Node makes for chunks of 1 MB and more).
 * `\n` never occurs inside a multi-byte UTF-8 sequence, so cutting bytes at
 * newlines never splits a character.
 */
export class StreamRedactor {
  private readonly redactor: Redactor;
  private carry = '';
  /** Byte chunks not redacted yet, joined only when they are. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /**
   * How long the carried text must grow before it is tried again after the
   * redactor held part of it back (an open private key block: the rest of
   * the output may be its body): twice what was held, so a block that never
   * ends costs a linear number of scans of it, not one per chunk.
   */
  private retryAt = 0;

  constructor(redactor: Redactor) {
    this.redactor = redactor;
  }

  push(chunk: string | Uint8Array): string {
    if (typeof chunk !== 'string') return this.pushBytes(chunk);
    const text = this.carry + chunk;
    if (!chunk.includes('\n') || text.length < this.retryAt) {
      this.carry = text;
      return '';
    }
    const limit = text.lastIndexOf('\n') + 1;
    const { out, consumed } = this.redactor.redactPart(text, limit, false);
    this.carry = text.slice(consumed);
    this.retryAt = consumed < limit ? 2 * this.carry.length : 0;
    return out;
  }

  private pushBytes(chunk: Uint8Array): string {
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pendingLength += view.length;
    if (view.indexOf(10) === -1 || this.pendingLength < this.retryAt) {
      // Kept past this call: a copy, in case the caller reuses its buffer.
      this.pending.push(Buffer.from(view));
      return '';
    }
    this.pending.push(view);
    const bytes = this.pending.length === 1 ? view : Buffer.concat(this.pending, this.pendingLength);
    const cut = bytes.lastIndexOf(10) + 1;
    const text = bytes.toString('utf8', 0, cut);
    const { out, consumed } = this.redactor.redactPart(text, text.length, false);
    const rest = bytes.subarray(cut);
    const carry =
      consumed === text.length
        ? Buffer.from(rest)
        : Buffer.concat([Buffer.from(text.slice(consumed), 'utf8'), rest]);
    this.pending = carry.length === 0 ? [] : [carry];
    this.pendingLength = carry.length;
    this.retryAt = consumed < text.length ? 2 * carry.length : 0;
    return out;
  }

  end(): string {
    const bytes =
      this.pending.length === 0 ? '' : Buffer.concat(this.pending, this.pendingLength).toString('utf8');
    const text = this.carry + bytes;
    this.carry = '';
    this.pending = [];
    this.pendingLength = 0;
    this.retryAt = 0;
    return text === '' ? '' : this.redactor.redact(text);
  }
}
