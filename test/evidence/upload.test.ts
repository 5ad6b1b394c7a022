import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createResultsFake,
  unzipEntries as fakeUnzip,
  type ResultsFake,
} from '../../sandbox/fakes/results.ts';
import { ApiError } from '../../src/core/errors.ts';
import {
  backendIdsFromToken,
  createResultsService,
  type ListedArtifact,
  type ResultsService,
} from '../../src/evidence/results-service.ts';
import {
  blobTimeoutMs,
  carryOver,
  expiryOf,
  uploadBoundMs,
  uploadEvidence,
} from '../../src/evidence/upload.ts';
import { unzipEntries, type ZipEntry, zipEntries } from '../../src/evidence/zip.ts';

interface Archive {
  pipe(out: NodeJS.WritableStream): void;
  append(data: string | Buffer, o: { name: string }): void;
  finalize(): Promise<void>;
}

const T0 = new Date('2025-03-04T05:06:08Z');
const entry = (name: string, text: string): ZipEntry => ({ name, bytes: Buffer.from(text), modified: T0 });

describe('evidence zip', () => {
  const cases: [string, ZipEntry[]][] = [
    ['one Markdown file', [entry('20250304T050608Z-t1-gates-pass.md', '# Evidence\n'.repeat(200))]],
    [
      'several files, one empty, one incompressible',
      [
        entry('a.md', 'alpha\n'),
        entry('empty.md', ''),
        {
          name: 'noise.bin',
          bytes: Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 151) % 256)),
          modified: T0,
        },
      ],
    ],
    ['a UTF-8 name and content', [entry('évidence-ü.md', 'über — ✅\n')]],
  ];

  it.each(cases)('%s: our reader, the fake reader and unzip all read back what was written', (_, entries) => {
    const zip = zipEntries(entries);
    const back = unzipEntries(zip);
    expect(back.map((e) => [e.name, e.bytes.toString('base64'), e.modified.toISOString()])).toEqual(
      entries.map((e) => [e.name, e.bytes.toString('base64'), T0.toISOString()]),
    );
    const viaFake = fakeUnzip(zip);
    expect([...viaFake.keys()]).toEqual(entries.map((e) => e.name));
    const dir = mkdtempSync(join(tmpdir(), 'evidence-zip-'));
    writeFileSync(join(dir, 'a.zip'), zip);
    expect(execFileSync('unzip', ['-t', join(dir, 'a.zip')], { encoding: 'utf8' })).toContain(
      'No errors detected',
    );
  });

  it('reads a zip written by archiver, as actions/upload-artifact writes them', async () => {
    // archiver (what @actions/artifact zips with) ships no types; only these calls are used.
    const specifier = 'archiver';
    const { default: archiver } = (await import(specifier)) as {
      default: (format: string, o: object) => Archive;
    };
    const archive = archiver('zip', { zlib: { level: 6 } });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((resolve) => out.on('end', resolve));
    archive.pipe(out);
    archive.append('written by upload-artifact\n', { name: 'old.md' });
    archive.append(Buffer.alloc(0), { name: 'dir/' });
    await archive.finalize();
    await done;
    const back = unzipEntries(Buffer.concat(chunks));
    expect(back.map((e) => [e.name, e.bytes.toString()])).toEqual([
      ['old.md', 'written by upload-artifact\n'],
    ]);
  });

  it('refuses what is not a zip, and a corrupt entry', () => {
    expect(() => unzipEntries(Buffer.from('# just markdown\n'))).toThrow(/not a zip/);
    const zip = zipEntries([entry('a.md', 'stored text that will be flipped')]);
    const flipped = Buffer.from(zip);
    flipped[40] = flipped[40]! ^ 0xff;
    expect(() => unzipEntries(flipped)).toThrow(/a\.md/);
  });
});

