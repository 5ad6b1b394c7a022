import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateChecksFile } from '../src/evidence/checks-file.ts';
import { ROOT } from './helpers/run-bundle.ts';

/**
 * docs/checks-file.md against the parser: the fields of each table are exactly the fields the
 * parser accepts at that level (read from its own "allowed: …" answer to an unknown field, not
 * from a copy), and each type a row states is one the parser enforces (a value of another type
 * is refused naming that field).
 */

const page = readFileSync(join(ROOT, 'docs', 'checks-file.md'), 'utf8');

/** The rows of the table under `## heading`: field → type. */
function table(heading: string): Map<string, string> {
  const section = page.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`docs/checks-file.md has no section ${heading}`);
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| `([\w.-]+)` \| ([^|]+) \|/gm)) rows.set(m[1]!, m[2]!.trim());
  return rows;
}

const ok = { id: 'a', run: 'true' };
/** A file with `value` at `level`'s field `field`. */
function fileWith(level: 'top' | 'check' | 'redact', field: string, value: unknown): unknown {
  if (level === 'top') return { checks: [ok], [field]: value };
  if (level === 'check') return { checks: [{ ...ok, [field]: value }] };
  return { checks: [ok], redact: { [field]: value } };
}

function refusal(doc: unknown): string | undefined {
  try {
    validateChecksFile(doc, 'evidence.yml');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The parser's own list of the fields it accepts at a level. */
function accepted(level: 'top' | 'check' | 'redact'): string[] {
  const message = refusal(fileWith(level, 'no-such-field', 1)) ?? '';
  const m = /allowed: (.+)$/.exec(message);
  if (!m) throw new Error(`the parser did not list the allowed fields: ${message}`);
  return m[1]!.split(', ').sort();
}

const LEVELS = [
  ['top', 'Top level'],
  ['check', 'A check'],
  ['redact', '`redact`'],
] as const;

/** A value of another type than the row's, which the parser must refuse. */
function wrongValueFor(type: string): unknown {
  if (/^boolean/.test(type)) return 'yes';
  if (/^number/.test(type)) return 'ten';
  if (/^list/.test(type)) return 7;
  if (/^mapping/.test(type)) return ['x'];
  if (/^string/.test(type)) return 7;
  return undefined;
}

describe('docs/checks-file.md and the checks-file parser agree', () => {
  it.each(LEVELS)('%s: the table lists exactly the fields the parser accepts', (level, heading) => {
    expect([...table(heading).keys()].sort()).toEqual(accepted(level));
  });

  it.each(
    LEVELS.flatMap(([level, heading]) =>
      [...table(heading)].map(([field, type]) => [level, field, type] as const),
    ),
  )('%s field %s: a value that is not "%s" is refused, naming the field', (level, field, type) => {
    const wrong = wrongValueFor(type);
    expect(wrong, `docs/checks-file.md: unknown type "${type}" for ${field}`).toBeDefined();
    const message = refusal(fileWith(level, field, wrong));
    expect(message).toBeDefined();
    expect(message).toContain(field === 'checks' ? 'checks' : field);
  });

  it('the documented defaults are what the parser gives', () => {
    const parsed = validateChecksFile(
      {
        checks: [
          { id: 'disk', run: 'df -h' },
          { id: 'up', http: 'https://x.test/up' },
        ],
      },
      'f',
    );
    expect(parsed.target).toBeUndefined();
    expect(parsed.milestones).toBeUndefined();
    expect(parsed.redact).toEqual({ env: [], patterns: [] });
    expect(parsed.checks[0]).toMatchObject({
      title: 'disk',
      required: false,
      timeoutMs: undefined,
      milestones: undefined,
    });
    expect(parsed.checks[1]).toMatchObject({ title: 'up', expect: undefined });
    expect(table('A check').get('required')).toBe('boolean');
    expect(page).toContain('| `required` | boolean | `false` |');
    expect(page).toContain('| `title` | string | the `id` |');
  });
});
