import {
  encodedForms,
  escapeRegExp,
  type RedactionCounts,
  TOKEN_SHAPES,
  type TokenShape,
} from '../../src/core/redact.ts';

/**
 * The reference for the redaction property tests: the Redactor as it was
 * before each region ran only the shapes whose anchors occur in it. The same
 * regions (the lines around every literal occurrence and every hit of the
 * combined anchor regex, merged), and on each of them the full pipeline: every
 * anchored shape in order, then the literal alternation; shapes without an
 * anchor then run on all text. Literal occurrences are found by `indexOf`
 * instead of the gram index: the index reports the line of every occurrence of
 * a single-line form, which is what this finds.
 *
 * Not the whole-text pipeline: regions are whole lines (two for an
 * Authorization hit, BEGIN to END for a key block), so a match the whole text
 * would give across more lines is not made here either, as in the Redactor.
 */
export class ReferenceRedactor {
  private readonly literals = new Map<string, string>();
  private readonly shapes: TokenShape[];
  readonly counts: RedactionCounts = {};

  constructor(shapes: readonly TokenShape[] = TOKEN_SHAPES) {
    this.shapes = [...shapes];
  }

  addLiteral(value: string, kind = 'secret'): void {
    for (const form of encodedForms(value)) if (!this.literals.has(form)) this.literals.set(form, kind);
  }

  addShape(shape: TokenShape): void {
    this.shapes.push(shape);
  }

  redact(text: string): string {
    if (text.length === 0) return text;
    return this.redactPart(text, text.length, true).out;
  }

  redactPart(text: string, limit: number, final: boolean): { out: string; consumed: number } {
    let consumed = final ? text.length : limit;
    const kept: Region[] = [];
    for (const region of this.regions(text, limit)) {
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
      out += text.slice(at, region.start) + this.pipeline(text.slice(region.start, region.end));
      at = region.end;
    }
    out += text.slice(at, consumed);
    for (const shape of this.shapes) if (!shape.anchor) out = this.applyShape(out, shape);
    return { out, consumed };
  }

  private regions(text: string, limit: number): Region[] {
    const found: Region[] = [];
    for (const form of this.literals.keys()) {
      if (form.length >= 4 && !/[\r\n]/.test(form)) {
        for (let at = text.indexOf(form); at !== -1 && at < limit; at = text.indexOf(form, at + 1))
          found.push(lineAround(text, at, 1));
      } else {
        const lines = 1 + (form.match(/\n/g)?.length ?? 0);
        for (let at = text.indexOf(form); at !== -1 && at < limit; at = text.indexOf(form, at + form.length))
          found.push(lineAround(text, at, lines));
      }
    }
    const anchors = anchorPattern(this.shapes);
    if (anchors)
      for (let m = anchors.exec(text); m !== null && m.index < limit; m = anchors.exec(text)) {
        if (m[0].startsWith('-----')) found.push(keyBlockAround(text, m.index));
        else found.push(lineAround(text, m.index, m[0] === 'z' || m[0] === 'Z' ? 2 : 1));
      }
    found.sort((a, b) => a.start - b.start);
    const merged: Region[] = [];
    for (const region of found) {
      const last = merged.at(-1);
      if (last && region.start <= last.end) last.end = Math.max(last.end, region.end);
      else merged.push(region);
    }
    return merged;
  }

  private pipeline(text: string): string {
    let out = text;
    for (const shape of this.shapes) if (shape.anchor) out = this.applyShape(out, shape);
    if (this.literals.size === 0) return out;
    const forms = [...this.literals.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    const literal = new RegExp(['\\[REDACTED:[a-z0-9-]+\\]', ...forms].join('|'), 'g');
    return out.replace(literal, (match) =>
      /^\[REDACTED:[a-z0-9-]+\]$/.test(match) ? match : this.marker(this.literals.get(match) ?? 'secret'),
    );
  }

  private applyShape(text: string, { kind, pattern }: TokenShape): string {
    pattern.lastIndex = 0;
    return text.replace(pattern, (match: string, keep: unknown) =>
      match === '' ? match : (typeof keep === 'string' ? keep : '') + this.marker(kind),
    );
  }

  private marker(kind: string): string {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    return `[REDACTED:${kind}]`;
  }
}

interface Region {
  start: number;
  end: number;
}

/** The combined anchor regex: `_(?<=…)` and `=(?<=…)` anchors merged into one lookbehind each. */
function anchorPattern(shapes: readonly TokenShape[]): RegExp | undefined {
  const plain = new Set<string>();
  const behind = new Map<string, Set<string>>();
  for (const { anchor } of shapes) {
    if (!anchor) continue;
    const m = /^([_=])\(\?<=(.*)\)$/.exec(anchor);
    if (!m) plain.add(anchor);
    else behind.set(m[1]!, (behind.get(m[1]!) ?? new Set<string>()).add(m[2]!));
  }
  const parts = [...plain];
  for (const [c, set] of behind) parts.push(`${c}(?<=${[...set].join('|')})`);
  return parts.length === 0 ? undefined : new RegExp(parts.join('|'), 'g');
}

function lineAround(text: string, at: number, lines: number): Region {
  const start = text.lastIndexOf('\n', at - 1) + 1;
  let end = at;
  for (let i = 0; i < lines; i++) {
    const nl = text.indexOf('\n', end);
    if (nl === -1) return { start, end: Number.POSITIVE_INFINITY };
    end = nl + 1;
  }
  return { start, end };
}

function keyBlockAround(text: string, at: number): Region {
  const start = text.lastIndexOf('\n', at - 1) + 1;
  const endMarker = text.indexOf('-----END ', at);
  if (endMarker === -1) return { start, end: Number.POSITIVE_INFINITY };
  const nl = text.indexOf('\n', endMarker);
  return { start, end: nl === -1 ? Number.POSITIVE_INFINITY : nl + 1 };
}
