import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceWith } from './evidence/helpers.ts';
import { type ActionName, ROOT, type RunOptions, runBundle } from './helpers/run-bundle.ts';

/**
 * Issue 19, start-up: what a run does not use is not evaluated. Octokit (with
 * its retry and throttling plugins) loads only when a GitHub token is used,
 * our undici agent only on the first provider request, and the artifact client
 * lives in the upload worker alone. Measured by tracing the modules each
 * committed bundle loads (helpers/module-trace.ts), not by reading the build:
 * a library is loaded when a run loads a chunk holding it that a run stopping
 * at its inputs does not.
 */

const TRACER = join(ROOT, 'test', 'helpers', 'module-trace.ts');

/** What each lazily loaded library leaves in the chunk that holds it. */
const LIBRARIES: Record<string, RegExp> = {
  octokit: /octokit-core\.js|Bottleneck/,
  // Its Agent and request API (or its whole index behind a proxy); the entry holds
  // @actions/http-client's own copy, which @actions/core loads.
  'undici (ours)': /UND_ERR_CONNECT_TIMEOUT|keepAliveMaxTimeout|EnvHttpProxyAgent/,
  // Its client class: the chunks holding our own code are not minified, and its comments name the package.
  '@actions/artifact': /\bclass DefaultArtifactClient\b/,
};

/** The bundle's files (entry and chunks) a run of `action` loaded, and what it said. */
async function tracedRun(
  action: ActionName,
  options: RunOptions,
): Promise<{ urls: string[]; errors: string[] }> {
  const trace = join(mkdtempSync(join(tmpdir(), 'module-trace-')), 'loads');
  writeFileSync(trace, '');
  const run = await runBundle(action, {
    ...options,
    env: { ...options.env, NODE_OPTIONS: `--import=${TRACER}`, MODULE_TRACE_FILE: trace },
  });
  const urls = readFileSync(trace, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:') && url.includes('/dist/'));
  expect(urls).toContain(pathToFileURL(join(ROOT, 'dist', action, 'index.js')).href);
  return { urls, errors: run.errors };
}

/**
 * The chunks every run of `action` loads: the entry loads the action's code from chunks before it
 * reads an input (core/received-signals.ts), so they are what a run refusing its inputs loaded.
 */
const startChunks = new Map<ActionName, Promise<string[]>>();
function loadedAtStart(action: ActionName): Promise<string[]> {
  if (!startChunks.has(action))
    startChunks.set(
      action,
      tracedRun(action, { inputs: { target: 'not-a-target', milestone: '' } }).then(({ urls, errors }) => {
        expect(errors).toHaveLength(1);
        // Octokit and the artifact client are never among them (our undici cannot be told from
        // @actions/http-client's own copy, which every run loads).
        for (const url of urls) {
          expect(readFileSync(fileURLToPath(url), 'utf8')).not.toMatch(LIBRARIES.octokit!);
          expect(readFileSync(fileURLToPath(url), 'utf8')).not.toMatch(LIBRARIES['@actions/artifact']!);
        }
        return urls;
      }),
    );
  return startChunks.get(action)!;
}

/** The libraries found in the chunks a run of `action` loaded beyond those every run loads. */
async function loadedLibraries(action: ActionName, options: RunOptions): Promise<string[]> {
  const atStart = new Set(await loadedAtStart(action));
  const { urls, errors } = await tracedRun(action, options);
  expect(errors).toEqual([]);
  const chunks = urls
    .filter((url) => !atStart.has(url))
    .map((url) => readFileSync(fileURLToPath(url), 'utf8'));
  return Object.entries(LIBRARIES)
    .filter(([, marker]) => chunks.some((text) => marker.test(text)))
    .map(([name]) => name);
}

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(200).end('ok\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('lazy loading, traced through the committed bundles', () => {
  it('each lazily loaded library sits in a chunk of its own, outside every entry', () => {
    for (const action of ['clone', 'config-update', 'deploy', 'evidence']) {
      const dir = join(ROOT, 'dist', action);
      const entry = readFileSync(join(dir, 'index.js'), 'utf8');
      expect(entry).not.toMatch(LIBRARIES.octokit!);
      expect(entry).not.toMatch(LIBRARIES['@actions/artifact']!);
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'index.js'))
        expect(readFileSync(join(dir, file), 'utf8')).not.toMatch(LIBRARIES['@actions/artifact']!);
    }
    expect(readFileSync(join(ROOT, 'dist', 'evidence', 'upload-worker', 'index.js'), 'utf8')).toMatch(
      LIBRARIES['@actions/artifact']!,
    );
  });

  it('dry runs load none of them, even with a GitHub token given', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: local
    run: echo ok
`);
    expect(
      await loadedLibraries('evidence', { cwd: ws, inputs: { milestone: 'm', 'dry-run': 'true' } }),
    ).toEqual([]);
    expect(
      await loadedLibraries('deploy', {
        inputs: {
          target: 'heroku',
          'heroku-app': 'a',
          'heroku-api-key': 'k',
          'promote-from': 'b',
          'github-token': 'ghs_lazyloadingtoken000000000000000000',
          'dry-run': 'true',
        },
      }),
    ).toEqual([]);
    expect(
      await loadedLibraries('config-update', {
        inputs: { target: 'kamal', urls: `${url}/update`, 'dry-run': 'true' },
      }),
    ).toEqual([]);
  });

  it('a run with a local check loads none; its first http check loads our undici, not Octokit', async () => {
    const local = workspaceWith(`
target: t1
checks:
  - id: local
    run: echo ok
`);
    expect(
      await loadedLibraries('evidence', { cwd: local, inputs: { milestone: 'm', upload: 'false' } }),
    ).toEqual([]);
    const http = workspaceWith(`
target: t1
checks:
  - id: up
    http: ${url}/up
`);
    expect(
      await loadedLibraries('evidence', { cwd: http, inputs: { milestone: 'm', upload: 'false' } }),
    ).toEqual(['undici (ours)']);
  });
});
