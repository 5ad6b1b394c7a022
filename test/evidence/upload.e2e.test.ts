import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from '../../sandbox/fake-server.ts';
import { createResultsFake, type ResultsFake, unzipEntries } from '../../sandbox/fakes/results.ts';
import { type BundleRun, runBundle } from '../helpers/run-bundle.ts';
import { evidenceFiles, workspaceWith } from './helpers.ts';

/**
 * The upload under faults that no retry absorbs, through the committed bundle:
 * the step fails cleanly within its bounds with the evidence written, and a
 * re-run of the job — a new job run of the same workflow run, on a fresh
 * runner — finishes the upload over whatever the first attempt left.
 */

const YAML = `
target: t1
checks:
  - id: ok
    run: echo fine
`;
const NAME = 'evidence-t1-gates-pass';
const BLOB_PUT = 'PUT /devstoreaccount1/actions-results/:blob';
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

let results: ResultsFake;
let runBackendId: string;
const tokens: string[] = [];

beforeEach(async () => {
  results = createResultsFake();
  await results.start();
  runBackendId = randomUUID();
  tokens.length = 0;
});
afterEach(() => results.stop());

/** One attempt of the job: a fresh workspace, a new job run of the same workflow run. */
async function attempt(env: Record<string, string> = {}): Promise<{ run: BundleRun; ws: string }> {
  const ws = workspaceWith(YAML);
  const runtime = results.env({ runBackendId });
  tokens.push(runtime.ACTIONS_RUNTIME_TOKEN!);
  const run = await runBundle('evidence', {
    cwd: ws,
    env: { OPS_ACTIONS_REQUEST_TIMEOUT: '1', ...runtime, ...env },
    inputs: { milestone: 'gates-pass' },
    timeoutMs: 90_000,
  });
  return { run, ws };
}

/** Nothing secret in what a run showed: runtime tokens, and the signatures of the URLs the service handed out. */
function expectNoSecrets(run: BundleRun): void {
  const signatures = results.server.requests
    .filter((r) => r.query.includes('sig='))
    .map((r) => new URLSearchParams(r.query).get('sig')!);
  for (const secret of [...tokens, ...signatures]) {
    expect(run.everything.includes(secret)).toBe(false);
    expect(run.everything.includes(encodeURIComponent(secret))).toBe(false);
  }
}

function zipNames(): string[] {
  const artifact = results.artifact(NAME);
  expect(artifact?.finalized).toBe(true);
  return [...unzipEntries(artifact!.bytes).keys()];
}

describe('an upload that no retry saves fails cleanly, and a re-run of the job finishes it', () => {
  const cases: [label: string, route: string, fault: Fault, leftover: boolean][] = [
    // (b) the request is handled, its answer lost: the name is taken by an artifact never finalized
    ['every CreateArtifact answer lost', 'ArtifactService.CreateArtifact', { drop: true, after: true }, true],
    // (a) hangs: each attempt is cut at OPS_ACTIONS_REQUEST_TIMEOUT instead of waiting forever
    [
      'every CreateArtifact hangs after it was handled',
      'ArtifactService.CreateArtifact',
      { hang: true, after: true },
      true,
    ],
    ['every blob PUT hangs', BLOB_PUT, { hang: true }, true],
    [
      'every FinalizeArtifact hangs before it is handled',
      'ArtifactService.FinalizeArtifact',
      { hang: true },
      true,
    ],
    ['every CreateArtifact answers 503', 'ArtifactService.CreateArtifact', { status: 503 }, false],
  ];

  it.each(cases)(
    '%s',
    async (_, route, fault, leftover) => {
      results.server.inject({ route, times: Infinity, fault });
      const started = performance.now();
      const first = await attempt();
      const elapsed = performance.now() - started;

      expect(first.run.code).toBe(1);
      expect(first.run.errors).toHaveLength(1);
      expect(first.run.errors[0]).toMatch(new RegExp(`^artifact\\.upload failed for ${NAME}: `));
      expect(first.run.stdout + first.run.stderr).not.toMatch(STACK_LINE);
      // Four attempts of one second and their backoff, far below any hang.
      expect(elapsed).toBeLessThan(45_000);
      // Failing evidence is evidence: written, announced, summarised.
      expect(evidenceFiles(first.ws)).toHaveLength(1);
      expect(first.run.outputs.file).toMatch(/^docs\/evidence\/.+\.md$/);
      expect(existsSync(join(first.ws, first.run.outputs.file!))).toBe(true);
      expect(first.run.outputs.status).toBe('passed');
      expect(first.run.outputs['artifact-id']).toBeUndefined();
      expect(first.run.summary).toContain(`Artifact: ${NAME} — ❌ upload failed`);
      expect(first.run.log.find((e) => e.step === 'artifact.upload')).toMatchObject({ outcome: 'failed' });
      expect(results.artifact(NAME)?.finalized ?? false).toBe(false);
      expect(results.artifact(NAME) !== undefined).toBe(leftover);
      expectNoSecrets(first.run);

      results.server.clearFaults();
      const rerun = await attempt();
      expect(rerun.run.errors).toEqual([]);
      expect(rerun.run.code).toBe(0);
      expect(zipNames()).toEqual(evidenceFiles(rerun.ws).map((f) => f.name));
      expect(results.artifacts.filter((a) => a.name === NAME)).toHaveLength(1);
      expect(rerun.run.outputs['artifact-id']).toBe(String(results.artifact(NAME)!.id));
      const deletes = results.server.received('ArtifactService.DeleteArtifact');
      expect(deletes).toHaveLength(leftover ? 1 : 0);
      if (leftover) {
        expect(rerun.run.stdout).toMatch(
          /::warning::artifact evidence-t1-gates-pass exists in this run but was never finalized/,
        );
        expect(rerun.run.log.find((e) => e.step === 'artifact.conflict')).toMatchObject({
          outcome: 'retried',
        });
      }
      expectNoSecrets(rerun.run);
      expect(results.server.violations).toEqual([]);
    },
    120_000,
  );
});

