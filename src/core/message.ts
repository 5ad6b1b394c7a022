import type { Redactor } from './redact.ts';

/**
 * Text we compose around values from outside (a plan line, an error, a cancel
 * note, a retry line): our words kept apart from the values, so that each
 * value is redacted on its own and our words are never cut by a short secret
 * the user named (`redact: on` must not turn `Could not` into
 * `Could n[REDACTED:secret]t`). Redacting the composed text whole would cut
 * them; redacting only the values could miss a secret that straddles a value
 * and our words, which `redactMessage` checks for.
 */

/** One piece of a message: words of ours, or one value from outside. */
export interface Segment {
  readonly text: string;
  readonly ours: boolean;
}

export class Message {
  readonly segments: readonly Segment[];

  constructor(segments: readonly Segment[]) {
    const kept: Segment[] = [];
    for (const segment of segments) {
      if (segment.text === '') continue;
      const last = kept.at(-1);
      // Adjacent words of ours are one piece; values stay apart, each redacted on its own.
      if (last?.ours && segment.ours) kept[kept.length - 1] = { text: last.text + segment.text, ours: true };
      else kept.push(segment);
    }
    this.segments = kept;
  }

  /** The text as composed, values not redacted: for comparisons and `Error.message`, never for output. */
  toString(): string {
    return this.segments.map((s) => s.text).join('');
  }
}

/** What `redactMessage` needs of a `Redactor`. */
export type TextRedactor = Pick<Redactor, 'redact' | 'hits'>;

/** What a printing or writing sink takes: a plain string is redacted whole. */
export type Line = string | Message;

/** A line as composed, not redacted: for a sink that redacts its text whole (a progress line). */
export function lineText(line: Line | undefined): string | undefined {
  return line === undefined ? undefined : String(line);
}

/**
 * Composes a message: the template's strings are our words; every interpolated
 * value is from outside and redacted on its own, unless it is a `Message`
 * (its pieces are kept as they are) or an Error (its `composedOf`). Numbers
 * are values too: a count we made ourselves is marked with `own`.
 */
export function msg(strings: TemplateStringsArray, ...values: unknown[]): Message {
  const segments: Segment[] = [];
  strings.forEach((text, i) => {
    segments.push({ text, ours: true });
    if (i < values.length) segments.push(...segmentsOf(values[i]));
  });
  return new Message(segments);
}

/**
 * A value of our own making (a provider's name, an input's name, a count, a
 * wait we computed), kept as our words. Never for text that came from outside.
 */
export function own(value: string | number): Message {
  return new Message([{ text: String(value), ours: true }]);
}

/** A value from outside as a message of its own: redacted whole. */
export function outside(value: string): Message {
  return new Message([{ text: value, ours: false }]);
}

/** The message without `suffix` at its end (`Could not x.` → `Could not x`), its pieces kept. */
export function withoutSuffix(message: Message, suffix: string): Message {
  const last = message.segments.at(-1);
  if (!last?.text.endsWith(suffix)) return message;
  return new Message([
    ...message.segments.slice(0, -1),
    { ...last, text: last.text.slice(0, -suffix.length) },
  ]);
}

/** Items joined by a separator of ours (`; `, `, `): each item keeps its own pieces. */
export function joinMessages(items: readonly unknown[], separator: string): Message {
  const segments: Segment[] = [];
  items.forEach((item, i) => {
    if (i > 0) segments.push({ text: separator, ours: true });
    segments.push(...segmentsOf(item));
  });
  return new Message(segments);
}

function segmentsOf(value: unknown): readonly Segment[] {
  if (value instanceof Message) return value.segments;
  if (value instanceof Error) return composedOf(value).segments;
  return [{ text: String(value), ours: false }];
}

/**
 * The message with each value put through `redact` now, its pieces kept: for an
 * error built from text that must not travel unredacted (a provider's body). The
 * sink still redacts it as a message, which checks the boundaries.
 */
export function redactedValues(message: Message, redact: (text: string) => string): Message {
  return new Message(message.segments.map((s) => (s.ours ? s : { text: redact(s.text), ours: false })));
}

/** An Error whose message was composed as a `Message`. */
export class ComposedError extends Error {
  readonly composed: Message;

  constructor(message: Message, options?: ErrorOptions) {
    super(String(message), options);
    this.composed = message;
  }
}

/**
 * The message of anything thrown, as pieces: an error that carries a `composed`
 * message (see `ComposedError`; `InputError`, `ApiError`, `StepError` and
 * `CancelledError` do too) gives its pieces, as long as its `message` was not
 * changed since; an AggregateError gives its errors' messages joined by `; `;
 * any other message is one value from outside, redacted whole.
 */
export function composedOf(error: unknown): Message {
  if (error instanceof AggregateError && error.errors.length > 0) return joinMessages(error.errors, '; ');
  if (error instanceof Error) {
    const composed = (error as { composed?: unknown }).composed;
    if (composed instanceof Message && String(composed) === error.message) return composed;
    return outside(error.message);
  }
  return outside(String(error));
}

/** Whether `redactMessage` kept our words whole, or fell back to redacting the composed text. */
export interface RedactedMessage {
  text: string;
  /** The composed text was redacted whole: a secret straddled a value and our words. */
  whole: boolean;
}

/**
 * A message as it may be shown: each value redacted on its own (every form the
 * redactor knows), our words as written. Then the composed text is checked: a
 * hit the redactor would still make there that is not wholly inside our words
 * (a secret `tati.sh` across a value `tati` and our `.sh`, or `token=` of ours
 * before a value that then reads as a credential) makes the whole composed text
 * redacted instead, which is safe and cuts our words only in that case. A hit
 * wholly inside our words is not a leak (`on` in `Could not`) and is left.
 * A plain string is redacted whole.
 */
export function redactMessage(line: Line, redactor: TextRedactor): string {
  return typeof line === 'string' ? redactor.redact(line) : redactPieces(line, redactor).text;
}

export function redactPieces(message: Message, redactor: TextRedactor): RedactedMessage {
  let text = '';
  const ours: [number, number][] = [];
  for (const segment of message.segments) {
    if (segment.ours) {
      ours.push([text.length, text.length + segment.text.length]);
      text += segment.text;
    } else text += redactor.redact(segment.text);
  }
  const straddles = redactor
    .hits(text)
    .some(([start, end]) => !ours.some(([from, to]) => from <= start && end <= to));
  return straddles ? { text: redactor.redact(text), whole: true } : { text, whole: false };
}