describe('upload bounds', () => {
  it.each([
    // bytes, request timeout → whole bound, blob attempt timeout
    [4_000, 30_000, 120_000 + 180_000 + 60_000, 30_000 + 31],
    [0, 2_000, 120_000 + 12_000, 2_000],
    [3 * 1024 * 1024, 30_000, 120_000 + 180_000 + 180_000, 30_000 + 24_000],
  ])(
    '%i bytes with %i ms per request: %i ms in all, %i ms per blob attempt',
    (bytes, request, bound, blob) => {
      expect(uploadBoundMs(bytes, request)).toBe(bound);
      expect(blobTimeoutMs(bytes, request)).toBe(blob);
    },
  );

  it.each([
    [undefined, {}, undefined, undefined],
    [7, {}, 7, undefined],
    [30, { GITHUB_RETENTION_DAYS: '10' }, 10, 10],
    [5, { GITHUB_RETENTION_DAYS: '10' }, 5, undefined],
    [5, { GITHUB_RETENTION_DAYS: 'soon' }, 5, undefined],
  ])('retention %s with %o: %s days, capped %s', (days, env, expected, capped) => {
    const { expiresAt, cappedTo } = expiryOf(days, env, T0);
    expect(expiresAt && (expiresAt.getTime() - T0.getTime()) / 86_400_000).toBe(expected);
    expect(cappedTo).toBe(capped);
  });
});

describe('carrying earlier files over', () => {
  const own = entry('2.md', 'second');
  it.each<[string, ZipEntry[], string[]]>([
    ['no earlier files', [], ['2.md']],
    ['an earlier attempt', [entry('1.md', 'first')], ['2.md', '1.md']],
    ['the same file again (a lost finalize answer)', [entry('2.md', 'second')], ['2.md']],
    ['an earlier file of the same name, other content', [entry('2.md', 'other')], ['2.md', '2.earlier-1.md']],
    [
      'two earlier files clashing',
      [entry('2.md', 'other'), entry('2.md', 'third')],
      ['2.md', '2.earlier-1.md', '2.earlier-2.md'],
    ],
  ])('%s', (_, earlier, names) => {
    expect(carryOver(own, earlier).map((e) => e.name)).toEqual(names);
  });
});

/** A results service in memory, whose calls can be scripted to fail. */
function stubService(options: {
  taken?: number;
  existing?: { listed: ListedArtifact; zip: Buffer };
  finalize?: () => number;
  listedAfterFinalize?: (size: number, digest: string) => ListedArtifact | undefined;
  undeletable?: boolean;
}): ResultsService & { calls: string[] } {
  const calls: string[] = [];
  let taken = options.taken ?? 0;
  let uploaded: { size: number; digest: string } | undefined;
  return {
    calls,
    ids: { run: 'r', job: 'j' },
    async create(name) {
      calls.push(`create ${name}`);
      if (taken > 0) {
        taken--;
        return { created: false, reason: 'an artifact with this name already exists on the workflow run' };
      }
      return { created: true, uploadUrl: 'https://blob.test/x?sig=s' };
    },
    async putBlob(_url, bytes) {
      calls.push(`put ${bytes.length}`);
    },
    async finalize(_name, size, digest) {
      calls.push('finalize');
      uploaded = { size, digest };
      return options.finalize ? options.finalize() : 77;
    },
    async find() {
      calls.push('find');
      if (uploaded) return options.listedAfterFinalize?.(uploaded.size, uploaded.digest);
      return options.existing?.listed;
    },
    async download() {
      calls.push('download');
      return options.existing!.zip;
    },
    async delete() {
      calls.push('delete');
      return !options.undeletable;
    },
  };
}

function evidenceFile(): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-upload-'));
  const file = join(dir, '20250304T050608Z-t1-gates-pass.md');
  writeFileSync(file, '# Evidence: t1 — gates-pass\n');
  return { file, dir };
}

