/**
 * Removing secrets from any text before it is printed, written or uploaded.
 *
 * Two kinds of hits: literal values we know (secret inputs and what is derived
 * from them, in the encodings they travel in), and shapes we recognise without
 * knowing the value (private keys, URL credentials, Authorization headers, JWTs
 * and the token formats of the providers we talk to). Every hit becomes
 * `[REDACTED:<kind>]`; counts per kind are kept, never the values.
 */

export interface TokenShape {
  kind: string;
  /** Must be global. Group 1, when present, is kept in front of the marker. */
  pattern: RegExp;
}

export const TOKEN_SHAPES: readonly TokenShape[] = [
  {
    kind: 'private-key',
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/g,
  },
  {
    kind: 'url-credentials',
    pattern: /(\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^\s:@/?#"'<>]+:[^\s@/?#"'<>]+(?=@)/g,
  },
  {
    kind: 'authorization',
    pattern:
      /(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:bearer|basic|token|flyv1|digest)?\s*)[^\s"'<>]+(?:[ ,][^\s"'<>,]*fm\d_[^\s"'<>]+)*/gi,
  },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  { kind: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})/g },
  { kind: 'aws-access-key', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g },
  { kind: 'slack-token', pattern: /\bxox[abposre]-[A-Za-z0-9-]{10,}/g },
  { kind: 'slack-webhook', pattern: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g },
  {
    kind: 'fly-token',
    pattern: /\b(?:FlyV1 )?f[mo]\d_[A-Za-z0-9+/=_-]{20,}(?:,f[mo]\d_[A-Za-z0-9+/=_-]{20,})*/g,
  },
  { kind: 'heroku-token', pattern: /\bHRKU-[A-Za-z0-9_-]{20,}/g },
  { kind: 'digitalocean-token', pattern: /\bdo[opr]_v1_[a-f0-9]{64}\b/g },
  { kind: 'cloudflare-token', pattern: /\bcf(?:k|ut|at)_[A-Za-z0-9_-]{30,}/g },
];

/** Escaped forms in which a secret value also travels: base64, URL and JSON encodings. */
export function encodedForms(value: string): string[] {
  const forms = new Set<string>([value]);
  forms.add(encodeURIComponent(value));
  forms.add(JSON.stringify(value).slice(1, -1));
  for (const b64 of base64Forms(value)) forms.add(b64);
  for (const line of value.split(/\r?\n/))
    if (line.trim().length >= MIN_SECRET_LENGTH) forms.add(line.trim());
  return [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

export const MIN_SECRET_LENGTH = 4;

/**
 * Base64 of a value depends on where it starts within the encoded stream, so we
 * take the stable middle of its encoding at each of the three byte alignments
 * (standard and URL-safe alphabets); those strings appear whenever the value does.
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
    if (offset === 0)
      forms.push(encoded, encoded.replace(/=+$/, ''), toBase64Url(encoded).replace(/=+$/, ''));
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

/**
 * Holds the known secrets and redacts text. Literal values are matched in one
 * pass by a single alternation (longest first, so an encoding that contains
 * another form wins), then each token shape is applied.
 */
export class Redactor {
  private readonly literals = new Map<string, string>();
  private readonly shapes: TokenShape[];
  private literalPattern: RegExp | undefined;
  readonly counts: RedactionCounts = {};

  constructor(shapes: readonly TokenShape[] = TOKEN_SHAPES) {
    this.shapes = [...shapes];
  }

  /** Adds a secret value (and its encodings) under a kind; returns the forms added. */
  addLiteral(value: string, kind = 'secret'): string[] {
    const added: string[] = [];
    for (const form of encodedForms(value)) {
      if (!this.literals.has(form)) {
        this.literals.set(form, kind);
        added.push(form);
      }
    }
    if (added.length > 0) this.literalPattern = undefined;
    return added;
  }

  addShape(shape: TokenShape): void {
    this.shapes.push(shape);
  }

  redact(text: string): string {
    if (text.length === 0) return text;
    let out = text;
    const literal = this.compiledLiterals();
    if (literal) {
      out = out.replace(literal, (match) => this.marker(this.literals.get(match) ?? 'secret'));
    }
    for (const { kind, pattern } of this.shapes) {
      pattern.lastIndex = 0;
      out = out.replace(pattern, (_match, keep: unknown) => {
        const prefix = typeof keep === 'string' ? keep : '';
        return prefix + this.marker(kind);
      });
    }
    return out;
  }

  private marker(kind: string): string {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    return `[REDACTED:${kind}]`;
  }

  private compiledLiterals(): RegExp | undefined {
    if (this.literals.size === 0) return undefined;
    if (!this.literalPattern) {
      const alternatives = [...this.literals.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.literalPattern = new RegExp(alternatives.join('|'), 'g');
    }
    return this.literalPattern;
  }
}
