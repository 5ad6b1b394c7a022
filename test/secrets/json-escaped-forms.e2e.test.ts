import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evidenceFiles, workspaceWith } from '../evidence/helpers.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * A check whose tool prints JSON with escapes: Python's json.dumps writes a
 * non-ASCII secret as `p\u00e4ssw\u00f6rd` (Jackson and .NET with upper-case
 * hex), Go's encoding/json writes `&`, `<`, `>` as `\u0026`, `\u003c`, `\u003e`.
 * Each is a form of the secret and redacted (src/core/redact.ts `encodedForms`).
 */
describe('evidence bundle: JSON-escaped forms of a named secret', () => {
  it('redacts the \\u-escaped spellings in the evidence file and the log', async () => {
    const secret = 'pässwörd&<k>-42';
    const forms = [
      'p\\u00e4ssw\\u00f6rd&<k>-42',
      'p\\u00E4ssw\\u00F6rd&<k>-42',
      'pässwörd\\u0026\\u003ck\\u003e-42',
    ];
    const ws = workspaceWith(`
target: t1
checks:
  - id: json
    run: ./print.sh
`);
    writeFileSync(
      join(ws, 'print.sh'),
      // printf's format turns each `\\` back into `\`: the script itself holds no form.
      `#!/bin/sh\n${forms.map((f) => `printf '{"password": "${f.replaceAll('\\', '\\\\')}"}\\n'`).join('\n')}\n`,
    );
    chmodSync(join(ws, 'print.sh'), 0o755);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { upload: 'false', milestone: 'm', redact: secret },
    });
    expect(run.errors).toEqual([]);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text.match(/\{"password": "\[REDACTED:secret\]"\}/g)).toHaveLength(3);
    for (const form of forms) {
      expect(text).not.toContain(form);
      expect(run.everything).not.toContain(form);
    }
    expect(run.outputs.redactions).toBe('3');
  }, 60_000);
});
