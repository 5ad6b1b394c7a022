import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createResultsFake,
  forgeRuntimeToken,
  type ResultsFake,
  TWIRP_SERVICE,
  unzipEntries,
} from '../../sandbox/fakes/results.ts';

const RUN = 'ce7f54c7-61c7-4aae-887f-30da475f5f1a';
const JOB = 'ca395085-040a-526b-2ce8-bdc85f692774';
const ENV_KEYS = [
  'ACTIONS_RESULTS_URL',
  'ACTIONS_RUNTIME_TOKEN',
  'GITHUB_SERVER_URL',
  'GITHUB_RETENTION_DAYS',
];

let fake: ResultsFake;
let dir: string;
let saved: Record<string, string | undefined>;

beforeEach(async () => {
  fake = createResultsFake();
  await fake.start();
  dir = await mkdtemp(join(tmpdir(), 'results-fake-'));
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, fake.env({ runBackendId: RUN, jobBackendId: JOB }));
});

afterEach(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

async function files(): Promise<string[]> {
  await mkdir(join(dir, 'logs'));
  const evidence = join(dir, 'evidence.md');
  const log = join(dir, 'logs', 'ops.jsonl');
  await writeFile(evidence, '# Evidence\n\n- disk: ok\n'.repeat(50));
  await writeFile(log, `${JSON.stringify({ step: 'observe', outcome: 'ok' })}\n`);
  return [evidence, log];
}

function twirp(method: string, body: unknown, token = process.env.ACTIONS_RUNTIME_TOKEN!) {
  return fetch(`${fake.url}/twirp/${TWIRP_SERVICE}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

describe('results service fake with the real @actions/artifact client', () => {
  it('stores exactly the zip the client uploads, with retention', async () => {
    const client = new DefaultArtifactClient();
    const result = await client.uploadArtifact('evidence', await files(), dir, { retentionDays: 5 });

    const stored = fake.artifact('evidence')!;
    expect(stored).toMatchObject({
      finalized: true,
      workflowRunBackendId: RUN,
      workflowJobRunBackendId: JOB,
      retentionDays: 5,
      mimeType: 'application/zip',
    });
    expect(result.id).toBe(stored.id);
    expect(result.size).toBe(stored.bytes.length);
    expect(stored.size).toBe(stored.bytes.length);
    expect(stored.digest).toBe(`sha256:${createHash('sha256').update(stored.bytes).digest('hex')}`);
    expect(result.digest).toBe(stored.digest!.slice('sha256:'.length));
    expect(Date.parse(stored.expiresAt!) - Date.now()).toBeGreaterThan(4.9 * 86_400_000);

    const entries = unzipEntries(stored.bytes);
    expect([...entries.keys()].sort()).toEqual(['evidence.md', 'logs/ops.jsonl']);
    expect(entries.get('evidence.md')!.toString()).toBe('# Evidence\n\n- disk: ok\n'.repeat(50));
    expect(JSON.parse(entries.get('logs/ops.jsonl')!.toString())).toEqual({ step: 'observe', outcome: 'ok' });

    const blocks = fake.server.received('blob.block');
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    expect(fake.server.received('blob.blocklist')).toHaveLength(1);
    expect(fake.server.received('ArtifactService.CreateArtifact')[0]!.json).toMatchObject({
      workflow_run_backend_id: RUN,
      name: 'evidence',
      version: 7,
    });
    expect(fake.server.violations).toEqual([]);
  });

  it('lists, finds and deletes through the client', async () => {
    const client = new DefaultArtifactClient();
    await client.uploadArtifact('evidence', await files(), dir);
    expect(fake.artifact('evidence')!.retentionDays).toBeUndefined();
    const { artifacts } = await client.listArtifacts();
    expect(artifacts.map((a) => a.name)).toEqual(['evidence']);
    const { artifact } = await client.getArtifact('evidence');
    expect(artifact.size).toBe(fake.artifact('evidence')!.bytes.length);
    await client.deleteArtifact('evidence');
    expect(fake.artifacts).toEqual([]);
  });

  it('refuses a second artifact of the same name in the run with already_exists', async () => {
    const client = new DefaultArtifactClient();
    const paths = await files();
    await client.uploadArtifact('evidence', paths, dir);
    await expect(client.uploadArtifact('evidence', paths, dir)).rejects.toThrow(/409.*already exists/);
  });
});

describe('across jobs of one run, as the official client sends it', () => {
  // A re-run is a new job of the same run: job A uploaded, job B (same run, its own token) finds,
  // downloads and deletes A's artifact. The requests are the official client's, recorded by the fake.
  const JOB_B = '5a1b0c2d-0000-4000-8000-00000000000b';

  async function uploadAsJobA(): Promise<number> {
    const client = new DefaultArtifactClient();
    const { id } = await client.uploadArtifact('evidence', await files(), dir, { retentionDays: 3 });
    Object.assign(process.env, fake.env({ runBackendId: RUN, jobBackendId: JOB_B }));
    return id!;
  }

  it("downloads an earlier job's artifact with the listed ids, while its token is its own", async () => {
    const id = await uploadAsJobA();
    const client = new DefaultArtifactClient();
    const { artifact } = await client.getArtifact('evidence');
    expect(artifact.id).toBe(id);
    const into = join(dir, 'download');
    await client.downloadArtifact(artifact.id, { path: into });
    expect(await readFile(join(into, 'evidence.md'), 'utf8')).toBe('# Evidence\n\n- disk: ok\n'.repeat(50));

    const lists = fake.server.received('ArtifactService.ListArtifacts').map((r) => r.json);
    expect(lists).toEqual([
      { workflow_run_backend_id: RUN, workflow_job_run_backend_id: JOB_B, name_filter: 'evidence' },
      { workflow_run_backend_id: RUN, workflow_job_run_backend_id: JOB_B, id_filter: String(id) },
    ]);
    const signed = fake.server.received('ArtifactService.GetSignedArtifactURL');
    expect(signed.map((r) => r.json)).toEqual([
      { workflow_run_backend_id: RUN, workflow_job_run_backend_id: JOB, name: 'evidence' },
    ]);
    expect(scopeOf(signed[0]!.headers.authorization!)).toBe(`Actions.Results:${RUN}:${JOB_B}`);
    expect(fake.server.received('blob.get')).toHaveLength(1);
    expect(fake.server.violations).toEqual([]);
  });

  it("deletes an earlier job's artifact with the listed ids", async () => {
    await uploadAsJobA();
    await new DefaultArtifactClient().deleteArtifact('evidence');
    const deletes = fake.server.received('ArtifactService.DeleteArtifact');
    expect(deletes.map((r) => r.json)).toEqual([
      { workflow_run_backend_id: RUN, workflow_job_run_backend_id: JOB, name: 'evidence' },
    ]);
    expect(scopeOf(deletes[0]!.headers.authorization!)).toBe(`Actions.Results:${RUN}:${JOB_B}`);
    expect(fake.artifacts).toEqual([]);
    expect(fake.server.violations).toEqual([]);
  });

  it("finds nothing when a job sends its own ids for an earlier job's artifact", async () => {
    await uploadAsJobA();
    for (const method of ['GetSignedArtifactURL', 'DeleteArtifact']) {
      const res = await twirp(method, {
        workflow_run_backend_id: RUN,
        workflow_job_run_backend_id: JOB_B,
        name: 'evidence',
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('not_found');
    }
    expect(fake.artifact('evidence')?.finalized).toBe(true);
    expect(fake.server.violations).toEqual([]);
  });

  it("keeps the name taken for the run, across jobs, and refuses another run's ids", async () => {
    await uploadAsJobA();
    await expect(new DefaultArtifactClient().uploadArtifact('evidence', await files2(), dir)).rejects.toThrow(
      /\(409\) Conflict: an artifact with this name already exists on the workflow run/,
    );
    const other = await twirp('ListArtifacts', {
      workflow_run_backend_id: 'another-run',
      workflow_job_run_backend_id: JOB_B,
    });
    expect(other.status).toBe(403);
  });

  it('lists a record never finalized nowhere, yet it holds the name', async () => {
    const created = await twirp('CreateArtifact', {
      workflow_run_backend_id: RUN,
      workflow_job_run_backend_id: JOB,
      name: 'cut',
      version: 7,
    });
    expect(created.status).toBe(200);
    Object.assign(process.env, fake.env({ runBackendId: RUN, jobBackendId: JOB_B }));
    const client = new DefaultArtifactClient();
    expect((await client.listArtifacts()).artifacts).toEqual([]);
    await expect(client.getArtifact('cut')).rejects.toThrow(/Artifact not found/);
    await expect(client.uploadArtifact('cut', await files2(), dir)).rejects.toThrow(/\(409\)/);
  });
});

function scopeOf(authorization: string): string | undefined {
  const claims = JSON.parse(Buffer.from(authorization.split('.')[1]!, 'base64url').toString()) as {
    scp: string;
  };
  return claims.scp.split(' ').find((s) => s.startsWith('Actions.Results:'));
}

async function files2(): Promise<string[]> {
  const path = join(dir, 'second.md');
  await writeFile(path, '# second attempt\n');
  return [path];
}

describe('results service contract', () => {
  it('refuses backend ids that are not the token scope and records the violation', async () => {
    const res = await twirp('CreateArtifact', {
      workflow_run_backend_id: 'someone-else',
      workflow_job_run_backend_id: JOB,
      name: 'x',
      version: 7,
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ code: 'permission_denied', msg: expect.any(String) });
    expect(fake.server.violations[0]!.problems).toEqual(['backend ids differ from the token scope']);
  });

  it('refuses a token without the Actions.Results scope, and malformed fields', async () => {
    const noScope = `${Buffer.from('{}').toString('base64url')}.${Buffer.from(JSON.stringify({ scp: 'Actions.GenericRead:1' })).toString('base64url')}.`;
    expect(
      (
        await twirp(
          'ListArtifacts',
          { workflow_run_backend_id: RUN, workflow_job_run_backend_id: JOB },
          noScope,
        )
      ).status,
    ).toBe(401);
    const bad = await twirp('CreateArtifact', {
      workflow_run_backend_id: RUN,
      workflow_job_run_backend_id: JOB,
      version: '7',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('invalid_argument');
    expect(fake.server.violations.at(-1)!.problems).toEqual(['name is required', 'version is not a int32']);
  });

  it('refuses blob writes without the signature it issued', async () => {
    const created = await twirp('CreateArtifact', {
      workflow_run_backend_id: RUN,
      workflow_job_run_backend_id: JOB,
      name: 'x',
      version: 7,
    });
    const { signed_upload_url } = (await created.json()) as { signed_upload_url: string };
    const forged = new URL(signed_upload_url);
    forged.searchParams.set('sig', 'forged');
    const res = await fetch(forged, {
      method: 'PUT',
      headers: { 'x-ms-version': '2025-05-05', 'x-ms-blob-type': 'BlockBlob' },
      body: 'zip',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-ms-error-code')).toBe('AuthenticationFailed');
    const ok = await fetch(signed_upload_url, {
      method: 'PUT',
      headers: { 'x-ms-version': '2025-05-05', 'x-ms-blob-type': 'BlockBlob' },
      body: 'zip',
    });
    expect(ok.status).toBe(201);
    const fin = await twirp('FinalizeArtifact', {
      workflow_run_backend_id: RUN,
      workflow_job_run_backend_id: JOB,
      name: 'x',
      size: '3',
    });
    expect(await fin.json()).toMatchObject({ ok: true });
    expect(fake.artifact('x')!.bytes.toString()).toBe('zip');
  });

  it('forges a token whose scp the client understands', () => {
    const token = forgeRuntimeToken({ runBackendId: 'r', jobBackendId: 'j' });
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { scp: string };
    expect(claims.scp.split(' ')).toContain('Actions.Results:r:j');
  });
});
