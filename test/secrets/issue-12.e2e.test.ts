import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { evidenceFiles, workspaceWith } from '../evidence/helpers.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { injectedCommands } from '../helpers/runner-commands.ts';

/** Issue 12 through the committed evidence bundle: §2 §3 §6 §7 in one run. */
describe('evidence bundle: issue 12 cases', () => {
  it('split characters, short named secrets, hostile lines and Basic auth', async () => {
    const server = createServer((req, res) => {
      const ok = req.headers.authorization === `Basic ${Buffer.from('ops:p@ss-w0rd').toString('base64')}`;
      res.writeHead(ok ? 200 : 401).end(ok ? 'fine\n' : 'who?\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const ws = workspaceWith(`
target: t1
redact:
  env: [DB_PASSWORD]
checks:
  - id: split
    run: printf 'pw=p\\303'; sleep 0.3; printf '\\244sswörd-geheim-42\\n'
  - id: short
    run: echo "abc $DB_PASSWORD $DEPLOY_KEY"
  - id: hostile
    run: printf '%s\\n' '::add-mask::pwned' '  ::error::pwned' '##[error]pwned' '::stop-commands::pwned'
  - id: basic
    http: http://ops:p%40ss-w0rd@127.0.0.1:${port}/health
    required: true
`);
      const run = await runBundle('evidence', {
        cwd: ws,
        inputs: { upload: 'false', milestone: 'gates-pass', redact: 'abc\npässwörd-geheim-42' },
        env: { DB_PASSWORD: '54321', DEPLOY_KEY: '7788' },
      });
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      const text = evidenceFiles(ws)[0]!.text;
      for (const leak of ['pässwörd', 'p\ufffd', 'abc', '54321', '7788', 'p@ss-w0rd', 'p%40ss-w0rd'])
        expect(`${text}${run.summary}${run.stdout.replace(/^::add-mask::.*$/gm, '')}`).not.toContain(leak);
      expect(Number(run.outputs.redactions)).toBeGreaterThanOrEqual(5);
      // The redact input goes once as a whole: the runner masks each of its lines.
      expect(run.stdout).toContain('::add-mask::abc%0Ap');
      for (const value of ['54321', '7788'])
        expect(run.stdout.split('\n').filter((l) => l === `::add-mask::${value}`)).toHaveLength(1);
      expect(run.stdout).not.toContain(`::add-mask::${Buffer.from('abc').toString('base64')}`);
      expect(text).toMatch(/\| basic \|.*✅ passed/);
      expect(injectedCommands(run.stdout).filter((c) => c.line.includes('pwned'))).toEqual([]);
    } finally {
      server.close();
    }
  }, 60_000);
});
