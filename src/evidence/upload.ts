import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { escapeRegExp } from '../core/redact.ts';

/**
 * The evidence upload as @actions/artifact does it, plus what a re-run needs.
 * Artifact names are per workflow run and kept across attempts: the results
 * service answers CreateArtifact with 409 "an artifact with this name already
 * exists on the workflow run". A re-run (a new job of the same run) that meets
 * it looks the name up the way the official client does — list, then address
 * the listed artifact by its own backend ids (actions/toolkit
 * packages/artifact/src/internal/find/get-artifact.ts, download/download-artifact.ts,
 * delete/delete-artifact.ts):
 *
 * - listed (finalized): it holds evidence of this run, an earlier attempt's.
 *   Its files are downloaded and written back next to this attempt's file in
 *   `output-dir`. Every file (this attempt's and the earlier ones) is first
 *   uploaded as `<name>-attempt-<GITHUB_RUN_ATTEMPT>`; only once that artifact
 *   is finalized is the earlier one deleted and the name uploaded again with
 *   every file, and then the attempt artifact is deleted. At every moment a
 *   finalized artifact of the run holds all of its evidence: when the new
 *   upload of the name fails or is cut (the service may still hold a name it
 *   just deleted: actions/upload-artifact users meet a 409 right after
 *   `overwrite` deleted it, openedx/openedx-platform#34985), the step fails
 *   naming the attempt artifact that holds the files.
 * - not listed: an upload that was cut after CreateArtifact left a record that
 *   holds the name for the rest of the run and that nothing lists, downloads or
 *   deletes (the service lists only finalized artifacts; see
 *   sandbox/fakes/results.ts). No attempt of this run can upload under that
 *   name; the step fails saying so, with the evidence file written.
 *
 * A FinalizeArtifact that was done but whose answer was lost is confirmed by
 * listing the artifact.
 *
 * Leftovers: a run killed between those steps leaves `<name>-attempt-<k>`
 * artifacts behind (the only copy of its files when it died after the delete).
 * An upload of a re-run (GITHUB_RUN_ATTEMPT above 1; a first attempt has none
 * before it) first lists the run's artifacts (ListArtifacts without a name,
 * internal/find/list-artifacts.ts) and takes up to `MAX_LEFTOVERS` of them, of
 * earlier attempts, that hold an evidence file of this target and milestone: their
 * files go into the new artifact as an earlier artifact's do, and each is deleted
 * only once the new artifact of the name is finalized holding all of them.
 */

/** The part of @actions/artifact's ArtifactClient the upload uses (its method shapes). */
export interface ArtifactApi {
  uploadArtifact(
    name: string,
    files: string[],
    rootDirectory: string,
    options?: { retentionDays?: number },
  ): Promise<{ id?: number; size?: number; digest?: string }>;
  getArtifact(name: string): Promise<{ artifact: ListedArtifact }>;
  listArtifacts(): Promise<{ artifacts: ListedArtifact[] }>;
  downloadArtifact(id: number, options?: { path?: string }): Promise<{ downloadPath?: string }>;
  deleteArtifact(name: string): Promise<{ id: number }>;
}

export interface ListedArtifact {
  id: number;
  name: string;
  size: number;
  createdAt?: Date;
  digest?: string;
}

export interface UploadRequest {
  /** The evidence file written by this attempt. */
  file: string;
  name: string;
  retentionDays: number | undefined;
  /** Where earlier files of a replaced artifact are written back. */
  outputDir: string;
  /** A scratch directory of this upload (downloads, the staged files). */
  tempDir: string;
  /** GITHUB_RUN_ATTEMPT: names the artifact that holds every file while the name is replaced. */
  attempt: string;
}

