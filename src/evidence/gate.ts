import type { ArtifactsApi, RepoArtifact } from '../providers/github/artifacts.ts';
import type { CheckResult } from './collect.ts';

/**
 * How "passing evidence" is known: the artifact of a milestone whose required
 * checks all passed is named `evidence-<target>-<milestone>` (the spec's
 * name); when the gate failed it is uploaded as
 * `evidence-<target>-<milestone>-failed`, so failing evidence is kept and
 * reviewable but never satisfies `require-previous` of the next milestone.
 */

export function artifactName(target: string, milestone: string, passed: boolean): string {
  return `evidence-${target}-${milestone}${passed ? '' : '-failed'}`;
}

export interface GateResult {
  passed: boolean;
  failedRequired: string[];
}

export function gateOf(results: readonly CheckResult[]): GateResult {
  const failedRequired = results.filter((r) => r.required && r.status !== 'passed').map((r) => r.id);
  return { passed: failedRequired.length === 0, failedRequired };
}

/** The newest non-expired passing artifact of `milestone`, or undefined. */
export async function findPassingEvidence(
  api: ArtifactsApi,
  target: string,
  milestone: string,
): Promise<RepoArtifact | undefined> {
  const name = artifactName(target, milestone, true);
  const found = (await api.listByName(name)).filter((a) => a.name === name && !a.expired);
  found.sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''));
  return found[0];
}
