import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResultsFake, type ResultsFake, unzipEntries } from '../../sandbox/fakes/results.ts';
import { type BundleRun, ROOT, runBundle } from '../helpers/run-bundle.ts';
import { evidenceFiles, workspaceWith } from './helpers.ts';

/**
 * The evidence upload through the committed bundle: @actions/artifact in its
 * own process against the results fake. A re-run of the job is a new job run
 * of the same workflow run (a new job backend id in a new runtime token), on a
 * fresh runner, meeting whatever the first attempt left under the name.
 */

const YAML = `
target: t1
checks:
  - id: ok
    run: echo fine
`;
const NAME = 'evidence-t1-gates-pass';
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

let results: ResultsFake;
let runBackendId: string;
const tokens: string[] = [];
const jobs: string[] = [];

beforeEach(async () => {
  results = createResultsFake();
  await results.start();
  runBackendId = randomUUID();
  tokens.length = 0;
  jobs.length = 0;
});
afterEach(() => results.stop());

/** One attempt of the job: a fresh workspace, a new job run of the same workflow run. */
async function attempt(
  env: Record<string, string> = {},
  inputs: Record<string, string> = {},
): Promise<{ run: BundleRun; ws: string }> {
  const ws = workspaceWith(YAML);
  const jobBackendId = randomUUID();
  jobs.push(jobBackendId);
  const runtime = results.env({ runBackendId, jobBackendId });
  tokens.push(runtime.ACTIONS_RUNTIME_TOKEN!);
  const run = await runBundle('evidence', {
    cwd: ws,
    env: { OPS_ACTIONS_REQUEST_TIMEOUT: '1', ...runtime, ...env },
    inputs: { milestone: 'gates-pass', ...inputs },
    timeoutMs: 90_000,
  });
  return { run, ws };
}

/** Nothing secret in what a run showed: runtime tokens, and the signatures of the URLs the service handed out. */
function expectNoSecrets(run: BundleRun): void {
  const signatures = results.server.requests
    .filter((r) => r.query.includes('sig='))
    .map((r) => new URLSearchParams(r.query).get('sig')!);
  expect(signatures.length).toBeGreaterThan(0);
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

function expectCleanFailure(run: BundleRun, message: RegExp): void {
  expect(run.code).toBe(1);
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]).toMatch(new RegExp(`^Could not upload artifact ${NAME}: `));
  expect(run.errors[0]).toMatch(message);
  expect(run.stdout + run.stderr).not.toMatch(STACK_LINE);
}