export interface Uploaded {
  id: number;
  name: string;
  size: number;
  /** `sha256:<hex>` when the service reported it. */
  digest: string | undefined;
  /** File names in the artifact, this attempt's file first. */
  files: string[];
  /** The earlier artifact whose files were carried over, if any. */
  replaced: { id: number; createdAt: string | undefined } | undefined;
  /** Leftover attempt artifacts whose files went into this one, and whether each was then deleted. */
  leftovers: Leftover[];
}

/** A `<name>-attempt-<k>` artifact an earlier attempt of the run left behind. */
export interface Leftover {
  name: string;
  id: number;
  /** Its file names, as they were in it. */
  files: string[];
  deleted: boolean;
}

/** The upload failed because the name is taken; `message` says by what. */
export class NameTakenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NameTakenError';
  }
}

const MIB = 1024 * 1024;
/** The slowest transfer we wait for: below it the blob upload counts as stalled. */
const FLOOR_BYTES_PER_SECOND = 128 * 1024;
/** Leftover attempt artifacts folded into one upload; more wait for the next one (each run leaves one at most). */
export const MAX_LEFTOVERS = 2;

/**
 * Calls of the longest upload, a re-run's carry-over: the list of the run's
 * artifacts and, per leftover, its signed URL, blob read, list and delete; the
 * refused create, list by name, list by id, signed URL, blob read, the attempt
 * artifact (create, blob write, finalize), list and delete, create, blob write,
 * finalize, a confirming list, and the attempt artifact's list and delete.
 */
const LEFTOVER_CALLS = 1 + 4 * MAX_LEFTOVERS;
const MOST_CALLS = LEFTOVER_CALLS + 16;

/**
 * The bound of the whole upload, in ms: every call of the longest upload
 * allowed one request timeout (OPS_ACTIONS_REQUEST_TIMEOUT), plus three times
 * the bytes at the floor rate (one download, two uploads). A first attempt
 * (`rerun` false) has no leftovers to look for: 16 calls; a re-run 25. With the
 * default 30 s a Markdown file gets 8 min 3 s, 12 min 33 s in a re-run. Past it
 * the upload process is killed and the step fails with the evidence file written.
 */
export function uploadBoundMs(bytes: number, requestTimeoutMs: number, rerun: boolean): number {
  return (rerun ? MOST_CALLS : MOST_CALLS - LEFTOVER_CALLS) * requestTimeoutMs + 3 * transferMs(bytes);
}

/**
 * ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS, in ms: how long the blob upload may go
 * without progress before @actions/artifact gives it up (its default is 5 min;
 * actions/toolkit packages/artifact/src/internal/shared/config.ts): the request
 * timeout plus the bytes at the floor rate.
 */
export function blobTimeoutMs(bytes: number, requestTimeoutMs: number): number {
  return requestTimeoutMs + transferMs(bytes);
}

function transferMs(bytes: number): number {
  return Math.ceil((Math.max(bytes, MIB / 8) / FLOOR_BYTES_PER_SECOND) * 1000);
}

/** `retention-days` capped at the repository's maximum (GITHUB_RETENTION_DAYS), as @actions/artifact does. */
export function expiryOf(
  retentionDays: number | undefined,
  env: NodeJS.ProcessEnv,
  now = new Date(),
): { expiresAt: Date | undefined; cappedTo: number | undefined } {
  if (retentionDays === undefined) return { expiresAt: undefined, cappedTo: undefined };
  const max = Number.parseInt(env.GITHUB_RETENTION_DAYS ?? '', 10);
  const days = Number.isInteger(max) && max > 0 && max < retentionDays ? max : retentionDays;
  return {
    expiresAt: new Date(now.getTime() + days * 86_400_000),
    cappedTo: days === retentionDays ? undefined : days,
  };
}

/**
 * A CreateArtifact refused because the name is taken in the run. The official
 * client reports it as "Failed to CreateArtifact: Received non-retryable error:
 * Failed request: (409) Conflict: an artifact with this name already exists on
 * the workflow run" (internal/shared/artifact-twirp-client.ts).
 */
