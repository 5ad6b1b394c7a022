import { describe, expect, it } from 'vitest';
import { run } from './cancellation.ts';
import { committedSection, renderSection } from './matrix.ts';

describe('cancellation matrix', () => {
  it('a killed deploy leaves no lock or lease after its post step; a killed clone is finished by a re-run; SIGINT stops every action in time, cleaned up', async () => {
    const result = await run();
    expect(result.cells.filter((c) => !c.ok)).toEqual([]);
    expect(result.cells).toHaveLength(11);
    expect(result.totals).toEqual({ duplicates: 0, 'locks left': 0 });
    expect(renderSection(result)).toBe(committedSection('cancellation'));
  }, 600_000);
});
