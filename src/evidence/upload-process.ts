import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Uploaded, UploadRequest } from './upload.ts';

/**
 * Runs the upload in its own Node process (dist/evidence/upload-worker/) and
 * kills it at the deadline. A timer raced against @actions/artifact's promise
 * would fail the step but leave its sockets and retry timers (5 attempts,
 * 3 s base, ×1.5; no timeout on a Twirp call: actions/toolkit
 * packages/artifact/src/internal/shared/artifact-twirp-client.ts) holding the
 * step's process for minutes; a killed process holds nothing.
 */

export type WorkerMessage =
  | { kind: 'note'; line: string }
  | { kind: 'done'; uploaded: Uploaded }
  | { kind: 'failed'; nameTaken: boolean; message: string };

export interface UploadProcessOptions {
  request: UploadRequest;
  /** Kill the process and fail after this many ms. */
  deadlineMs: number;
  /** The environment of the upload: the runner's (ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, …). */
  env: NodeJS.ProcessEnv;
  /** ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS: how long the blob upload may stall. */
  blobTimeoutMs: number;
  /** A line the client printed (already not a workflow command), for the log. */
  onLine: (line: string) => void;
  /** A value the client asked the runner to mask (`::add-mask::`): a signed URL's signature. */
  onSecret: (value: string) => void;
  onNote: (line: string) => void;
  /** Cancellation of the step: the process is killed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The worker entry; defaults to the bundled one beside this bundle. */
  workerPath?: string;
}

export class UploadFailed extends Error {
  readonly nameTaken: boolean;
  readonly timedOut: boolean;

  constructor(message: string, flags: { nameTaken?: boolean; timedOut?: boolean } = {}) {
    super(message);
    this.name = 'UploadFailed';
    this.nameTaken = flags.nameTaken ?? false;
    this.timedOut = flags.timedOut ?? false;
  }
}

/** dist/evidence/index.js → dist/evidence/upload-worker/index.js */
export function bundledWorkerPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'upload-worker', 'index.js');
}

/** Resolves with the upload, or rejects with UploadFailed (name taken, timed out, or the client's error). */
export function uploadInProcess(options: UploadProcessOptions): Promise<Uploaded> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(options.env)) {
    // Not the action's inputs, nor the runner's files: the worker only uploads.
    if (name.startsWith('INPUT_') || /^GITHUB_(OUTPUT|STATE|ENV|PATH|STEP_SUMMARY)$/.test(name)) continue;
    env[name] = value;
  }
  env.ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS = String(options.blobTimeoutMs);
  env.OPS_EVIDENCE_UPLOAD = JSON.stringify(options.request);

  const child = spawn(process.execPath, [options.workerPath ?? bundledWorkerPath()], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });

  return new Promise<Uploaded>((resolve, reject) => {
    let outcome: WorkerMessage | undefined;
    let timedOut = false;
    const stderr: string[] = [];
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.deadlineMs);
    const cancel = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', cancel, { once: true });

    createInterface({ input: child.stdout! }).on('line', (line) => relay(line, options));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > 20) stderr.shift();
    });
    child.on('message', (message: WorkerMessage) => {
      if (message.kind === 'note') options.onNote(message.line);
      else outcome = message;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new UploadFailed(`the upload process did not start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', cancel);
      if (options.signal?.aborted) reject(options.signal.reason);
      else if (timedOut) {
        reject(
          new UploadFailed(`not done within ${Math.round(options.deadlineMs / 1000)} s, the upload's bound`, {
            timedOut: true,
          }),
        );
      } else if (outcome?.kind === 'done') resolve(outcome.uploaded);
      else if (outcome?.kind === 'failed')
        reject(new UploadFailed(outcome.message, { nameTaken: outcome.nameTaken }));
      else
        reject(
          new UploadFailed(
            `the upload process ended (${signal ?? `exit ${code}`}) without an outcome${stderr.length > 0 ? `: ${stderr.at(-1)}` : ''}`,
          ),
        );
    });
  });
}

/** The client's own lines: masks go to the caller, debug lines are dropped, the rest is logged as plain text. */
function relay(line: string, options: UploadProcessOptions): void {
  const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
  if (!command) {
    if (line.trim()) options.onLine(line);
    return;
  }
  const [, name, value] = command;
  // @actions/core escapes a command's data (toCommandValue/escapeData in packages/core/src/command.ts).
  if (name === 'add-mask') options.onSecret(unescapeData(value!));
  else if (name === 'warning' || name === 'error' || name === 'notice') options.onLine(`${name}: ${value}`);
}

function unescapeData(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}
