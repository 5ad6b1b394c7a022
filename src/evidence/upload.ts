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
/**
 * Calls of the longest upload, a re-run's carry-over: the refused create,
 * list by name, list by id, signed URL, blob read, the attempt artifact
 * (create, blob write, finalize), list and delete, create, blob write,
 * finalize, a confirming list, and the attempt artifact's list and delete.
 */
const MOST_CALLS = 16;

/**
 * The bound of the whole upload, in ms: every call of the longest upload
 * allowed one request timeout (OPS_ACTIONS_REQUEST_TIMEOUT), plus three times
 * the bytes at the floor rate (one download, two uploads). With the default
 * 30 s a Markdown file gets 8 min 3 s. Past it the upload process is killed and the
 * step fails with the evidence file written.
 */
export function uploadBoundMs(bytes: number, requestTimeoutMs: number): number {
  return MOST_CALLS * requestTimeoutMs + 3 * transferMs(bytes);
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
  try {
    return await uploadFiles(client, req, [own], undefined);
  } catch (error) {
    if (!isNameConflict(error)) throw error;
  }

  const listed = await findListed(client, req.name);
  if (!listed) {
    throw new NameTakenError(
      `the name ${req.name} is taken in this workflow run by an artifact that was never finalized (an earlier upload was cut after the service created it); the service lists, downloads and deletes only finalized artifacts, so no attempt of this run can upload under that name: the evidence file is written, and a new workflow run can upload it`,
    );
  }

  const downloadDir = mkdtempSync(join(req.tempDir, 'earlier-'));
  await client.downloadArtifact(listed.id, { path: downloadDir });
  const earlier = filesUnder(downloadDir);
  const files = carryOver(own, earlier, sameContent);
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
