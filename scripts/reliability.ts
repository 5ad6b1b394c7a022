/**
 * `npm run reliability`: runs every reliability matrix and rewrites its section
 * of RELIABILITY.md. The tests in test/reliability/ run the same matrices and
 * fail when the committed sections differ from what the run shows.
 */

import { MATRICES } from '../test/reliability/matrices.ts';
import { writeSection } from '../test/reliability/matrix.ts';

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(MATRICES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stdout.write(`running matrix ${name}…\n`);
  const result = await run();
  writeSection(result);
  const failing = result.cells.filter((c) => !c.ok).length;
  process.stdout.write(`  ${result.cells.length} cells, ${failing} failing\n`);
}
