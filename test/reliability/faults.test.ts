import { describe, expect, it } from 'vitest';
import { run } from './faults.ts';
import { committedSection, renderSection } from './matrix.ts';

/**
 * Defects the matrix found and that are not fixed yet (see the lead's issue note):
 * a re-run of a deploy creates a second GitHub deployment instead of continuing
 * the one of its run; a Fly lease whose answer was lost is held until it expires,
 * so the re-run cannot take it; a Heroku build whose answer was lost is built
 * again by the re-run. These cells must fail until fixed — a fix that makes one
 * pass fails this test, so the list is shortened with the fix.
 */
const KNOWN_DEFECTS: [row: string, columns: string[]][] = [
  ['deploy fly: github repos/create-deployment #1', ['dropped connection', 'hang past the 2 s timeout']],
  ...[1, 2, 3].flatMap((n): [string, string[]][] => [
    [
      `deploy fly: fly Machines_create_lease #${n}`,
      ['503', 'dropped connection', 'hang past the 2 s timeout'],
    ],
    [`deploy fly: fly Machines_update #${n}`, ['503', 'dropped connection', 'hang past the 2 s timeout']],
  ]),
  ['deploy heroku: github repos/create-deployment #1', ['dropped connection', 'hang past the 2 s timeout']],
  ['deploy heroku: heroku build.create #1', ['503', 'dropped connection', 'hang past the 2 s timeout']],
];

describe('faults matrix', () => {
  it('every cell ends in success through retries or a clean failure a re-run finishes; the section is committed', async () => {
    const result = await run();
    const known = new Set(KNOWN_DEFECTS.flatMap(([row, columns]) => columns.map((c) => `${row} | ${c}`)));
    const failing = result.cells.filter((c) => !c.ok).map((c) => `${c.row} | ${c.column}`);
    expect(failing.sort()).toEqual([...known].sort());
    expect(result.cells.length).toBeGreaterThanOrEqual(190);
    expect(renderSection(result)).toBe(committedSection('faults'));
  }, 600_000);
});
