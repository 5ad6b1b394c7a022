import {
  encodedForms,
  escapeRegExp,
  type RedactionCounts,
  TOKEN_SHAPES,
  type TokenShape,
} from '../../src/core/redact.ts';

/**
 * The reference for the redaction property tests: the whole-text pipeline, as
 * the public rules of src/core/redact.ts state it, with no scan and no regions.
 * Every anchored shape in order on the whole text, each on the text as the ones
 * before it left it (group 1 kept in front of the marker); then every literal
 * form outside the markers, longest first; then the shapes without an anchor
 * (user patterns) on the result.
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
    let out = text;
    for (const shape of this.shapes) if (shape.anchor) out = this.applyShape(out, shape);
    if (this.literals.size > 0) {
      const forms = [...this.literals.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
      const literal = new RegExp(['\\[REDACTED:[a-z0-9-]+\\]', ...forms].join('|'), 'g');
      out = out.replace(literal, (match) =>
        /^\[REDACTED:[a-z0-9-]+\]$/.test(match) ? match : this.marker(this.literals.get(match) ?? 'secret'),
      );
    }
    for (const shape of this.shapes) if (!shape.anchor) out = this.applyShape(out, shape);
    return out;
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
