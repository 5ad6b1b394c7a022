import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ArtifactApi,
  blobTimeoutMs,
  carryOver,
  type EarlierFile,
  expiryOf,
  isNameConflict,
  type ListedArtifact,
  NameTakenError,
  uploadBoundMs,
  uploadWithCarryOver,
} from '../../src/evidence/upload.ts';

const T0 = new Date('2025-03-04T05:06:08Z');
/** The message @actions/artifact gives a CreateArtifact the service refused with 409. */
const CONFLICT =
  'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run';

describe('upload bounds', () => {
  it.each([
    // bytes, request timeout → whole bound, blob stall timeout (small files count as 128 KiB)
    [4_000, 30_000, 300_000 + 2_000, 30_000 + 1_000],
    [0, 2_000, 20_000 + 2_000, 2_000 + 1_000],
    [3 * 1024 * 1024, 30_000, 300_000 + 48_000, 30_000 + 24_000],
  ])('%i bytes with %i ms per request: %i ms in all, %i ms of blob stall', (bytes, request, bound, blob) => {
    expect(uploadBoundMs(bytes, request)).toBe(bound);
    expect(blobTimeoutMs(bytes, request)).toBe(blob);
  });

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

describe('telling a name conflict apart', () => {
  it.each([
    [CONFLICT, true],
    [
      'Failed to CreateArtifact: Failed to make request after 5 attempts: Failed request: (503) Service Unavailable',
      false,
    ],
    ['Failed to CreateArtifact: Unable to make request: ECONNRESET', false],
    ['Failed to FinalizeArtifact: Received non-retryable error: Failed request: (409) Conflict', false],
    ['Upload progress stalled.', false],
  ])('%s → %s', (message, conflict) => {
    expect(isNameConflict(new Error(message))).toBe(conflict);
  });
});

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'evidence-upload-'));
}

function fileIn(dir: string, name: string, text: string): EarlierFile {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), text);
  return { name, path: join(dir, name) };
}

const sameText = (a: EarlierFile, b: EarlierFile) => readFileSync(a.path).equals(readFileSync(b.path));

describe('carrying earlier files over', () => {
  it.each<[string, [string, string][], string[]]>([
    ['no earlier files', [], ['2.md']],
    ['an earlier attempt', [['1.md', 'first']], ['2.md', '1.md']],
    ['the same file again (a lost finalize answer)', [['2.md', 'second']], ['2.md']],
    ['an earlier file of the same name, other content', [['2.md', 'other']], ['2.md', '2.earlier-1.md']],
    [
      'two earlier files clashing',
      [
        ['2.md', 'other'],
        ['2.md', 'third'],
      ],
      ['2.md', '2.earlier-1.md', '2.earlier-2.md'],
    ],
  ])('%s', (_, earlier, names) => {
    const dir = scratch();
    const own = fileIn(dir, 'own/2.md', 'second');
    own.name = '2.md';
    const files = earlier.map(([name, text], i) => ({ ...fileIn(dir, `e${i}/${name}`, text), name }));
    expect(carryOver(own, files, sameText).map((f) => f.name)).toEqual(names);
  });

  it('keeps this attempt first, every name once, and every earlier content', () => {
    const name = fc.constantFrom('a.md', 'b.md', 'a.earlier-1.md', 'noext', 'x.tar.gz');
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.integer({ min: 0, max: 3 })), { maxLength: 8 }), (earlier) => {
        const content = (f: { content: number }) => f.content;
        const own = { name: 'a.md', path: '', content: 0 };
        const files = earlier.map(([n, c], i) => ({ name: n, path: String(i), content: c }));
        const out = carryOver(own, files, (a, b) => content(a as never) === content(b as never));
        expect(out[0]).toBe(own);
        expect(new Set(out.map((f) => f.name)).size).toBe(out.length);
        for (const f of files)
          expect(
            out.some(
              (o) => (o as typeof f).content === f.content && o.name.startsWith(f.name.split('.')[0]!),
            ),
          ).toBe(true);
      }),
    );
  });
});

/** @actions/artifact's client in memory: a run's artifacts, calls recorded, failures scripted. */
function stubClient(options: {
  existing?: { listed: ListedArtifact; files: Record<string, string> };
  /** A record that holds the name but is never listed (an upload cut after CreateArtifact). */
  burnt?: boolean;
  uploadFails?: string[];
  listedAfterFinalize?: boolean;
}): ArtifactApi & { calls: string[]; uploads: { files: string[]; retentionDays?: number }[] } {
  const calls: string[] = [];
  const uploads: { files: string[]; retentionDays?: number }[] = [];
  const failures = [...(options.uploadFails ?? [])];
  let existing = options.existing;
  let mine: ListedArtifact | undefined;
  const notFound = () =>
    Object.assign(new Error('Artifact not found for name'), { name: 'ArtifactNotFoundError' });
  return {
    calls,
    uploads,
    async uploadArtifact(name, files, root, opts) {
      calls.push(`upload ${files.map((f) => f.slice(root.length + 1)).join(',')}`);
      uploads.push({ files: files.map((f) => readFileSync(f, 'utf8')), retentionDays: opts?.retentionDays });
      if (existing || options.burnt) throw new Error(CONFLICT);
      const failure = failures.shift();
      if (failure) {
        if (options.listedAfterFinalize) mine = { id: 91, name, size: 10, digest: 'sha256:ab' };
        throw new Error(failure);
      }
      return { id: 90, size: 12, digest: 'cd' };
    },
    async getArtifact() {
      calls.push('get');
      const found = existing?.listed ?? mine;
      if (!found) throw notFound();
      return { artifact: found };
    },
    async downloadArtifact(id, opts) {
      calls.push(`download ${id}`);
      for (const [name, text] of Object.entries(existing!.files)) fileIn(opts!.path!, name, text);
      return { downloadPath: opts!.path };
    },
    async deleteArtifact() {
      calls.push('delete');
      if (!existing) throw notFound();
      const id = existing.listed.id;
      existing = undefined;
      return { id };
    },
  };
}