describe('uploadEvidence decisions', () => {
  const request = (file: string, dir: string) => ({
    file,
    name: 'evidence-t1-gates-pass',
    retentionDays: undefined,
    outputDir: dir,
    blobTimeoutMs: 1000,
  });

  it('uploads a zip of the file when the name is free', async () => {
    const { file, dir } = evidenceFile();
    const service = stubService({});
    const notes: string[] = [];
    const up = await uploadEvidence(service, request(file, dir), (l) => notes.push(l));
    expect(service.calls).toEqual(['create evidence-t1-gates-pass', `put ${up.size}`, 'finalize']);
    expect(up).toMatchObject({ id: 77, files: ['20250304T050608Z-t1-gates-pass.md'], reclaimed: false });
    expect(notes).toEqual([]);
  });

  it('deletes a never-finalized leftover of the name, then uploads', async () => {
    const { file, dir } = evidenceFile();
    const service = stubService({ taken: 1 });
    const notes: string[] = [];
    const up = await uploadEvidence(service, request(file, dir), (l) => notes.push(l));
    expect(service.calls.slice(0, 4)).toEqual([
      'create evidence-t1-gates-pass',
      'find',
      'delete',
      'create evidence-t1-gates-pass',
    ]);
    expect(up.reclaimed).toBe(true);
    expect(notes).toEqual([expect.stringContaining('never finalized')]);
  });

  it('carries the files of a finalized artifact of the run into the new one, and writes them back', async () => {
    const { file, dir } = evidenceFile();
    const earlier = entry('20250304T040000Z-t1-gates-pass.md', '# Evidence of attempt 1\n');
    const listed: ListedArtifact = {
      id: 41,
      name: 'evidence-t1-gates-pass',
      size: 10,
      createdAt: '2025-03-04T04:00:01Z',
      digest: 'sha256:00',
    };
    const service = stubService({ taken: 1, existing: { listed, zip: zipEntries([earlier]) } });
    const notes: string[] = [];
    const up = await uploadEvidence(service, request(file, dir), (l) => notes.push(l));
    expect(service.calls.slice(0, 4)).toEqual([
      'create evidence-t1-gates-pass',
      'find',
      'download',
      'delete',
    ]);
    expect(up.files).toEqual(['20250304T050608Z-t1-gates-pass.md', earlier.name]);
    expect(up.replaced?.id).toBe(41);
    expect(readFileSync(join(dir, earlier.name), 'utf8')).toBe('# Evidence of attempt 1\n');
    expect(notes).toEqual([expect.stringMatching(/id 41.*already holds evidence of this run/)]);
  });

  it('leaves an existing artifact it cannot read alone and says so', async () => {
    const { file, dir } = evidenceFile();
    const listed: ListedArtifact = {
      id: 5,
      name: 'evidence-t1-gates-pass',
      size: 3,
      createdAt: undefined,
      digest: undefined,
    };
    const service = stubService({ taken: 1, existing: { listed, zip: Buffer.from('raw') } });
    await expect(uploadEvidence(service, request(file, dir), () => {})).rejects.toThrow(
      /id 5\) already exists in this run and is not an evidence zip.*left as it is/,
    );
    expect(service.calls).not.toContain('delete');
    expect(readdirSync(dir)).toEqual(['20250304T050608Z-t1-gates-pass.md']);
  });

  it('says so when a never-finalized leftover cannot be deleted, and does not loop', async () => {
    const { file, dir } = evidenceFile();
    const service = stubService({ taken: 99, undeletable: true });
    await expect(uploadEvidence(service, request(file, dir), () => {})).rejects.toThrow(
      /never finalized, which the results service neither lists nor deletes/,
    );
    expect(service.calls).toEqual(['create evidence-t1-gates-pass', 'find', 'delete']);
  });

  it('gives up when the name stays taken (another job racing for it)', async () => {
    const { file, dir } = evidenceFile();
    const service = stubService({ taken: 99 });
    await expect(uploadEvidence(service, request(file, dir), () => {})).rejects.toThrow(
      /still taken after 3 rounds.*another job/,
    );
    expect(service.calls.filter((c) => c === 'delete')).toHaveLength(3);
  });

  it.each([
    ['listed with our digest: done', true, 12],
    ['not listed: the finalize error stands', false, undefined],
  ])('a finalize refused after its answer was lost, %s', async (_, listedOk, id) => {
    const { file, dir } = evidenceFile();
    const refusal = new ApiError({
      provider: 'GitHub results service',
      operation: 'FinalizeArtifact',
      status: 400,
      retryable: false,
      attempts: 2,
    });
    const service = stubService({
      finalize: () => {
        throw refusal;
      },
      listedAfterFinalize: (size, digest) =>
        listedOk ? { id: 12, name: 'evidence-t1-gates-pass', size, createdAt: undefined, digest } : undefined,
    });
    const outcome = uploadEvidence(service, request(file, dir), () => {});
    if (id === undefined) await expect(outcome).rejects.toBe(refusal);
    else expect((await outcome).id).toBe(id);
  });
});