describe('an upload', () => {
  it('uploads the evidence file as evidence-<target>-<milestone>, kept the days asked', async () => {
    const { run, ws } = await attempt({}, { 'retention-days': '5' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const artifact = results.artifact(NAME)!;
    expect(artifact).toMatchObject({ finalized: true, retentionDays: 5, workflowJobRunBackendId: jobs[0] });
    expect(zipNames()).toEqual(evidenceFiles(ws).map((f) => f.name));
    expect(unzipEntries(artifact.bytes).get(evidenceFiles(ws)[0]!.name)!.toString()).toBe(
      evidenceFiles(ws)[0]!.text,
    );
    expect(run.outputs['artifact-id']).toBe(String(artifact.id));
    expect(run.outputs['artifact-name']).toBe(NAME);
    // The client's own lines are in the log, its debug lines are not.
    expect(run.stdout).toContain(`Artifact ${NAME} successfully finalized`);
    expect(run.stdout).not.toContain('::debug::[Request]');
    // The signatures go to the runner as they are, once each; their URI forms never (the runner
    // derives those itself), though the client asked for both.
    const masks = run.stdout.split('\n').filter((l) => l.startsWith('::add-mask::'));
    const signatures = results.server.requests
      .filter((r) => r.query.includes('sig='))
      .map((r) => new URLSearchParams(r.query).get('sig')!);
    for (const sig of new Set(signatures)) {
      expect(encodeURIComponent(sig)).not.toBe(sig);
      expect(masks.filter((m) => m === `::add-mask::${sig}`)).toHaveLength(1);
      expect(masks).not.toContain(`::add-mask::${encodeURIComponent(sig)}`);
    }
    expectNoSecrets(run);
    expect(results.server.violations).toEqual([]);
  }, 60_000);

  it('rides out a 503 on CreateArtifact with the client retry', async () => {
    results.server.inject({ route: 'ArtifactService.CreateArtifact', fault: { status: 503 } });
    const { run } = await attempt({ OPS_ACTIONS_REQUEST_TIMEOUT: '2' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(results.server.received('ArtifactService.CreateArtifact').map((r) => r.status)).toEqual([
      503, 200,
    ]);
    expect(results.artifacts).toHaveLength(1);
  }, 60_000);

  it('confirms a FinalizeArtifact whose answer was lost by listing the artifact', async () => {
    results.server.inject({ route: 'ArtifactService.FinalizeArtifact', fault: { drop: true, after: true } });
    const { run, ws } = await attempt();
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(results.server.received('ArtifactService.ListArtifacts')).toHaveLength(1);
    expect(zipNames()).toEqual(evidenceFiles(ws).map((f) => f.name));
    expect(run.outputs['artifact-id']).toBe(String(results.artifact(NAME)!.id));
    expect(results.server.violations).toEqual([]);
  }, 60_000);
});

describe('the upload deadline', () => {
  it('kills the upload process and fails the step once, and a re-run carries the finalized artifact over', async () => {
    // FinalizeArtifact is done but never answers: @actions/artifact would wait forever.
    results.server.inject({
      route: 'ArtifactService.FinalizeArtifact',
      times: Infinity,
      fault: { hang: true, after: true },
    });
    const first = await attempt();
    // 16 calls × 1 s + three times 128 KiB at 128 KiB/s
    expectCleanFailure(first.run, /not done within 19.0 s, .*the upload process was stopped/);
    expect(results.server.openConnections).toBe(0);
    expect(first.run.log.find((e) => e.step === 'artifact.upload')).toMatchObject({ outcome: 'failed' });
    expect(first.run.outputs.status).toBe('passed');
    expect(first.run.outputs['artifact-id']).toBeUndefined();
    expect(first.run.summary).toContain(`Artifact: ${NAME} — ❌ upload failed`);
    expect(existsSync(join(first.ws, first.run.outputs.file!))).toBe(true);

    results.server.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new file name: its timestamp has seconds
    const rerun = await attempt();
    expect(rerun.run.errors).toEqual([]);
    expect(rerun.run.code).toBe(0);
    expect(zipNames()).toHaveLength(2);
    expect(results.artifacts.filter((a) => a.name === NAME)).toHaveLength(1);
    expectNoSecrets(rerun.run);
    expect(results.server.violations).toEqual([]);
  }, 150_000);
});

describe('a stalled blob upload', () => {
  it('is given up after ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS, well before the upload bound', async () => {
    results.server.inject({ route: 'blob.block', times: Infinity, fault: { hang: true } });
    const { run } = await attempt();
    // 1 s per request + 128 KiB at 128 KiB/s = 2 s of stall allowed; the bound would be 19 s.
    expectCleanFailure(run, /: Upload progress stalled\.$/);
    expect(results.server.openConnections).toBe(0);
    expect(results.artifact(NAME)?.finalized).toBe(false);
  }, 60_000);
});

describe('a re-run after an attempt that uploaded its evidence', () => {
  it('lists and downloads the earlier job artifact, holds both files in an attempt artifact, then replaces the earlier one by its listed ids', async () => {
    const first = await attempt();
    expect(first.run.code).toBe(0);
    const firstId = results.artifact(NAME)!.id;
    const firstFile = evidenceFiles(first.ws)[0]!;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new file name: its timestamp has seconds

    const second = await attempt({ GITHUB_RUN_ATTEMPT: '2' });
    expect(second.run.errors).toEqual([]);
    expect(second.run.code).toBe(0);
    // The earlier job's ids, sent with the second job's token: what the real service answers.
    const earlier = { workflow_run_backend_id: runBackendId, workflow_job_run_backend_id: jobs[0] };
    expect(results.server.received('ArtifactService.GetSignedArtifactURL').map((r) => r.json)).toEqual([
      { ...earlier, name: NAME },
    ]);
    // Created in this order: the attempt artifact holding both files, then the name again.
    expect(
      results.server
        .received('ArtifactService.CreateArtifact')
        .map((r) => [(r.json as { name: string }).name, r.status]),
    ).toEqual([
      [NAME, 200],
      [NAME, 409],
      [`${NAME}-attempt-2`, 200],
      [NAME, 200],
    ]);
    expect(results.server.received('ArtifactService.DeleteArtifact').map((r) => r.json)).toEqual([
      { ...earlier, name: NAME },
      {
        workflow_run_backend_id: runBackendId,
        workflow_job_run_backend_id: jobs[1],
        name: `${NAME}-attempt-2`,
      },
    ]);
    const files = evidenceFiles(second.ws);
    expect(files).toHaveLength(2);
    expect(files.find((f) => f.name === firstFile.name)!.text).toBe(firstFile.text);
    const own = second.run.outputs.file!.split('/').at(-1)!;
    // Entry order is not ours: @actions/artifact adds files as their stats come back (archiver `file`).
    expect(zipNames().sort()).toEqual([own, firstFile.name].sort());
    const artifact = results.artifact(NAME)!;
    expect(artifact.id).not.toBe(firstId);
    expect(artifact.workflowJobRunBackendId).toBe(jobs[1]);
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

const fileOf = (run: BundleRun) => run.outputs.file!.split('/').at(-1)!;

/**
 * A third attempt after one that left `<name>-attempt-2`: it succeeds, the name holds its file
 * and the `earlier` ones once each, and no other finalized artifact is left in the run.
 */
async function thirdAttempt(earlier: string[]): Promise<{ run: BundleRun; ws: string }> {
  await new Promise((resolve) => setTimeout(resolve, 1100)); // a new file name: its timestamp has seconds
  const third = await attempt({ GITHUB_RUN_ATTEMPT: '3' });
  expect(third.run.errors).toEqual([]);
  expect(third.run.code).toBe(0);
  // Entry order is not ours: @actions/artifact adds files as their stats come back (archiver `file`).
  expect(zipNames().sort()).toEqual([fileOf(third.run), ...earlier].sort());
  expect(results.artifacts.filter((a) => a.finalized).map((a) => a.name)).toEqual([NAME]);
  return third;
}

describe('a re-run whose new upload fails after the earlier artifact was deleted', () => {
  it('keeps every file in the attempt artifact and names it in the one error', async () => {
    const first = await attempt();
    expect(first.run.code).toBe(0);
    const firstFile = evidenceFiles(first.ws)[0]!;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new file name: its timestamp has seconds
    // The 4th CreateArtifact is the name again, right after its delete: the service still holds it
    // (users of upload-artifact's `overwrite` meet this 409, openedx/openedx-platform#34985).
    results.server.inject({
      route: 'ArtifactService.CreateArtifact',
      call: 4,
      fault: {
        status: 409,
        json: {
          code: 'already_exists',
          msg: 'an artifact with this name already exists on the workflow run',
        },
      },
    });
    const second = await attempt({ GITHUB_RUN_ATTEMPT: '2' });
    const holding = results.artifact(`${NAME}-attempt-2`)!;
    expect(holding.finalized).toBe(true);
    expectCleanFailure(
      second.run,
      new RegExp(
        `the new artifact ${NAME} could not be uploaded after the earlier one \\(id \\d+\\) was deleted \\(Failed to CreateArtifact: .*\\(409\\) Conflict.*\\); every file of this run's evidence \\(.+\\) is in artifact ${NAME}-attempt-2 \\(id ${holding.id}\\)`,
      ),
    );
    expect(results.artifact(NAME)).toBeUndefined();
    expect([...unzipEntries(holding.bytes).keys()]).toEqual([
      second.run.outputs.file!.split('/').at(-1),
      firstFile.name,
    ]);
    expect(unzipEntries(holding.bytes).get(firstFile.name)!.toString()).toBe(firstFile.text);
    expect(second.run.stdout).toContain(
      `::warning::every file is in artifact ${NAME}-attempt-2 (id ${holding.id}) while ${NAME} is replaced`,
    );
    expect(second.run.outputs.status).toBe('passed');
    expectNoSecrets(second.run);

    // The third attempt finds the attempt artifact, the only copy of the first two files, takes
    // them into the name, and deletes it once the name is finalized holding all three.
    const third = await thirdAttempt([firstFile.name, fileOf(second.run)]);
    expect(
      evidenceFiles(third.ws)
        .map((f) => f.name)
        .sort(),
    ).toEqual(zipNames().sort());
    expect(third.run.stdout).toContain(
      `deleted leftover artifact ${NAME}-attempt-2 (id ${holding.id}), left by an earlier attempt of this run: its 2 files are in ${NAME} (id ${results.artifact(NAME)!.id})`,
    );
    expect(third.run.log.find((e) => e.step === 'artifact.leftover')).toMatchObject({
      outcome: 'ok',
      ids: { artifact: `${NAME}-attempt-2`, id: holding.id, files: 2 },
    });
    expect(third.run.summary).toContain(
      `(3 files: this attempt's and 2 carried over from leftover artifact ${NAME}-attempt-2 (id ${holding.id}))`,
    );
    expect(third.run.summary).toContain(
      `${NAME}-attempt-2, left by an earlier attempt, deleted: its files are in this artifact`,
    );
    expectNoSecrets(third.run);
    expect(results.server.violations).toEqual([]);
  }, 90_000);
});

describe('a re-run after one that replaced the name but could not delete its attempt artifact', () => {
  it('deletes the copy left beside the name, its files once in the new artifact', async () => {
    const first = await attempt();
    expect(first.run.code).toBe(0);
    const firstFile = evidenceFiles(first.ws)[0]!;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // The 2nd DeleteArtifact is the attempt artifact's, after the name was uploaded again; a 403 is
    // not retried by the client (internal/shared/artifact-twirp-client.ts retries 5xx and 429 only).
    results.server.inject({
      route: 'ArtifactService.DeleteArtifact',
      call: 2,
      fault: { status: 403, json: { code: 'permission_denied', msg: 'not allowed' } },
    });
    const second = await attempt({ GITHUB_RUN_ATTEMPT: '2' });
    expect(second.run.code).toBe(0);
    const copy = results.artifact(`${NAME}-attempt-2`)!;
    expect(copy.finalized).toBe(true);
    expect(second.run.stdout).toMatch(
      new RegExp(
        `::warning::artifact ${NAME}-attempt-2 \\(id ${copy.id}\\) holds the same files as ${NAME} and could not be deleted`,
      ),
    );

    const third = await thirdAttempt([firstFile.name, fileOf(second.run)]);
    expect(third.run.stdout).toContain(`deleted leftover artifact ${NAME}-attempt-2 (id ${copy.id})`);
    expect(results.server.violations).toEqual([]);
  }, 90_000);
});

describe('a name taken by an upload that was cut', () => {
  it('fails the re-run with a name conflict, deleting nothing', async () => {
    // CreateArtifact is done and its answer lost: the name is held by a record never finalized.
    results.server.inject({ route: 'ArtifactService.CreateArtifact', fault: { drop: true, after: true } });
    const first = await attempt();
    expectCleanFailure(first.run, /Failed to CreateArtifact: Unable to make request: ECONNRESET/);
    expect(results.artifact(NAME)?.finalized).toBe(false);

    const rerun = await attempt();
    expectCleanFailure(
      rerun.run,
      /: name conflict: the name evidence-t1-gates-pass is taken in this workflow run by an artifact that was never finalized/,
    );
    expect(evidenceFiles(rerun.ws)).toHaveLength(1);
    expect(rerun.run.outputs.status).toBe('passed');
    expect(results.server.received('ArtifactService.DeleteArtifact')).toEqual([]);
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
      expect.stringMatching(
        /^Could not upload artifact evidence-t1-gates-pass: Failed to FinalizeArtifact: .*\(400\)/,
      ),
    ]);
    expect(run.everything).not.toContain(token);
    expect(run.everything).not.toContain(token.split('.')[1]!);
    expect(results.server.violations).toEqual([]);
  }, 60_000);
});

describe('loading', () => {
  const holdsClient = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .some((f) =>
        readFileSync(join(dir, f), 'utf8').includes('github.actions.results.api.v1.ArtifactService'),
      );

  it('keeps @actions/artifact out of the evidence bundle: only the upload process loads it', () => {
    expect(holdsClient(join(ROOT, 'dist', 'evidence'))).toBe(false);
    expect(holdsClient(join(ROOT, 'dist', 'evidence', 'upload-worker'))).toBe(true);
  });

  it('starts no upload process with upload: false', async () => {
    const { run } = await attempt({}, { upload: 'false' });
    expect(run.code).toBe(0);
    expect(results.server.requests).toEqual([]);
    expect(run.summary).toContain('Artifact: not uploaded (upload: false)');
  }, 60_000);
});

describe('outside a GitHub Actions job', () => {
  it('fails the upload naming what is missing, with the evidence written', async () => {
    const ws = workspaceWith(YAML);
    const run = await runBundle('evidence', { cwd: ws, inputs: { milestone: 'gates-pass' } });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        /^Could not upload artifact evidence-t1-gates-pass: ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set/,
      ),
    ]);
    expect(evidenceFiles(ws)).toHaveLength(1);
  });
});