export function isNameConflict(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /^Failed to CreateArtifact:/.test(message) && /\(409\)/.test(message);
}

/** An error the official client raised from FinalizeArtifact (its messages name the Twirp method). */
function isFinalizeFailure(error: unknown): boolean {
  return error instanceof Error && /^Failed to FinalizeArtifact:/.test(error.message);
}

export interface EarlierFile {
  name: string;
  path: string;
}

/**
 * This attempt's file first, then every earlier file once; an earlier file with
 * this attempt's name but other content is renamed `<name>.earlier-<n>.<ext>`.
 */
export function carryOver(
  own: EarlierFile,
  earlier: readonly EarlierFile[],
  same: (a: EarlierFile, b: EarlierFile) => boolean,
): EarlierFile[] {
  const out: EarlierFile[] = [own];
  for (const file of earlier) {
    if (out.some((f) => f.name === file.name && same(f, file))) continue;
    let name = file.name;
    for (let n = 1; out.some((f) => f.name === name); n++) name = withSuffix(file.name, `earlier-${n}`);
    out.push({ ...file, name });
  }
  return out;
}

function withSuffix(name: string, suffix: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)}.${suffix}${name.slice(dot)}` : `${name}.${suffix}`;
}

export async function uploadWithCarryOver(
  client: ArtifactApi,
  req: UploadRequest,
  note: (line: string) => void,
): Promise<Uploaded> {
  const own: EarlierFile = { name: basename(req.file), path: req.file };
  const leftovers = await findLeftovers(client, req, own, note);
  const fromLeftovers = leftovers.flatMap((l) => l.files);
  let uploaded: Uploaded | undefined;
  try {
    const files = carryOver(own, fromLeftovers, sameContent);
    writeBack(req.outputDir, files.slice(1));
    uploaded = await uploadFiles(client, req, files, undefined);
  } catch (error) {
    if (!isNameConflict(error)) throw error;
  }
  uploaded ??= await replaceName(client, req, own, fromLeftovers, note);
  return { ...uploaded, leftovers: await deleteLeftovers(client, leftovers, uploaded, note) };
}

/** The name is held by a finalized artifact of the run: its files and `extra` go in with this attempt's. */
async function replaceName(
  client: ArtifactApi,
  req: UploadRequest,
  own: EarlierFile,
  extra: readonly EarlierFile[],
  note: (line: string) => void,
): Promise<Uploaded> {
  const listed = await findListed(client, req.name);
  if (!listed) {
    throw new NameTakenError(
      `the name ${req.name} is taken in this workflow run by an artifact that was never finalized (an earlier upload was cut after the service created it); the service lists, downloads and deletes only finalized artifacts, so no attempt of this run can upload under that name: the evidence file is written, and a new workflow run can upload it`,
    );
  }

  const downloadDir = mkdtempSync(join(req.tempDir, 'earlier-'));
  await client.downloadArtifact(listed.id, { path: downloadDir });
  const earlier = filesUnder(downloadDir);
  const files = carryOver(own, [...earlier, ...extra], sameContent);
  const written = writeBack(req.outputDir, files.slice(1));
  const replaced = { id: listed.id, createdAt: listed.createdAt?.toISOString() };
  note(
    `artifact ${req.name} (id ${listed.id}${listed.createdAt ? `, ${listed.createdAt.toISOString()}` : ''}) already holds evidence of this run: its ${plural(earlier.length, 'file')} (${earlier.map((f) => f.name).join(', ')}) ${written.length > 0 ? `are written back to ${req.outputDir} and ` : ''}go into the new artifact with this attempt's file`,
  );

  // Every file is held by a finalized artifact before the earlier one is deleted.
  const holding = `${req.name}-attempt-${req.attempt}`;
  let held: Uploaded;
  try {
    held = await uploadFiles(client, { ...req, name: holding }, files, replaced);
  } catch (error) {
    if (!isNameConflict(error)) throw error;
    throw new NameTakenError(
      `the name ${holding} is taken in this workflow run too, so this attempt's evidence could not be put beside artifact ${listed.id} before replacing it; artifact ${listed.id} is kept as it was`,
    );
  }
  // Said before the delete: if the process is killed from here on, the log names where the files are.
  note(`every file is in artifact ${holding} (id ${held.id}) while ${req.name} is replaced`);
  await client.deleteArtifact(req.name);
  let uploaded: Uploaded;
  try {
    uploaded = await uploadFiles(client, req, files, replaced);
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0]!.trim() : String(error);
    throw new HeldError(
      `the new artifact ${req.name} could not be uploaded after the earlier one (id ${listed.id}) was deleted (${why}); every file of this run's evidence (${files.map((f) => f.name).join(', ')}) is in artifact ${holding} (id ${held.id}), and a re-run uploads ${req.name} again`,
    );
  }
  try {
    await client.deleteArtifact(holding);
  } catch (error) {
    note(
      `artifact ${holding} (id ${held.id}) holds the same files as ${req.name} and could not be deleted: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  return uploaded;
}

interface FoundLeftover {
  listed: ListedArtifact;
  files: EarlierFile[];
}

/**
 * The run's `<name>-attempt-<k>` artifacts of earlier attempts, oldest attempt first, downloaded,
 * that hold an evidence file of this target and milestone (one of another milestone named
 * `<milestone>-attempt-<k>` holds none). A failed list or download leaves that artifact alone.
 */
async function findLeftovers(
  client: ArtifactApi,
  req: UploadRequest,
  own: EarlierFile,
  note: (line: string) => void,
): Promise<FoundLeftover[]> {
  if (!(Number(req.attempt) > 1)) return [];
  const pattern = new RegExp(`^${escapeRegExp(req.name)}-attempt-(\\d+)$`);
  let candidates: { listed: ListedArtifact; attempt: number }[];
  try {
    candidates = (await client.listArtifacts()).artifacts
      .map((listed) => ({ listed, attempt: Number(pattern.exec(listed.name)?.[1]) }))
      .filter((c) => Number.isSafeInteger(c.attempt) && c.attempt < Number(req.attempt))
      .sort((a, b) => a.attempt - b.attempt);
  } catch (error) {
    note(
      `the run's artifacts could not be listed, so no leftover ${req.name}-attempt-<n> is looked for: ${firstLine(error)}`,
    );
    return [];
  }
  if (candidates.length > MAX_LEFTOVERS)
    note(
      `${plural(candidates.length, 'leftover artifact')} ${candidates.map((c) => c.listed.name).join(', ')}: the ${MAX_LEFTOVERS} oldest are taken in now, the rest by a later upload`,
    );
  const ofThisEvidence = sameEvidence(own.name);
  const found: FoundLeftover[] = [];
  for (const { listed } of candidates.slice(0, MAX_LEFTOVERS)) {
    const dir = mkdtempSync(join(req.tempDir, 'leftover-'));
    try {
      await client.downloadArtifact(listed.id, { path: dir });
    } catch (error) {
      note(
        `leftover artifact ${listed.name} (id ${listed.id}) could not be downloaded, so it is kept: ${firstLine(error)}`,
      );
      continue;
    }
    const files = filesUnder(dir);
    if (files.some((f) => ofThisEvidence(f.name))) found.push({ listed, files });
  }
  return found;
}

