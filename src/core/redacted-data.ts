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
 */
export function redactedData<T>(data: T, redact: (text: string) => string): T {
  if (typeof data === 'string') return redact(data) as T;
  if (Array.isArray(data)) return data.map((item) => redactedData(item, redact)) as T;
  if (data === null || typeof data !== 'object' || data instanceof Date) return data;
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, redactedData(value, redact)]),
  ) as T;
}
