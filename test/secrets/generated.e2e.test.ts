import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceWith } from '../evidence/helpers.ts';
import { type BundleRun, runBundle } from '../helpers/run-bundle.ts';
import {
  cuts,
  leak,
  noise,
  type Planted,
  place,
  registered,
  registeredValue,
  shaped,
  split,
} from '../helpers/secret-arbitraries.ts';

/**
 * Issue 12, generated secrets through the committed bundles: each planted at a
 * random offset in output of random length, split into random chunks, and
 * read back from every channel a user or a later job sees: stdout (without the
 * `::add-mask::` lines the runner consumes), stderr, GITHUB_OUTPUT,
 * GITHUB_STATE, GITHUB_ENV, the summary, the JSONL log, the evidence file and
 * every other file in the workspace and RUNNER_TEMP, and the `::error::` lines.
 * A few runs per property keep it to seconds; the thousands of cases run
 * against the redactor itself (test/core/redact.property.test.ts).
 *
 * A secret of 1-3 characters is drawn from letters our own text never holds:
 * `P` would be "found" in the `HTTP 422` a results line says of its own, and
 * `e` in `::error::`, the runner's protocol; neither is a leak.
 */

const SHORT = fc
  .string({ unit: fc.constantFrom(...'ßüéøåæñçœ€'), minLength: 1, maxLength: 3 })
  .map((v) => ({ value: v, printed: v, registered: true, label: 'short' }) satisfies Planted);

const LONG = registered.filter((p) => [...p.value].length >= 4);

const secret = fc.oneof(LONG, SHORT, shaped);

/** The planted text and where it is cut into chunks. */
const scene = (p: fc.Arbitrary<Planted>) =>
  fc
    .tuple(noise, p, noise)
    .map(([before, planted, after]) => ({ planted, text: place(before, planted, after) }))
    .chain((s) => fc.tuple(fc.constant(s), cuts(s.text.length)))
    .map(([s, at]) => ({ ...s, chunks: split(s.text, at).filter((c) => c !== '') }));

/** Every channel of a finished run, and the RUNNER_TEMP files besides. */
function channels(run: BundleRun): string {
  const temp = join(run.dir, 'runner-temp');
  const files = readdirSync(temp, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
  return [run.everything, ...run.errors, ...files].join('\n');
}

function expectNoLeak(run: BundleRun, p: Planted): void {
  expect(leak(channels(run), p), `${p.label} ${JSON.stringify(p.value)}`).toBeUndefined();
}

/** A loopback endpoint answering with the chunks of the current scene, 15 ms apart. */
let server: Server;
let url: string;
let answer: { status: number; chunks: string[] } = { status: 200, chunks: [] };
beforeAll(async () => {
  server = createServer((_req, res) => {
    const { status, chunks } = answer;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    let i = 0;
    const next = () => {
      if (i === chunks.length) return void res.end();
      res.write(chunks[i++]!);
      setTimeout(next, 15);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('generated secrets through the bundles', () => {
  it('evidence: check output (local, in chunks) and an http body, a secret named by `redact` or shaped', async () => {
    await fc.assert(
      fc.asyncProperty(scene(secret), async ({ planted, chunks }) => {
        answer = { status: 200, chunks };
        // The chunks reach the check through the environment: the checks file holds no secret.
        const env = Object.fromEntries(chunks.map((c, i) => [`c${i}`, c]));
        const printing = chunks.map((_, i) => `printf '%s' "$c${i}"`).join('; sleep 0.02; ');
        const ws = workspaceWith(`
target: t1
checks:
  - id: printed
    run: ${JSON.stringify(`${printing}; echo`)}
  - id: served
    http: ${url}/body
`);
        const run = await runBundle('evidence', {
          cwd: ws,
          inputs: {
            upload: 'false',
            milestone: 'm',
            ...(planted.registered ? { redact: planted.value } : {}),
          },
          env,
        });
        expect(run.code).toBe(0);
        expect(run.outputs.passed).toBe('2');
        expectNoLeak(run, planted);
      }),
      { numRuns: 6 },
    );
  }, 120_000);

  it('config-update: an endpoint error body echoes the auth-token or a shaped secret, past 280 characters too', async () => {
    // The auth-token travels in a header: one line, no control characters.
    const headerSafe = fc.oneof(
      LONG.filter((p) => !/[\r\n]/.test(p.value)),
      SHORT,
      shaped,
      fc
        .tuple(registeredValue, fc.string({ unit: 'grapheme-ascii', minLength: 281, maxLength: 320 }))
        .filter(([{ v }]) => !/[\r\n]/.test(v) && [...v].length >= 4)
        .map(([{ v, label }, pad]) => ({
          value: v,
          printed: `${pad} ${v}`,
          registered: true,
          label: `${label}/late`,
        })),
    );
    await fc.assert(
      fc.asyncProperty(scene(headerSafe), async ({ planted, chunks }) => {
        answer = { status: 422, chunks };
        const run = await runBundle('config-update', {
          inputs: {
            target: 'kamal',
            urls: `${url}/update_config`,
            'auth-token': planted.registered ? planted.value : 'generated-run-token-0001',
          },
        });
        expect(run.code).toBe(1);
        expect(run.errors.length).toBeGreaterThan(0);
        expectNoLeak(run, planted);
      }),
      { numRuns: 6 },
    );
  }, 120_000);
});