describe('results service client against the fake', () => {
  let results: ResultsFake;
  beforeEach(async () => {
    results = createResultsFake();
    await results.start();
  });
  afterEach(() => results.stop());

  it('reads the backend ids from the runtime token, and refuses a token without them', () => {
    const env = results.env({ runBackendId: 'run-1', jobBackendId: 'job-1' });
    expect(backendIdsFromToken(env.ACTIONS_RUNTIME_TOKEN!)).toEqual({ run: 'run-1', job: 'job-1' });
    expect(() => backendIdsFromToken('not.a.token')).toThrow(/Actions\.Results scope/);
  });

  it('cuts a hung CreateArtifact at the overall bound even when the per-request timeout is longer', async () => {
    const env = results.env();
    results.server.inject({
      route: 'ArtifactService.CreateArtifact',
      times: Infinity,
      fault: { hang: true },
    });
    const { file, dir } = evidenceFile();
    const signal = AbortSignal.timeout(800);
    const service = createResultsService({
      resultsUrl: env.ACTIONS_RESULTS_URL!,
      runtimeToken: env.ACTIONS_RUNTIME_TOKEN!,
      redact: (t) => t,
      signal,
      env: { OPS_ACTIONS_REQUEST_TIMEOUT: '30' },
    });
    const started = performance.now();
    await expect(
      uploadEvidence(
        service,
        {
          file,
          name: 'evidence-t1-gates-pass',
          retentionDays: undefined,
          outputDir: dir,
          blobTimeoutMs: 30_000,
        },
        () => {},
      ),
    ).rejects.toThrow(/CreateArtifact failed: cancelled/);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(signal.aborted).toBe(true);
    expect(results.server.received('ArtifactService.CreateArtifact')).toHaveLength(1);
    expect(results.server.violations).toEqual([]);
  });

  it('uploads, finds, downloads and deletes with requests the contract accepts, masking the signatures', async () => {
    const env = results.env();
    const secrets: string[] = [];
    const service = createResultsService({
      resultsUrl: env.ACTIONS_RESULTS_URL!,
      runtimeToken: env.ACTIONS_RUNTIME_TOKEN!,
      redact: (t) => t,
      onSecret: (s) => secrets.push(s),
    });
    const { file, dir } = evidenceFile();
    const up = await uploadEvidence(
      service,
      { file, name: 'e-1', retentionDays: 3, outputDir: dir, blobTimeoutMs: 5_000 },
      () => {},
    );
    const stored = results.artifact('e-1')!;
    expect(stored).toMatchObject({
      id: up.id,
      finalized: true,
      retentionDays: 3,
      mimeType: 'application/zip',
    });
    expect(stored.digest).toBe(up.digest);
    expect((await service.find('e-1'))?.id).toBe(up.id);
    expect(unzipEntries(await service.download('e-1', 5_000)).map((e) => e.name)).toEqual(up.files);
    expect(await service.delete('e-1')).toBe(true);
    expect(await service.delete('e-1')).toBe(false);
    expect(results.artifacts).toEqual([]);
    const put = results.server.requests.find((r) => r.method === 'PUT')!;
    expect(secrets).toContain(new URLSearchParams(put.query).get('sig'));
    expect(put.headers['x-ms-blob-type']).toBe('BlockBlob');
    expect(results.server.violations).toEqual([]);
  });
});
