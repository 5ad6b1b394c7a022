import { describe, expect, it } from 'vitest';
import { run } from './dry-run.ts';
import { committedSection, renderSection } from './matrix.ts';

describe('reliability matrix: dry-run', () => {
  it('every action plans its full flow with 0 mutating requests and no file; RELIABILITY.md agrees', async () => {
    const result = await run();
    expect(result.cells.filter((c) => !c.ok)).toEqual([]);
    expect(renderSection(result)).toBe(committedSection('dry-run'));
  }, 240_000);
});