describe('uploads that recover within the run', () => {
  it('a FinalizeArtifact whose answer never comes is confirmed by listing the artifact', async () => {
    results.server.inject({
      route: 'ArtifactService.FinalizeArtifact',
      times: Infinity,
      fault: { hang: true, after: true },
    });
    const { run, ws } = await attempt();
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(results.server.received('ArtifactService.FinalizeArtifact').length).toBeGreaterThan(1);
    expect(results.server.received('ArtifactService.ListArtifacts')).toHaveLength(1);
    expect(zipNames()).toEqual(evidenceFiles(ws).map((f) => f.name));
    expect(run.outputs['artifact-id']).toBe(String(results.artifact(NAME)!.id));
    expect(results.server.violations).toEqual([]);
  }, 60_000);

  it('a CreateArtifact answer lost once: the retry meets its own leftover, clears it, and uploads once', async () => {
    results.server.inject({ route: 'ArtifactService.CreateArtifact', fault: { drop: true, after: true } });
    const { run } = await attempt();
    expect(run.code).toBe(0);
    expect(
      results.server.received('ArtifactService.CreateArtifact').map((r) => r.handledStatus ?? r.status),
    ).toEqual([200, 409, 200]);
    expect(results.server.received('ArtifactService.DeleteArtifact')).toHaveLength(1);
    expect(results.artifacts).toHaveLength(1);
    expect(results.server.violations).toEqual([]);
  }, 60_000);
});

describe('a re-run after an attempt that uploaded its evidence', () => {
  it('keeps the earlier evidence: the new artifact holds both files, written back to the workspace too', async () => {
    const first = await attempt();
    expect(first.run.code).toBe(0);
    const firstId = results.artifact(NAME)!.id;
    const firstFile = evidenceFiles(first.ws)[0]!;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new file name: its timestamp has seconds

    const second = await attempt();
    expect(second.run.errors).toEqual([]);
    expect(second.run.code).toBe(0);
    const files = evidenceFiles(second.ws);
    expect(files.map((f) => f.name)).toContain(firstFile.name);
    expect(files).toHaveLength(2);
    expect(files.find((f) => f.name === firstFile.name)!.text).toBe(firstFile.text);
    const own = second.run.outputs.file!.split('/').at(-1)!;
    expect(zipNames()).toEqual([own, firstFile.name]);
    const artifact = results.artifact(NAME)!;
    expect(artifact.id).not.toBe(firstId);
    expect(second.run.outputs['artifact-id']).toBe(String(artifact.id));
    expect(second.run.stdout).toMatch(
      new RegExp(`::warning::artifact ${NAME} \\(id ${firstId}, .+\\) already holds evidence of this run`),
    );
    expect(second.run.summary).toContain(
      `(2 files: this attempt's and 1 carried over from artifact ${firstId}`,
    );
    expect(results.artifacts.filter((a) => a.name === NAME)).toHaveLength(1);
    expectNoSecrets(second.run);
    expect(results.server.violations).toEqual([]);
  }, 60_000);
});

describe('secrets in what the results service sends back', () => {
  it('an error body echoing the runtime token reaches no output', async () => {
    const runtime = results.env({ runBackendId });
    const token = runtime.ACTIONS_RUNTIME_TOKEN!;
    results.server.inject({
      route: 'ArtifactService.FinalizeArtifact',
      times: Infinity,
      fault: { status: 400, json: { code: 'invalid_argument', msg: `token ${token} is not valid here` } },
    });
    const ws = workspaceWith(YAML);
    const run = await runBundle('evidence', { cwd: ws, env: runtime, inputs: { milestone: 'gates-pass' } });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(/^artifact\.upload failed for evidence-t1-gates-pass: .*HTTP 400/),
    ]);
    expect(run.everything).not.toContain(token);
    expect(run.everything).not.toContain(token.split('.')[1]!);
    expect(results.server.violations).toEqual([]);
  }, 60_000);
});

describe('outside a GitHub Actions job', () => {
  it('fails the upload naming what is missing, with the evidence written', async () => {
    const ws = workspaceWith(YAML);
    const run = await runBundle('evidence', { cwd: ws, inputs: { milestone: 'gates-pass' } });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        /^artifact\.upload failed for evidence-t1-gates-pass: ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set/,
      ),
    ]);
    expect(evidenceFiles(ws)).toHaveLength(1);
  });
});