/** Each leftover, its files now all in `uploaded` (finalized), deleted; one that cannot be is said and kept. */
async function deleteLeftovers(
  client: ArtifactApi,
  leftovers: readonly FoundLeftover[],
  uploaded: Uploaded,
  note: (line: string) => void,
): Promise<Leftover[]> {
  const out: Leftover[] = [];
  for (const { listed, files } of leftovers) {
    let deleted = true;
    try {
      await client.deleteArtifact(listed.name);
    } catch (error) {
      deleted = false;
      note(
        `leftover artifact ${listed.name} (id ${listed.id}) holds only files that are in ${uploaded.name} (id ${uploaded.id}) now, and could not be deleted: ${firstLine(error)}`,
      );
    }
    out.push({ name: listed.name, id: listed.id, files: files.map((f) => f.name), deleted });
  }
  return out;
}

/**
 * Whether a file name is an evidence file of the same target and milestone as `own`
 * (`<stamp>-<target>-<milestone>[-<n>].md`, evidence-file.ts and flow.ts's linkUnique).
 */
function sameEvidence(own: string): (name: string) => boolean {
  const stamp = /^\d{8}T\d{6}Z/;
  const core = own.replace(stamp, '').replace(/(-\d+)?\.md$/, '');
  if (core === own) return (name) => name === own;
  const pattern = new RegExp(`^\\d{8}T\\d{6}Z${escapeRegExp(core)}(-\\d+)?\\.md$`);
  return (name) => pattern.test(name);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}

