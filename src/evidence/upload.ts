import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ApiError } from '../core/errors.ts';
import type { ListedArtifact, ResultsService } from './results-service.ts';
import { unzipEntries, type ZipEntry, zipEntries } from './zip.ts';

/**
 * Uploads the evidence file as a zip artifact through the results service, and
 * recovers when the name is already taken in this run, which is what a re-run
 * of the job meets (artifact names are per workflow run, kept across attempts;
 * the service answers CreateArtifact with 409 `already_exists` "an artifact
 * with this name already exists on the workflow run", finalized or not):
 *
 * - not finalized (ListArtifacts does not list it): a leftover of an upload
 *   that was cut — its CreateArtifact answer lost, its blob or its finalize
 *   never done. It holds no evidence anyone can download, so it is deleted
 *   and the upload starts again.
 * - finalized: it holds evidence of this run (an earlier attempt whose
 *   FinalizeArtifact answer was lost, or an earlier attempt that passed the
 *   same gate). Deleting it would lose that evidence and keeping it would leave
 *   this attempt's file out, so its files are carried into the new artifact:
 *   downloaded, written back next to this attempt's file in `output-dir`, then
 *   the old artifact is deleted and the new one holds every file. Nothing is
 *   deleted before the earlier files are in hand; a zip we cannot read is left
 *   alone and the step fails saying so.
 *
 * Deleting a not-finalized artifact assumes no other job of the run is
 * uploading the same name at that moment: the name is per target and
 * milestone, which one job owns.
 */

export interface Uploaded {
  id: number;
  name: string;
  size: number;
  digest: string;
  /** Entry names in the uploaded zip, this attempt's file first. */
  files: string[];
  /** The earlier finalized artifact whose files were carried over, if any. */
  replaced: ListedArtifact | undefined;
  /** A not-finalized leftover of this name was deleted first. */
  reclaimed: boolean;
}

export interface UploadRequest {
  file: string;
  name: string;
  retentionDays: number | undefined;
  /** Where earlier files of a replaced artifact are written back. */
  outputDir: string;
  /** Per-attempt timeout of the blob transfer (see `blobTimeoutMs`). */
  blobTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

const MIME_ZIP = 'application/zip';
/** Rounds of "name taken → clear it → create again" before giving up (another job racing for the name). */
const MAX_ROUNDS = 3;
const MIB = 1024 * 1024;
/** The slowest transfer we wait for: below it an attempt is cut and retried. */
const FLOOR_BYTES_PER_SECOND = 128 * 1024;

/**
 * The bound of the whole upload, on top of each request's own timeout and
 * retries: 2 min, plus 6 request timeouts (an upload is 3 calls, or 8 when a
 * re-run clears the name, each allowed its retries), plus 1 min per MiB of
 * evidence. With the default 30 s request timeout a Markdown file gets 5 min;
 * an upload that takes longer fails the step with the evidence file written.
 */
export function uploadBoundMs(bytes: number, requestTimeoutMs: number): number {
  return 120_000 + 6 * requestTimeoutMs + Math.ceil(bytes / MIB) * 60_000;
}

/** Per-attempt timeout of a blob transfer: the request timeout plus the bytes at the floor rate. */
export function blobTimeoutMs(bytes: number, requestTimeoutMs: number): number {
  return requestTimeoutMs + Math.ceil((bytes / FLOOR_BYTES_PER_SECOND) * 1000);
}

/** `retention-days` capped at the repository's maximum (GITHUB_RETENTION_DAYS), as upload-artifact does. */
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

export async function uploadEvidence(
  service: ResultsService,
  req: UploadRequest,
  note: (line: string) => void,
): Promise<Uploaded> {
  const own: ZipEntry = {
    name: basename(req.file),
    bytes: readFileSync(req.file),
    modified: statSync(req.file).mtime,
  };
  const { expiresAt, cappedTo } = expiryOf(req.retentionDays, req.env ?? {});
  if (cappedTo !== undefined)
    note(
      `retention-days ${req.retentionDays} is above the repository's maximum; the artifact is kept ${cappedTo} days`,
    );
  let entries: ZipEntry[] = [own];
  let replaced: ListedArtifact | undefined;
  let reclaimed = false;

  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const created = await service.create(req.name, expiresAt, MIME_ZIP);
    if (created.created) {
      const zip = zipEntries(entries);
      await service.putBlob(created.uploadUrl, zip, MIME_ZIP, req.blobTimeoutMs);
      const digest = `sha256:${createHash('sha256').update(zip).digest('hex')}`;
      const id = await finalizeChecked(service, req.name, zip.length, digest);
      return {
        id,
        name: req.name,
        size: zip.length,
        digest,
        files: entries.map((e) => e.name),
        replaced,
        reclaimed,
      };
    }

    const existing = await service.find(req.name);
    if (existing) {
      const earlier = await readEarlier(service, existing, req.blobTimeoutMs);
      entries = carryOver(own, [...entries.slice(1), ...earlier]);
      const written = writeBack(req.outputDir, earlier);
      replaced = existing;
      note(
        `artifact ${req.name} (id ${existing.id}${existing.createdAt ? `, ${existing.createdAt}` : ''}) already holds evidence of this run: its ${plural(earlier.length, 'file')} (${earlier.map((e) => e.name).join(', ')}) ${written.length > 0 ? `are written back to ${req.outputDir} and ` : ''}go into the new artifact with this attempt's file`,
      );
      // Gone already (deleted by someone else) is as good as deleted.
      await service.delete(req.name);
    } else {
      reclaimed = true;
      note(
        `artifact ${req.name} exists in this run but was never finalized (an upload that was cut): deleting it and uploading again`,
      );
      if (!(await service.delete(req.name))) {
        throw new Error(
          `the name ${req.name} is taken in this workflow run by an artifact that was never finalized, which the results service neither lists nor deletes; this run cannot upload under that name (a new workflow run can)`,
        );
      }
    }
  }
  throw new Error(
    `the name ${req.name} was still taken after ${MAX_ROUNDS} rounds of clearing it: is another job of this run uploading the same target and milestone?`,
  );
}