function evidence(): { file: string; outputDir: string; tempDir: string } {
  const outputDir = scratch();
  const file = join(outputDir, '20250304T050609Z-t1-gates-pass.md');
  writeFileSync(file, '# Evidence: second attempt\n');
  return { file, outputDir, tempDir: scratch() };
}

describe('uploadWithCarryOver decisions', () => {
  const request = (e: ReturnType<typeof evidence>) => ({
    ...e,
    name: 'evidence-t1-gates-pass',
    retentionDays: 7,
  });

  it('uploads this attempt file alone when the name is free, with the retention asked', async () => {
    const e = evidence();
    const client = stubClient({});
    const notes: string[] = [];
    const up = await uploadWithCarryOver(client, request(e), (l) => notes.push(l));
    expect(client.calls).toEqual([`upload ${basename(e.file)}`]);
    expect(client.uploads[0]!.retentionDays).toBe(7);
    expect(up).toMatchObject({
      id: 90,
      size: 12,
      digest: 'sha256:cd',
      files: [basename(e.file)],
      replaced: undefined,
    });
    expect(notes).toEqual([]);
  });

  it('carries an earlier attempt over: list, download by the listed id, delete, upload both', async () => {
    const e = evidence();
    const client = stubClient({
      existing: {
        listed: { id: 41, name: 'evidence-t1-gates-pass', size: 9, createdAt: T0 },
        files: { '20250304T050608Z-t1-gates-pass.md': '# Evidence: first attempt\n' },
      },
    });
    const notes: string[] = [];
    const up = await uploadWithCarryOver(client, request(e), (l) => notes.push(l));
    expect(client.calls).toEqual([
      `upload ${basename(e.file)}`,
      'get',
      'download 41',
      'delete',
      `upload ${basename(e.file)},20250304T050608Z-t1-gates-pass.md`,
    ]);
    expect(client.uploads[1]!.files).toEqual(['# Evidence: second attempt\n', '# Evidence: first attempt\n']);
    expect(up.files).toEqual([basename(e.file), '20250304T050608Z-t1-gates-pass.md']);
    expect(up.replaced).toEqual({ id: 41, createdAt: T0.toISOString() });
    expect(readdirSync(e.outputDir).sort()).toEqual([
      '20250304T050608Z-t1-gates-pass.md',
      '20250304T050609Z-t1-gates-pass.md',
    ]);
    expect(notes[0]).toMatch(
      /^artifact evidence-t1-gates-pass \(id 41, 2025-03-04T05:06:08.000Z\) already holds evidence/,
    );
  });

  it('keeps an earlier file that has this attempt name but other content, renamed, in the artifact and the folder', async () => {
    const e = evidence();
    const own = basename(e.file);
    const client = stubClient({
      existing: {
        listed: { id: 42, name: 'evidence-t1-gates-pass', size: 9 },
        files: { [own]: '# Evidence: another attempt, same second\n' },
      },
    });
    const up = await uploadWithCarryOver(client, request(e), () => {});
    const renamed = own.replace(/\.md$/, '.earlier-1.md');
    expect(up.files).toEqual([own, renamed]);
    expect(client.uploads[1]!.files).toEqual([
      '# Evidence: second attempt\n',
      '# Evidence: another attempt, same second\n',
    ]);
    expect(readFileSync(join(e.outputDir, renamed), 'utf8')).toBe(
      '# Evidence: another attempt, same second\n',
    );
    expect(readFileSync(e.file, 'utf8')).toBe('# Evidence: second attempt\n');
  });

  it('says the name is taken for the run when nothing lists it, and deletes nothing', async () => {
    const e = evidence();
    const client = stubClient({ burnt: true });
    const failure = uploadWithCarryOver(client, request(e), () => {});
    await expect(failure).rejects.toBeInstanceOf(NameTakenError);
    await expect(failure).rejects.toThrow(
      /taken in this workflow run by an artifact that was never finalized/,
    );
    expect(client.calls).toEqual([`upload ${basename(e.file)}`, 'get']);
  });

  it('confirms a FinalizeArtifact whose answer was lost by listing the artifact', async () => {
    const e = evidence();
    const client = stubClient({
      uploadFails: ['Failed to FinalizeArtifact: Unable to make request: ECONNRESET'],
      listedAfterFinalize: true,
    });
    const up = await uploadWithCarryOver(client, request(e), () => {});
    expect(up).toMatchObject({ id: 91, digest: 'sha256:ab' });
    expect(client.calls).toEqual([`upload ${basename(e.file)}`, 'get']);
  });

  it.each([
    [
      'a failed finalize that left nothing listed',
      'Failed to FinalizeArtifact: Received non-retryable error: Failed request: (403) Forbidden',
      ['get'],
    ],
    [
      'a CreateArtifact that kept failing',
      'Failed to CreateArtifact: Failed to make request after 5 attempts: (503)',
      [],
    ],
    ['a stalled blob upload', 'Upload progress stalled.', []],
  ])('passes on %s as it is', async (_, message, after) => {
    const e = evidence();
    const client = stubClient({ uploadFails: [message] });
    await expect(uploadWithCarryOver(client, request(e), () => {})).rejects.toThrow(message);
    expect(client.calls).toEqual([`upload ${basename(e.file)}`, ...after]);
    expect(existsSync(e.file)).toBe(true);
  });
});
