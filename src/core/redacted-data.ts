import { Message, own, redactMessage, type Segment, type TextRedactor } from './message.ts';

/**
 * Data from outside, redacted field by field before it is rendered into text
 * of ours. A rendered summary or evidence file is our fixed wording (headings,
 * field names, status words) around values from outside (inputs, the checks
 * file, the environment, command output, provider bodies). Redacting the
 * rendered text would also rewrite our wording wherever a short secret the
 * user named occurs in it (`redact: on` turns `Milestone` into
 * `Milest[REDACTED:secret]e`); redacting the data instead leaves the wording
 * as written and still reaches every value, whichever field it is in: every
 * string in `data` (in objects and arrays, at any depth) goes through
 * `redact`; numbers, booleans, dates and absent values are kept.
 *
 * `ours` names the fields whose string values are words of our own (a status,
 * an outcome, a step kind: one of a fixed set the code compares against),
 * kept as they are at any depth: `redact: ss` must not turn a check's status
 * `passed` into `pa[REDACTED:secret]ed`, which would also change what the
 * rendering counts and shows.
 *
 * `ownValues` are values of our own making (a deploy id, the tag made from it)
 * kept whole wherever they occur inside a string (`unless a build of deploy_1a2b
 * is already under way`): the text between them is redacted piece by piece.
 *
 * A `Message` in `data` (an error, a note, a plan line: our words around
 * values, core/message.ts) becomes one of our own words already redacted:
 * its values redacted one by one, `ownValues` inside them kept, our words whole.
 */
export function redactedData<T>(
  data: T,
  redactor: TextRedactor,
  ours: readonly string[] = [],
  ownValues: readonly string[] = [],
): T {
  const kept = ownValues.filter((v) => v !== '').sort((a, b) => b.length - a.length);
  const pieces = (text: string, i = 0): Segment[] => {
    const value = kept[i];
    if (value === undefined) return [{ text, ours: false }];
    return text
      .split(value)
      .flatMap((piece, j) => [...(j > 0 ? [{ text: value, ours: true }] : []), ...pieces(piece, i + 1)]);
  };
  const around = (text: string): string =>
    pieces(text)
      .map((p) => (p.ours ? p.text : redactor.redact(p.text)))
      .join('');
  const message = (m: Message): Message =>
    own(redactMessage(new Message(m.segments.flatMap((s) => (s.ours ? [s] : pieces(s.text)))), redactor));
  const walk = (value: unknown, key: string | undefined): unknown => {
    if (value instanceof Message) return message(value);
    if (typeof value === 'string') return key !== undefined && ours.includes(key) ? value : around(value);
    if (Array.isArray(value)) return value.map((item) => walk(item, undefined));
    if (value === null || typeof value !== 'object' || value instanceof Date) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
  };
  return walk(data, undefined) as T;
}