/** The new upload of the name failed once the earlier artifact was deleted; the attempt artifact holds every file. */
export class HeldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeldError';
  }
}

async function uploadFiles(
  client: ArtifactApi,
  req: UploadRequest,
  files: EarlierFile[],
  replaced: Uploaded['replaced'],
): Promise<Uploaded> {
  // One root for every file: this attempt's file and the earlier ones, staged side by side.
  const root = files.length === 1 ? dirname(files[0]!.path) : mkdtempSync(join(req.tempDir, 'staged-'));
  const paths = files.map((f) => {
    if (files.length === 1) return f.path;
    const path = join(root, f.name);
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(f.path, path);
    return path;
  });
  const options = req.retentionDays === undefined ? {} : { retentionDays: req.retentionDays };
  const names = files.map((f) => f.name);
  try {
    const res = await client.uploadArtifact(req.name, paths, root, options);
    if (res.id === undefined) throw new Error('the artifact service answered without an artifact id');
    return {
      id: res.id,
      name: req.name,
      size: res.size ?? 0,
      digest: res.digest ? `sha256:${res.digest}` : undefined,
      files: names,
      replaced,
      leftovers: [],
    };
  } catch (error) {
    // Done, its answer lost: the artifact is listed (only finalized ones are).
    if (!isFinalizeFailure(error)) throw error;
    const listed = await findListed(client, req.name).catch(() => undefined);
    if (!listed || (replaced && listed.id === replaced.id)) throw error;
    return {
      id: listed.id,
      name: req.name,
      size: listed.size,
      digest: listed.digest,
      files: names,
      replaced,
      leftovers: [],
    };
  }
}

async function findListed(client: ArtifactApi, name: string): Promise<ListedArtifact | undefined> {
  try {
    return (await client.getArtifact(name)).artifact;
  } catch (error) {
    // ArtifactNotFoundError (internal/shared/errors.ts): nothing finalized of that name in the run.
    if (error instanceof Error && error.name === 'ArtifactNotFoundError') return undefined;
    throw error;
  }
}

function filesUnder(dir: string): EarlierFile[] {
  const out: EarlierFile[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push({ name: relative(dir, path).split('\\').join('/'), path });
    }
  };
  walk(dir);
  return out;
}

function sameContent(a: EarlierFile, b: EarlierFile): boolean {
  return statSync(a.path).size === statSync(b.path).size && readFileSync(a.path).equals(readFileSync(b.path));
}

/** Earlier top-level files go next to this attempt's file, so the workspace holds them even if the new upload fails. */
function writeBack(dir: string, files: readonly EarlierFile[]): string[] {
  const written: string[] = [];
  for (const file of files) {
    if (file.name.includes('/')) continue;
    const path = join(dir, file.name);
    if (existsSync(path)) continue;
    copyFileSync(file.path, path);
    written.push(file.name);
  }
  return written;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
