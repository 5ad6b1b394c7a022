import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../reliability/fault-worlds.ts';
import { FAULTS, run } from '../reliability/faults.ts';

/**
 * The evidence rows of the faults matrix on their own, so a change to the
 * upload path is checked without running every action's cells: every request
 * position of the upload (CreateArtifact, the blob PUT, FinalizeArtifact) and
 * the GitHub artifacts list, under each fault, ends well. Where the cut upload
 * left the name held for the run, the re-run must say so (and nothing else).
 */
describe('evidence under provider faults', () => {
  it('every position of the upload and the gate, under each fault, ends in success or a clean failure a re-run finishes', async () => {
    const result = await run(SCENARIOS.filter((s) => s.name === 'evidence'));
    const rows = [...new Set(result.cells.map((c) => c.row))];
    expect(rows).toEqual([
      'evidence: github actions/list-artifacts-for-repo',
      'evidence: results ArtifactService.CreateArtifact #1',
      'evidence: results ArtifactService.FinalizeArtifact #1',
      'evidence: results blob.block #1',
      'evidence: results blob.blocklist #1',
    ]);
    expect(result.cells).toHaveLength(rows.length * FAULTS.length);
    const failing = result.cells.filter((c) => !c.ok).map((c) => `${c.row} | ${c.column}: ${c.result}`);
    expect(failing).toEqual([]);
    expect(result.totals.duplicates).toBe(0);
  }, 300_000);
});
