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
  MAX_LEFTOVERS,
  NameTakenError,
  uploadBoundMs,
  uploadWithCarryOver,
} from '../../src/evidence/upload.ts';

const T0 = new Date('2025-03-04T05:06:08Z');
const NAME = 'evidence-t1-gates-pass';
/** The message @actions/artifact gives a CreateArtifact the service refused with 409. */
const CONFLICT =
  'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run';

describe('upload bounds', () => {
  it.each([
    // bytes, request timeout → whole bound, blob stall timeout (small files count as 128 KiB)
    // A first attempt: the 16 calls of a carry-over. A re-run: 25, the run's list and two leftovers (4 calls each) too.
    [4_000, 30_000, false, 480_000 + 3_000, 30_000 + 1_000],
    [4_000, 30_000, true, 750_000 + 3_000, 30_000 + 1_000],
    [0, 2_000, false, 32_000 + 3_000, 2_000 + 1_000],
    [3 * 1024 * 1024, 30_000, true, 750_000 + 72_000, 30_000 + 24_000],
  ])(
    '%i bytes with %i ms per request, re-run %s: %i ms in all, %i ms of blob stall',
    (bytes, request, rerun, bound, blob) => {
      expect(uploadBoundMs(bytes, request, rerun)).toBe(bound);
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

/** @actions/artifact's client in memory: a run's artifacts by name, calls recorded, failures scripted. */
function stubClient(options: {
  existing?: { listed: ListedArtifact; files: Record<string, string> };
  /** A record that holds the name but is never listed (an upload cut after CreateArtifact). */
  burnt?: boolean;
  /** Messages the next uploads fail with, in order (after any name conflict). */
  uploadFails?: string[];
  listedAfterFinalize?: boolean;
  /** Artifacts of the run besides `existing`, e.g. attempt artifacts left behind. */
  others?: { listed: ListedArtifact; files: Record<string, string> }[];
  listFails?: string;
  /** Names whose delete fails. */
  deleteFails?: string[];
}): ArtifactApi & {
  calls: string[];
  uploads: { name: string; files: string[]; retentionDays?: number }[];
  held: Map<string, { listed: ListedArtifact; files: Record<string, string> }>;
} {
  const calls: string[] = [];
  const uploads: { name: string; files: string[]; retentionDays?: number }[] = [];
  const failures = [...(options.uploadFails ?? [])];
  const held = new Map<string, { listed: ListedArtifact; files: Record<string, string> }>();
  if (options.existing) held.set(options.existing.listed.name, options.existing);
  for (const other of options.others ?? []) held.set(other.listed.name, other);
  let nextId = 90;
  let mine: ListedArtifact | undefined;
  const notFound = () =>
    Object.assign(new Error('Artifact not found for name'), { name: 'ArtifactNotFoundError' });
  return {
    calls,
    uploads,
    held,
    async uploadArtifact(name, files, root, opts) {
      calls.push(`upload ${name}: ${files.map((f) => f.slice(root.length + 1)).join(',')}`);
      uploads.push({
        name,
        files: files.map((f) => readFileSync(f, 'utf8')),
        retentionDays: opts?.retentionDays,
      });
      if (held.has(name) || options.burnt) throw new Error(CONFLICT);
      const failure = failures.shift();
      if (failure) {
        if (options.listedAfterFinalize) mine = { id: 91, name, size: 10, digest: 'sha256:ab' };
        throw new Error(failure);
      }
      const id = nextId++;
      held.set(name, {
        listed: { id, name, size: 12 },
        files: Object.fromEntries(files.map((f) => [f.slice(root.length + 1), readFileSync(f, 'utf8')])),
      });
      return { id, size: 12, digest: 'cd' };
    },
    async listArtifacts() {
      calls.push('list');
      if (options.listFails) throw new Error(options.listFails);
      return { artifacts: [...held.values()].map((a) => a.listed) };
    },
    async getArtifact(name) {
      calls.push(`get ${name}`);
      const found = held.get(name)?.listed ?? mine;
      if (!found) throw notFound();
      return { artifact: found };
    },
    async downloadArtifact(id, opts) {
      calls.push(`download ${id}`);
      const artifact = [...held.values()].find((a) => a.listed.id === id)!;
      for (const [name, text] of Object.entries(artifact.files)) fileIn(opts!.path!, name, text);
      return { downloadPath: opts!.path };
    },
    async deleteArtifact(name) {
      calls.push(`delete ${name}`);
      if (options.deleteFails?.includes(name)) throw new Error('Failed to DeleteArtifact: (500)');
      const artifact = held.get(name);
      if (!artifact) throw notFound();
      held.delete(name);
      return { id: artifact.listed.id };
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
    attempt: '2',
  });

  it('uploads this attempt file alone when the name is free, with the retention asked', async () => {
    const e = evidence();
    const client = stubClient({});
    const notes: string[] = [];
    const up = await uploadWithCarryOver(client, request(e), (l) => notes.push(l));
    expect(client.calls).toEqual(['list', `upload ${NAME}: ${basename(e.file)}`]);
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

  it('carries an earlier attempt over: list, download by the listed id, hold every file, delete, upload both', async () => {
    const e = evidence();
    const client = stubClient({
      existing: {
        listed: { id: 41, name: NAME, size: 9, createdAt: T0 },
        files: { '20250304T050608Z-t1-gates-pass.md': '# Evidence: first attempt\n' },
      },
    });
    const notes: string[] = [];
    const up = await uploadWithCarryOver(client, request(e), (l) => notes.push(l));
    const both = `${basename(e.file)},20250304T050608Z-t1-gates-pass.md`;
    expect(client.calls).toEqual([
      'list',
      `upload ${NAME}: ${basename(e.file)}`,
      `get ${NAME}`,
      'download 41',
      // The new files are held by a finalized artifact before the earlier one is deleted.
      `upload ${NAME}-attempt-2: ${both}`,
      `delete ${NAME}`,
      `upload ${NAME}: ${both}`,
      `delete ${NAME}-attempt-2`,
    ]);
    expect(client.uploads[1]!.files).toEqual(['# Evidence: second attempt\n', '# Evidence: first attempt\n']);
    expect(client.uploads[2]!.files).toEqual(client.uploads[1]!.files);
    expect([...client.held.keys()]).toEqual([NAME]);
    expect(up.files).toEqual([basename(e.file), '20250304T050608Z-t1-gates-pass.md']);
    expect(up.id).toBe(client.held.get(NAME)!.listed.id);
    expect(up.replaced).toEqual({ id: 41, createdAt: T0.toISOString() });
    expect(readdirSync(e.outputDir).sort()).toEqual([
      '20250304T050608Z-t1-gates-pass.md',
      '20250304T050609Z-t1-gates-pass.md',
    ]);
    expect(notes[0]).toMatch(
      /^artifact evidence-t1-gates-pass \(id 41, 2025-03-04T05:06:08.000Z\) already holds evidence/,
    );
    expect(notes[1]).toBe(`every file is in artifact ${NAME}-attempt-2 (id 90) while ${NAME} is replaced`);
  });

  it.each([
    [
      'a name conflict right after the delete (the service still holds the name)',
      { conflict: true },
      /\(409\) Conflict/,
    ],
    [
      'a failed create',
      { uploadFails: ['Failed to CreateArtifact: Failed to make request after 5 attempts: (503)'] },
      /\(503\)/,
    ],
  ])('%s: the attempt artifact keeps every file, and the error names it', async (_, failing, why) => {
    const e = evidence();
    const client = stubClient({
      existing: {
        listed: { id: 41, name: NAME, size: 9, createdAt: T0 },
        files: { '20250304T050608Z-t1-gates-pass.md': '# Evidence: first attempt\n' },
      },
    });
    // Fail only the upload of the name after the delete: the held upload (call 2) succeeds.
    const failingClient = {
      ...client,
      uploadArtifact: async (...args: Parameters<ArtifactApi['uploadArtifact']>) => {
        const call = client.calls.filter((c) => c.startsWith('upload')).length + 1;
        if (call === 3 && 'uploadFails' in failing) {
          client.calls.push(`upload ${args[0]}: (fails)`);
          throw new Error(failing.uploadFails[0]);
        }
        if (call === 3 && 'conflict' in failing) {
          client.calls.push(`upload ${args[0]}: (conflict)`);
          throw new Error(CONFLICT);
        }
        return client.uploadArtifact(...args);
      },
    };
    const failure = uploadWithCarryOver(failingClient, request(e), () => {});
    await expect(failure).rejects.toThrow(
      new RegExp(
        `^the new artifact ${NAME} could not be uploaded after the earlier one \\(id 41\\) was deleted \\(.*\\); every file of this run's evidence \\(20250304T050609Z-t1-gates-pass.md, 20250304T050608Z-t1-gates-pass.md\\) is in artifact ${NAME}-attempt-2 \\(id 90\\)`,
      ),
    );
    await expect(failure).rejects.toThrow(why);
    expect([...client.held.keys()]).toEqual([`${NAME}-attempt-2`]);
    expect(Object.keys(client.held.get(`${NAME}-attempt-2`)!.files)).toHaveLength(2);
    expect(client.calls.filter((c) => c.startsWith('delete'))).toEqual([`delete ${NAME}`]);
  });

  it('deletes nothing when the attempt artifact cannot be made', async () => {
    const e = evidence();
    const client = stubClient({
      existing: { listed: { id: 41, name: NAME, size: 9 }, files: { 'old.md': 'first\n' } },
      uploadFails: ['Upload progress stalled.'],
    });
    await expect(uploadWithCarryOver(client, request(e), () => {})).rejects.toThrow(
      'Upload progress stalled.',
    );
    expect(client.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    expect([...client.held.keys()]).toEqual([NAME]);
  });

  it('keeps an earlier file that has this attempt name but other content, renamed, in the artifact and the folder', async () => {
    const e = evidence();
    const own = basename(e.file);
    const client = stubClient({
      existing: {
        listed: { id: 42, name: NAME, size: 9 },
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
    expect(client.calls).toEqual(['list', `upload ${NAME}: ${basename(e.file)}`, `get ${NAME}`]);
  });

  it('confirms a FinalizeArtifact whose answer was lost by listing the artifact', async () => {
    const e = evidence();
    const client = stubClient({
      uploadFails: ['Failed to FinalizeArtifact: Unable to make request: ECONNRESET'],
      listedAfterFinalize: true,
    });
    const up = await uploadWithCarryOver(client, request(e), () => {});
    expect(up).toMatchObject({ id: 91, digest: 'sha256:ab' });
    expect(client.calls).toEqual(['list', `upload ${NAME}: ${basename(e.file)}`, `get ${NAME}`]);
  });

  it.each([
    [
      'a failed finalize that left nothing listed',
      'Failed to FinalizeArtifact: Received non-retryable error: Failed request: (403) Forbidden',
      [`get ${NAME}`],
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
    expect(client.calls).toEqual(['list', `upload ${NAME}: ${basename(e.file)}`, ...after]);
    expect(existsSync(e.file)).toBe(true);
  });
});

describe('leftover attempt artifacts of the run', () => {
  const FIRST = '20250304T050608Z-t1-gates-pass.md';
  const THIRD = '20250304T050607Z-t1-gates-pass.md';
  const request = (e: ReturnType<typeof evidence>) => ({
    ...e,
    name: NAME,
    retentionDays: undefined,
    attempt: '3',
  });
  const leftover = (attempt: number, id: number, files: Record<string, string>) => ({
    listed: { id, name: `${NAME}-attempt-${attempt}`, size: 9 },
    files,
  });

  it('folds in the only copy, left by an attempt killed after the delete, then deletes it', async () => {
    const e = evidence();
    const client = stubClient({
      others: [
        leftover(2, 52, { [FIRST]: '# first\n', '20250304T050609Z-t1-gates-pass.md': '# second, earlier\n' }),
      ],
    });
    const notes: string[] = [];
    const up = await uploadWithCarryOver(client, request(e), (l) => notes.push(l));
    const own = basename(e.file);
    expect(client.calls).toEqual([
      'list',
      'download 52',
      `upload ${NAME}: ${own},${FIRST},20250304T050609Z-t1-gates-pass.earlier-1.md`,
      `delete ${NAME}-attempt-2`,
    ]);
    expect([...client.held.keys()]).toEqual([NAME]);
    expect(Object.values(client.held.get(NAME)!.files)).toEqual([
      '# Evidence: second attempt\n',
      '# first\n',
      '# second, earlier\n',
    ]);
    expect(up.leftovers).toEqual([
      {
        name: `${NAME}-attempt-2`,
        id: 52,
        files: [FIRST, '20250304T050609Z-t1-gates-pass.md'],
        deleted: true,
      },
    ]);
    expect(up.replaced).toBeUndefined();
    expect(readdirSync(e.outputDir).sort()).toEqual([
      FIRST,
      '20250304T050609Z-t1-gates-pass.earlier-1.md',
      '20250304T050609Z-t1-gates-pass.md',
    ]);
    expect(notes).toEqual([]);
  });

  it('takes in a copy left beside the name (killed before its delete) and deletes it, each file once', async () => {
    const e = evidence();
    const same = { [FIRST]: '# first\n' };
    const client = stubClient({
      existing: { listed: { id: 41, name: NAME, size: 9 }, files: same },
      others: [leftover(1, 51, same)],
    });
    const up = await uploadWithCarryOver(client, request(e), () => {});
    expect(client.calls.filter((c) => c.startsWith('delete'))).toEqual([
      `delete ${NAME}`,
      `delete ${NAME}-attempt-3`,
      `delete ${NAME}-attempt-1`,
    ]);
    expect(up.files).toEqual([basename(e.file), FIRST]);
    expect(up.leftovers).toMatchObject([{ id: 51, deleted: true }]);
    expect([...client.held.keys()]).toEqual([NAME]);
  });

  it.each([
    [
      'of another milestone named <milestone>-attempt-<n>',
      leftover(4, 54, { '20250304T050600Z-t1-gates-pass-attempt-4.md': 'x' }),
    ],
    ['of this very attempt', leftover(3, 53, { [FIRST]: 'x' })],
    [
      'named like one but not numbered',
      { listed: { id: 55, name: `${NAME}-attempt-x`, size: 1 }, files: { [FIRST]: 'x' } },
    ],
  ])('leaves an artifact %s alone', async (_, other) => {
    const e = evidence();
    const client = stubClient({ others: [other] });
    const up = await uploadWithCarryOver(client, request(e), () => {});
    expect(client.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    expect(up.files).toEqual([basename(e.file)]);
    expect(up.leftovers).toEqual([]);
    expect(client.held.has(other.listed.name)).toBe(true);
  });

  it('deletes no leftover when the new artifact is not finalized', async () => {
    const e = evidence();
    const client = stubClient({
      others: [leftover(2, 52, { [FIRST]: '# first\n' })],
      uploadFails: ['Upload progress stalled.'],
    });
    await expect(uploadWithCarryOver(client, request(e), () => {})).rejects.toThrow(
      'Upload progress stalled.',
    );
    expect(client.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    expect(client.held.has(`${NAME}-attempt-2`)).toBe(true);
    expect(readFileSync(join(e.outputDir, FIRST), 'utf8')).toBe('# first\n');
  });

  it('says so when a leftover cannot be deleted, and still succeeds', async () => {
    const e = evidence();
    const client = stubClient({
      others: [leftover(2, 52, { [FIRST]: '# first\n' })],
      deleteFails: [`${NAME}-attempt-2`],
    });
    const notes: string[] = [];
    const up = await uploadWithCarryOver(client, request(e), (l) => notes.push(l));
    expect(up.leftovers).toMatchObject([{ id: 52, deleted: false }]);
    expect(notes).toEqual([
      `leftover artifact ${NAME}-attempt-2 (id 52) holds only files that are in ${NAME} (id 90) now, and could not be deleted: Failed to DeleteArtifact: (500)`,
    ]);
  });

  it('looks for none in a first attempt: nothing before it could leave one', async () => {
    const e = evidence();
    const client = stubClient({ others: [leftover(2, 52, { [FIRST]: 'b' })] });
    const up = await uploadWithCarryOver(client, { ...request(e), attempt: '1' }, () => {});
    expect(client.calls).toEqual([`upload ${NAME}: ${basename(e.file)}`]);
    expect(up.leftovers).toEqual([]);
  });

  it('uploads as before when the run cannot be listed, saying no leftover was looked for', async () => {
    const e = evidence();
    const client = stubClient({ listFails: 'Failed to ListArtifacts: (503)' });
    const notes: string[] = [];
    const up = await uploadWithCarryOver(client, request(e), (l) => notes.push(l));
    expect(up.files).toEqual([basename(e.file)]);
    expect(notes).toEqual([
      `the run's artifacts could not be listed, so no leftover ${NAME}-attempt-<n> is looked for: Failed to ListArtifacts: (503)`,
    ]);
  });

  it(`takes the ${MAX_LEFTOVERS} oldest of more leftovers, and names the rest for a later upload`, async () => {
    const e = evidence();
    const client = stubClient({
      others: [
        leftover(2, 52, { [FIRST]: 'b' }),
        leftover(1, 51, { [FIRST]: 'a' }),
        leftover(4, 54, { [THIRD]: 'd' }),
      ],
    });
    const notes: string[] = [];
    const up = await uploadWithCarryOver(client, { ...request(e), attempt: '5' }, (l) => notes.push(l));
    expect(up.leftovers.map((l) => l.id)).toEqual([51, 52]);
    expect(client.held.has(`${NAME}-attempt-4`)).toBe(true);
    expect(notes[0]).toBe(
      `3 leftover artifacts ${NAME}-attempt-1, ${NAME}-attempt-2, ${NAME}-attempt-4: the 2 oldest are taken in now, the rest by a later upload`,
    );
  });
});
