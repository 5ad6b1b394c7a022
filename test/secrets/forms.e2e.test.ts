import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { evidenceFiles, workspaceWith } from '../evidence/helpers.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * The forms a secret travels in, through the committed evidence bundle (one
 * run): the runner is sent each whole value once and nothing else (it derives
 * the lines and the base64/JSON/URI forms itself: actions/runner
 * src/Runner.Worker/... SecretMasker value encoders), while our own redactor
 * also knows the HTML-escaped spellings, a URL password as typed, and the
 * long lines of a multi-line value — never its short lines.
 */

const HTML_SECRET = `O'Re&lly<co>"x"-77`;
const HTML_SPELLINGS = [
  // Python html.escape
  'O&#x27;Re&amp;lly&lt;co&gt;&quot;x&quot;-77',
  // Go html.EscapeString
  'O&#39;Re&amp;lly&lt;co&gt;&#34;x&#34;-77',
  // PHP htmlspecialchars (ENT_QUOTES)
  'O&#039;Re&amp;lly&lt;co&gt;&quot;x&quot;-77',
  // text nodes only
  `O'Re&amp;lly&lt;co&gt;"x"-77`,
];
const MULTI = '{\n  "db": "v4lue-geheim-77",\n  a\n}';
const PASSWORD = 'p@ss/w0rd';
const TYPED = 'p%40ss%2Fw0rd';

/** `::add-mask::` lines as the runner reads them (core.setSecret escapes %, CR and LF). */
function masks(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('::add-mask::'))
    .map((l) =>
      l.slice('::add-mask::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'),
    );
}

describe('evidence bundle: the forms of a secret', () => {
  it('masks whole values only; redacts HTML spellings and typed URL passwords; leaves short lines of a multi-line secret alone', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/page') {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end(`<html><body>\n${HTML_SPELLINGS.map((s) => `<p>${s}</p>`).join('\n')}\n</body></html>\n`);
        return;
      }
      const ok =
        req.headers.authorization === `Basic ${Buffer.from(`deploy:${PASSWORD}`).toString('base64')}`;
      res.writeHead(ok ? 200 : 401).end(ok ? 'fine\n' : 'who?\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const ws = workspaceWith(`
target: t1
redact:
  env: [MULTI_SECRET]
checks:
  - id: page
    http: http://127.0.0.1:${port}/page
  - id: basic
    http: http://deploy:${TYPED}@127.0.0.1:${port}/health
  - id: words
    run: echo "a cat {sat} on a mat, []"; echo "typed ${TYPED} done"
`);
      const run = await runBundle('evidence', {
        cwd: ws,
        inputs: { upload: 'false', milestone: 'gates-pass', redact: HTML_SECRET },
        env: { MULTI_SECRET: MULTI },
      });
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      expect(masks(run.stdout).sort()).toEqual([HTML_SECRET, MULTI, PASSWORD].sort());

      const text = evidenceFiles(ws)[0]!.text;
      const shown = `${text}\n${run.summary}\n${run.stdout.replace(/^::add-mask::.*$/gm, '')}`;
      for (const leak of [...HTML_SPELLINGS, HTML_SECRET, TYPED, PASSWORD, 'v4lue-geheim-77'])
        expect(shown).not.toContain(leak);
      expect(text.match(/<p>\[REDACTED:secret\]<\/p>/g)).toHaveLength(HTML_SPELLINGS.length);
      expect(text).toContain('typed [REDACTED:url] done');
      // `a`, `{` and `}` are lines of MULTI_SECRET, too short to be a secret alone.
      expect(text).toContain('a cat {sat} on a mat, []');
      expect(text).toMatch(/\| basic \|.*✅ passed/);
    } finally {
      server.close();
    }
  }, 60_000);
});
