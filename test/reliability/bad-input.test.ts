import { describe, expect, it } from 'vitest';
import { seedDemoFleet } from '../../sandbox/fleet.ts';
import { startSandbox } from '../../sandbox/index.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { evidenceWorkspace, requestsOf, run, validInputs } from './bad-input.ts';
import { committedSection, renderSection } from './matrix.ts';

describe('reliability matrix: bad input', () => {
  it('the valid base inputs reach the sandbox, so a zero count means nothing was sent (control)', async () => {
    const s = await startSandbox();
    try {
      seedDemoFleet(s);
      for (const action of ['clone', 'config-update', 'deploy'] as const) {
        const before = requestsOf(s).length;
        await runBundle(action, { inputs: { ...validInputs(action, s), 'dry-run': 'true' } });
        expect(requestsOf(s).length, action).toBeGreaterThan(before);
      }
      const before = requestsOf(s).length;
      await runBundle('evidence', {
        inputs: validInputs('evidence', s),
        env: s.results.env(),
        cwd: evidenceWorkspace(s),
      });
      expect(requestsOf(s).length).toBeGreaterThan(before);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('refuses every bad input with one error naming it, before any request; RELIABILITY.md agrees', async () => {
    const result = await run();
    expect(result.cells.filter((c) => !c.ok)).toEqual([]);
    expect(result.totals.cases).toBeGreaterThanOrEqual(40);
    expect(renderSection(result)).toBe(committedSection('bad-input'));
  }, 240_000);
});