/** A finalize whose answer was lost and that the service then refuses as done is checked by listing the artifact. */
async function finalizeChecked(
  service: ResultsService,
  name: string,
  size: number,
  digest: string,
): Promise<number> {
  try {
    return await service.finalize(name, size, digest);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const listed = await service.find(name).catch(() => undefined);
    if (listed && listed.digest === digest && listed.size === size) return listed.id;
    throw error;
  }
}

async function readEarlier(
  service: ResultsService,
  existing: ListedArtifact,
  timeoutMs: number,
): Promise<ZipEntry[]> {
  const zip = await service.download(existing.name, timeoutMs);
  try {
    return unzipEntries(zip);
  } catch (error) {
    throw new Error(
      `artifact ${existing.name} (id ${existing.id}) already exists in this run and is not an evidence zip we can read (${error instanceof Error ? error.message : String(error)}); it was left as it is: delete it to upload this attempt's evidence`,
    );
  }
}

/** This attempt's file first, then every earlier file once; an earlier file of the same name but other content is renamed. */
export function carryOver(own: ZipEntry, earlier: readonly ZipEntry[]): ZipEntry[] {
  const out: ZipEntry[] = [own];
  for (const entry of earlier) {
    if (out.some((e) => e.name === entry.name && e.bytes.equals(entry.bytes))) continue;
    let name = entry.name;
    for (let n = 1; out.some((e) => e.name === name); n++) name = withSuffix(entry.name, `earlier-${n}`);
    out.push({ ...entry, name });
  }
  return out;
}

function withSuffix(name: string, suffix: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)}.${suffix}${name.slice(dot)}` : `${name}.${suffix}`;
}

/** Earlier files go next to this attempt's file, so the workspace holds them even if the new upload fails. */
function writeBack(dir: string, entries: readonly ZipEntry[]): string[] {
  const written: string[] = [];
  for (const entry of entries) {
    const name = basename(entry.name);
    if (!name || name !== entry.name) continue;
    const path = join(dir, name);
    if (existsSync(path)) continue;
    writeFileSync(path, entry.bytes);
    written.push(name);
  }
  return written;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
