import { describe, expect, it } from 'vitest';
import { run } from './faults.ts';
import { committedSection, renderSection } from './matrix.ts';

describe('faults matrix', () => {
  it('every cell ends in success through retries or a clean failure a re-run finishes; the section is committed', async () => {
    const result = await run();
    const failing = result.cells
      .filter((c) => !c.ok)
      .map((c) => `${c.row} | ${c.column}: ${c.result} (${result.details[`${c.row} | ${c.column}`]})`);
    expect(failing).toEqual([]);
    expect(result.totals.duplicates).toBe(0);
    expect(result.cells.length).toBeGreaterThanOrEqual(190);
    expect(renderSection(result)).toBe(committedSection('faults'));
  }, 600_000);
});
