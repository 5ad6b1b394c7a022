import { DefaultArtifactClient } from '@actions/artifact';
import { NameTakenError, type UploadRequest, uploadWithCarryOver } from './upload.ts';
import type { WorkerMessage } from './upload-process.ts';

/**
 * The upload process (bundled as dist/evidence/upload-worker/index.js): the
 * only place @actions/artifact is loaded. It reads its request from
 * OPS_EVIDENCE_UPLOAD, reports notes and the outcome over the IPC channel, and
 * exits as soon as the outcome is sent, whatever sockets or retry timers the
 * client still holds. The parent kills it at the upload deadline.
 */

const send = (message: WorkerMessage) =>
  new Promise<void>((resolve) => {
    if (!process.send) resolve();
    else process.send(message, () => resolve());
  });

let outcome: WorkerMessage;
try {
  const request = JSON.parse(process.env.OPS_EVIDENCE_UPLOAD ?? '') as UploadRequest;
  const uploaded = await uploadWithCarryOver(new DefaultArtifactClient(), request, (line) => {
    void send({ kind: 'note', line });
  });
  outcome = { kind: 'done', uploaded };
} catch (error) {
  outcome = {
    kind: 'failed',
    nameTaken: error instanceof NameTakenError,
    // The client's first line says what failed; the lines after it are generic advice.
    message: (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim(),
  };
}
await send(outcome);
process.exit(0);
