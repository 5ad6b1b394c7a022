import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKamalFake, type KamalFake } from '../../sandbox/fakes/kamal.ts';
import { type BundleRun, runBundle } from '../helpers/run-bundle.ts';
import { summaryTables } from '../helpers/summary-tables.ts';
import { AUTH_TOKEN, expectNoSecrets, progressLines, resultsOf } from './fixtures.ts';

let kamal: KamalFake | undefined;
afterEach(async () => {
  if (kamal) {
    for (const host of kamal.hosts) expect(host.server.violations).toEqual([]);
    await kamal.stop();
  }
  kamal = undefined;
});

async function startKamal(hosts: string[]): Promise<KamalFake> {
  kamal = createKamalFake({ hosts });
  await kamal.start();
  return kamal;
}

/** A run whose workspace holds `files` (relative path → text). */
function runWithFiles(inputs: Record<string, string>, files: Record<string, string>) {
  const workspace = mkdtempSync(join(tmpdir(), 'ops-workspace-'));
  for (const [path, text] of Object.entries(files)) writeFileSync(join(workspace, path), text);
  return runBundle('config-update', {
    inputs: { target: 'kamal', 'auth-token': AUTH_TOKEN, ...inputs },
    cwd: workspace,
  });
}

describe('config-update urls-file (bundle against the sandbox)', () => {
  it('reads URLs from a workspace file with comments and blank lines', async () => {
    const k = await startKamal(['web-1', 'web-2']);
    const text = `# the fleet\n\n${k.host('web-1').url}/update   # eu\n\n# ${k.host('web-2').url}/old\n${k.host('web-2').url}/update\n`;
    const run = await runWithFiles({ 'urls-file': 'fleet.txt' }, { 'fleet.txt': text });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(k.hosts.map((h) => h.server.requests.map((r) => r.path))).toEqual([['/update'], ['/update']]);
    expect(run.stdout).toContain('Will update 2 hosts');
    expect(run.summary).toContain('2 Kamal hosts from `urls-file` fleet.txt');
    expect(resultsOf(run.outputs).map((r) => r.outcome)).toEqual(['ok', 'ok']);
    expectNoSecrets(run.everything);
  });

  it('redacts the auth-token in results-file as in results (the workflow uploads the file), and a presigned URL passed percent-encoded', async () => {
    const k = await startKamal(['web-1']);
    const signature = 'presignedCanary0a1b2c3d';
    const src = encodeURIComponent(`https://b.s3.example/c.json?X-Amz-Signature=${signature}&X-Amz-Date=1`);
    const run = await runWithFiles(
      { urls: `${k.host('web-1').url}/update?token=${AUTH_TOKEN}&src=${src}` },
      {},
    );
    expect(run.code).toBe(0);
    expect(k.hosts[0]!.server.requests).toHaveLength(1);
    const line = JSON.parse(readFileSync(run.outputs['results-file']!, 'utf8').trim()) as { url: string };
    expect(line.url).toBe(resultsOf(run.outputs)[0]!.url);
    expect(line.url).toBe(
      `${k.host('web-1').url}/update?token=[REDACTED:url-secret]&src=https%3A%2F%2Fb.s3.example%2Fc.json%3FX-Amz-Signature%3D[REDACTED:url-secret]%26X-Amz-Date%3D1`,
    );
    expectNoSecrets(run.everything);
    expect(run.everything).not.toContain(signature);
  });

  it.each([
    [
      'a bad line',
      (u: string) => `# fleet\n${u}/update\n\nhttp//broken\n`,
      `Input 'urls-file' "fleet.txt" line 4: must be an http(s) URL; the entry does not start with http:// or https://`,
    ],
    [
      'a duplicate as the server sees it',
      (u: string) => `${u}/update\n${u.replace('http:', 'HTTP:')}/update?#again\n`,
      `Input 'urls-file' "fleet.txt" line 2: lists `,
    ],
  ])('refuses %s naming the file and the line, before any request', async (_, text, error) => {
    const k = await startKamal(['web-1']);
    const run = await runWithFiles({ 'urls-file': 'fleet.txt' }, { 'fleet.txt': text(k.host('web-1').url) });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(error);
    expect(k.hosts[0]!.server.requests).toEqual([]);
  });

  it('redacts an auth-token written in a URL path with lower-case percent-escapes (.NET UrlEncode), as with upper-case ones', async () => {
    const k = await startKamal(['web-1', 'web-2']);
    k.setBehaviour('web-2', { status: 500 });
    const token = 'Tk/9+x=Qz~v!7Lm0Pq';
    const upper = encodeURIComponent(token);
    const lower = upper.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
    const urls = [`${k.host('web-1').url}/t/${lower}/update`, `${k.host('web-2').url}/t/${lower}/update`];
    const run = await runBundle('config-update', {
      inputs: { target: 'kamal', 'auth-token': token, urls: urls.join('\n'), retries: '0' },
    });
    expect(run.code).toBe(1);
    // The fake records the path decoded.
    expect(k.hosts.map((h) => h.server.requests.map((r) => r.path))).toEqual([
      [`/t/${token}/update`],
      [`/t/${token}/update`],
    ]);
    expect(
      resultsOf(run.outputs)
        .map((r) => r.url)
        .sort(),
    ).toEqual(urls.map((u) => u.replace(lower, '[REDACTED:secret]')).sort());
    const file = readFileSync(run.outputs['results-file']!, 'utf8').trim().split('\n');
    expect(file.map((l) => (JSON.parse(l) as { url: string }).url).sort()).toEqual(
      resultsOf(run.outputs)
        .map((r) => r.url)
        .sort(),
    );
    for (const form of [token, upper, lower, lower.slice(0, 12)]) expect(run.everything).not.toContain(form);
  });

  it('splits a file at lone CRs and drops a trailing comment in urls: each line one target, as written', async () => {
    const k = await startKamal(['web-1', 'web-2']);
    const u1 = k.host('web-1').url;
    const u2 = k.host('web-2').url;
    const fromFile = await runWithFiles({ 'urls-file': 'fleet.txt' }, { 'fleet.txt': `${u1}/a\r${u1}/b\r` });
    expect(fromFile.errors).toEqual([]);
    expect(k.hosts[0]!.server.requests.map((r) => r.path)).toEqual(['/a', '/b']);
    const typed = await runWithFiles({ urls: `${u2}/a # eu` }, {});
    expect(typed.errors).toEqual([]);
    expect(k.hosts[1]!.server.requests.map((r) => r.path)).toEqual(['/a']);
  });

  it.each([
    ['a space', (u: string) => `${u}/a  eu-west`, 'a space at character'],
    ['a tab', (u: string) => `${u}/a\tb`, 'a tab at character'],
  ])('refuses %s inside a URL in urls and urls-file, before any request', async (_, line, what) => {
    const k = await startKamal(['web-1']);
    const u = k.host('web-1').url;
    const typed = await runWithFiles({ urls: line(u) }, {});
    const fromFile = await runWithFiles(
      { 'urls-file': 'fleet.txt' },
      { 'fleet.txt': `${u}/ok\n${line(u)}\n` },
    );
    expect(typed.errors).toEqual([
      expect.stringMatching(new RegExp(`^Input 'urls' must be one http\\(s\\) URL per line.*${what}`)),
    ]);
    expect(fromFile.errors).toEqual([
      expect.stringMatching(
        new RegExp(`^Input 'urls-file' "fleet.txt" line 2: must be one http\\(s\\) URL per line.*${what}`),
      ),
    ]);
    expect(k.hosts[0]!.server.requests).toEqual([]);
  });

  it.each([
    [
      '.env',
      { '.env': 'SECRET_KEY_BASE=9f8e7d6c5b4a39281706f5e4d3c2b1a0\n' },
      'line 1: must be an http(s) URL; the entry does not start',
    ],
    ['../../../../../../../../etc/passwd', {}, 'which is outside the workspace'],
  ])('names %s without quoting what it holds, before any request', async (file, files, error) => {
    const k = await startKamal(['web-1']);
    const run = await runWithFiles({ 'urls-file': file }, files);
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining(error)]);
    expect(run.stdout).not.toContain('9f8e7d6c5b4a');
    expect(run.stdout).not.toContain('root:');
    expect(k.hosts[0]!.server.requests).toEqual([]);
  });

  it('refuses a duplicate in urls as the server sees it (a fragment is never sent)', async () => {
    const k = await startKamal(['web-1']);
    const u = k.host('web-1').url;
    const run = await runWithFiles({ urls: `${u}/update\n${u}/update#again` }, {});
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      `Input 'urls' lists ${u}/update twice (another line has it too; a fragment, the default port, an empty ?, a trailing slash, the case of scheme and host, a trailing dot of the host and escaped letters, digits, - . _ ~ do not make another endpoint); each endpoint must appear once`,
    ]);
    expect(k.hosts[0]!.server.requests).toEqual([]);
  });

  it('refuses an escape of an unreserved character as the same URL, naming the file line', async () => {
    const k = await startKamal(['web-1']);
    const u = k.host('web-1').url;
    const run = await runWithFiles(
      { 'urls-file': 'fleet.txt' },
      {
        'fleet.txt': `${u}/~ops/update
${u.toUpperCase()}/%7eops/update/
`,
      },
    );
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Input 'urls-file' "fleet.txt" line 2: lists ${u}/~ops/update twice \\(line 1 has it too`,
        ),
      ),
    ]);
    expect(k.hosts[0]!.server.requests).toEqual([]);
  });

  it('sends each URL exactly as given: a trailing slash and an escape are kept', async () => {
    // A bare server that records the request target as it arrives (the fakes decode paths).
    const targets: string[] = [];
    const server = createServer((req, res) => {
      targets.push(req.url ?? '');
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const u = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const urls = [`${u}/update/`, `${u}/a%7Eb/update`, `${u}/a~b/update?x=%7e`];
      const run = await runWithFiles({ urls: urls.join('\n') }, {});
      expect(run.errors).toEqual([]);
      expect(targets.sort()).toEqual(['/a%7Eb/update', '/a~b/update?x=%7e', '/update/']);
      expect(
        resultsOf(run.outputs)
          .map((r) => r.url)
          .sort(),
      ).toEqual([...urls].sort());
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it.each(['timeout', 'deadline'])('refuses a sub-second %s before any request', async (input) => {
    const k = await startKamal(['web-1']);
    const run = await runWithFiles({ urls: `${k.host('web-1').url}/update`, [input]: '0.0001' }, {});
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(new RegExp(`^Input '${input}' must be a number of seconds of at least 1 `));
    expect(k.hosts[0]!.server.requests).toEqual([]);
  });

  it('shortens the progress line of a 3 KB URL to its head, tail and list line, after redaction; results-file keeps it whole', async () => {
    const k = await startKamal(['web-1']);
    const origin = k.host('web-1').url;
    const host = origin.replace(/^http:\/\//, '');
    // The auth-token sits across the cut of the head: cut before redaction, its first half would print.
    const filler = 'x'.repeat(80 - 8 - host.length - '/p/'.length);
    const urls = [0, 1, 2].map((i) => `${origin}/p/${filler}${AUTH_TOKEN}/${'y'.repeat(3000)}/end-${i}`);
    const run = await runWithFiles({ urls: `# long URLs\n${urls[0]}\n\n${urls[1]}\n${urls[2]}` }, {});
    expect(run.errors).toEqual([]);
    expect(k.hosts[0]!.server.requests.map((r) => r.path).sort()).toEqual(
      urls.map((u) => u.slice(origin.length)).sort(),
    );
    const lines = progressLines(run.stdout);
    expect(lines).toHaveLength(3);
    const head = `${host}/p/${filler}`.replace(/\./g, '\\.');
    for (const line of lines) {
      expect(line.length).toBeLessThan(200);
      expect(line).toMatch(new RegExp(`^\\[\\d/3\\s+\\d+%\\] ${head}…y{18}/end-\\d \\(urls line \\d\\) ok `));
    }
    // Each line names its target: the end of the URL and the line of `urls` it is on.
    const named = lines.map((l) => /end-(\d) \(urls line (\d)\)/.exec(l)!.slice(1).join(':')).sort();
    expect(named).toEqual(['0:2', '1:4', '2:5']);
    const file = readFileSync(run.outputs['results-file']!, 'utf8').trim().split('\n');
    expect(file.map((l) => (JSON.parse(l) as { url: string }).url).sort()).toEqual(
      urls.map((u) => u.replace(AUTH_TOKEN, '[REDACTED:secret]')).sort(),
    );
    expectNoSecrets(run.everything);
    expect(run.everything).not.toContain(AUTH_TOKEN.slice(0, 8));
  });

  it('a dry run shortens plan lines of long URLs as progress lines, after redaction, with their urls line; a short URL prints whole', async () => {
    const k = await startKamal(['web-1']);
    const origin = k.host('web-1').url;
    const host = origin.replace(/^http:\/\//, '');
    // The auth-token starts 10 characters before the cut of the head (80): cut before redaction, they would print.
    const filler = 'x'.repeat(80 - 10 - origin.length - '/p/'.length);
    const long = [0, 1].map((i) => `${origin}/p/${filler}${AUTH_TOKEN}/${'y'.repeat(3000)}/end-${i}`);
    const short = `${origin}/update_config`;
    // In `urls`, not a workspace file: the scan of everything the run wrote then covers no copy of our own.
    const run = await runWithFiles(
      { urls: `# fleet\n${long[0]}\n\n${short}\n${long[1]}`, 'dry-run': 'true' },
      {},
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(k.hosts[0]!.server.requests).toEqual([]);
    const targets = run.stdout.slice(run.stdout.indexOf('Targets:\n')).split('\n').slice(1, 4);
    expect(targets).toContain(`  ${host}/update_config: POST ${short}`);
    const head = `${origin}/p/${filler}`;
    for (const [i, line] of [
      [0, 2],
      [1, 5],
    ] as const) {
      const shown = `${head}…${'y'.repeat(18)}/end-${i} (urls line ${line})`;
      expect(targets.find((l) => l.endsWith(`: POST ${shown}`))).toBeDefined();
    }
    for (const line of targets) expect(line.length).toBeLessThan(400);
    expect(run.outputs).toMatchObject({ total: '3', succeeded: '0', failed: '0', skipped: '0' });
    expectNoSecrets(run.everything);
    for (const part of [
      AUTH_TOKEN.slice(0, 8),
      AUTH_TOKEN.slice(-8),
      Buffer.from(AUTH_TOKEN).toString('base64'),
    ]) {
      expect(run.everything).not.toContain(part);
    }
  });

  it('a dry run of 501 URLs: `results` lists none of the planned targets, as action.yml says; results-file all', async () => {
    const k = await startKamal(['web-1']);
    const urls = Array.from({ length: 501 }, (_, i) => `${k.host('web-1').url}/t/${i}/update_config`);
    const run = await runWithFiles(
      { 'urls-file': 'fleet.txt', 'dry-run': 'true' },
      { 'fleet.txt': urls.join('\n') },
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(k.hosts[0]!.server.requests).toEqual([]);
    expect(run.outputs).toMatchObject({ total: '501', succeeded: '0', failed: '0', skipped: '0' });
    expect(resultsOf(run.outputs)).toEqual([]);
    expect(run.summary).toContain(
      '_The `results` output lists 0 of the 0 failed and skipped targets (of 501; past 500 it leaves out those planned)',
    );
    const lines = readFileSync(run.outputs['results-file']!, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { outcome: string }).outcome)).toEqual(
      Array(501).fill('planned'),
    );
  });

  it("updates 10 000 URLs from a file: no E2BIG, outputs and summary within the runner's limits", async () => {
    const k = await startKamal(['web-1', 'web-2']);
    k.setBehaviour('web-2', { status: 500 });
    const urls = Array.from({ length: 10_000 }, (_, i) =>
      i % 100 === 0
        ? `${k.host('web-2').url}/t/${i}/update_config`
        : `${k.host('web-1').url}/t/${i}/update_config`,
    );
    expect(urls.join('\n').length).toBeGreaterThan(128 * 1024);
    const run = await runWithFiles(
      { 'urls-file': 'fleet.txt', concurrency: '64', retries: '0', 'max-failures': '100' },
      { 'fleet.txt': `# 10k\n${urls.join('\n')}\n` },
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(k.hosts.map((h) => h.server.requests.length)).toEqual([9900, 100]);
    expect(new Set(k.hosts.flatMap((h) => h.server.requests.map((r) => r.path))).size).toBe(10_000);
    expect(progressLines(run.stdout)).toHaveLength(10_000);
    expect(run.outputs).toMatchObject({ total: '10000', succeeded: '9900', failed: '100', skipped: '0' });
    expectLimits(run, 10_000);
    // Past 500 targets `results` holds the failures only; results-file every target.
    const listed = resultsOf(run.outputs);
    expect(listed).toHaveLength(100);
    expect(listed.every((r) => r.outcome === 'failed' && r.url.startsWith(k.host('web-2').url))).toBe(true);
    expect(run.summary).toContain('10000 targets: **9900 ok**, **100 failed**, 0 skipped');
    expect(summaryTables(run.summary.slice(run.summary.indexOf('### Failure reasons')))[0]).toEqual([
      ['reason', 'targets', 'for example'],
      [
        'HTTP 500: instance web-2 answered 500',
        '100',
        expect.stringMatching(/^127\.0\.0\.1:\d+\/t\/\d+\/update_config, /),
      ],
    ]);
    expect(run.summary).toContain('### The 20 slowest of 9900 updated');
    expect(run.summary).not.toContain('mermaid');
  }, 180_000);

  it('3000 targets that all fail: every failure in results, the summary capped', async () => {
    const k = await startKamal(['web-1']);
    k.setBehaviour('web-1', { status: 503 });
    const urls = Array.from({ length: 3000 }, (_, i) => `${k.host('web-1').url}/t/${i}/update_config`);
    const run = await runWithFiles(
      { 'urls-file': 'fleet.txt', concurrency: '64', retries: '0', 'max-failures': '3000' },
      { 'fleet.txt': urls.join('\n') },
    );
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ total: '3000', succeeded: '0', failed: '3000' });
    expectLimits(run, 3000);
    expect(resultsOf(run.outputs)).toHaveLength(3000);
    const failedRows = summaryTables(run.summary.slice(run.summary.indexOf('### Failed and skipped')))[0]!;
    expect(failedRows.slice(1)).toHaveLength(200);
    expect(run.summary).toContain('_2800 more failed or skipped targets are in `results-file`._');
    expect(run.summary).not.toContain('slowest of');
  }, 180_000);
});

/** The runner's limits: a summary under 1 MiB, `results` under 1 MB, and every target in results-file. */
function expectLimits(run: BundleRun, targets: number): void {
  expect(Buffer.byteLength(run.summary)).toBeLessThan(1024 * 1024);
  expect(Buffer.byteLength(run.outputs.results ?? '')).toBeLessThan(1_000_000);
  const lines = readFileSync(run.outputs['results-file']!, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(targets);
  expect(new Set(lines.map((l) => (JSON.parse(l) as { url: string }).url)).size).toBe(targets);
}
