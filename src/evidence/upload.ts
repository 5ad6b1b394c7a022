import { basename, dirname } from 'node:path';

/**
 * Uploads the evidence file with @actions/artifact (the results service the
 * runner announces in ACTIONS_RESULTS_URL), loaded only when a file is
 * uploaded: importing it costs start-up time every other run would pay.
 */
export interface Uploaded {
  id: number | undefined;
  name: string;
  size: number | undefined;
}

export async function uploadEvidence(
  file: string,
  name: string,
  retentionDays: number | undefined,
): Promise<Uploaded> {
  const { DefaultArtifactClient } = await import('@actions/artifact');
  const client = new DefaultArtifactClient();
  const res = await client.uploadArtifact(name, [file], dirname(file), {
    ...(retentionDays === undefined ? {} : { retentionDays }),
  });
  return { id: res.id, name, size: res.size };
}

export function uploadedFileName(file: string): string {
  return basename(file);
}
