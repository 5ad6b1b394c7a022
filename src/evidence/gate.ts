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

/** Checks named in the warning; the evidence file and the summary list every one. */
const NAMED_IN_WARNING = 10;

/**
 * The `::warning::` for checks that did not pass but are not `required`: the gate passes and the
 * step succeeds, so without it such a check would show only in the evidence file and the summary
 * (as config-update's failures within `max-failures`). Undefined when every check passed or when
 * the gate fails anyway (its error names the required checks).
 * `2 of 5 checks did not pass, none of them required: backup (exit 3); tls (timed out)`.
 */
export function toleratedChecks(results: readonly CheckResult[]): string | undefined {
  const missed = results.filter((r) => r.status !== 'passed');
  if (missed.length === 0 || missed.some((r) => r.required)) return undefined;
  const named = missed
    .slice(0, NAMED_IN_WARNING)
    .map((r) => `${r.id} (${outcomeOf(r)})`)
    .join('; ');
  const more = missed.length > NAMED_IN_WARNING ? `; and ${missed.length - NAMED_IN_WARNING} more` : '';
  return `${missed.length} of ${results.length} check${results.length === 1 ? '' : 's'} did not pass, none of them required: ${named}${more}`;
}

function outcomeOf(r: CheckResult): string {
  if (r.status !== 'failed') return r.status;
  if (r.exitCode !== undefined) return `exit ${r.exitCode}`;
  if (r.httpStatus !== undefined) return `HTTP ${r.httpStatus}`;
  return 'failed';
}

/**
 * Whose evidence counts. A repository's artifact list also holds the
 * artifacts of pull requests from forks (their run's `head_repository_id` is
 * the fork) and of every other branch (`head_branch`), as the `workflow_run`
 * object of "List artifacts for a repository" says.
 */
export interface EvidenceScope {
  /** This repository's id (GITHUB_REPOSITORY_ID); undefined: each run's own `repository_id`, the repository listed. */
  repositoryId: number | undefined;
  /** The branch whose evidence counts: `require-previous-ref`, else the run's branch. */
  branch: string;
  /** ms since the epoch, for `expires_at`. */
  now: number;
}

export interface JudgedArtifact {
  artifact: RepoArtifact;
  /** Why it does not count; undefined when it does. */
  refused: string | undefined;
}

/** Why `artifact` does not count as evidence in `scope`, or undefined when it does. */
export function refusalOf(artifact: RepoArtifact, scope: EvidenceScope): string | undefined {
  const expires = artifact.expires_at ? Date.parse(artifact.expires_at) : Number.NaN;
  if (artifact.expired || expires <= scope.now)
    return `expired${artifact.expires_at ? ` on ${artifact.expires_at}` : ''}`;
  const run = artifact.workflow_run;
  if (!run) return 'GitHub names no workflow run for it';
  const repositoryId = scope.repositoryId ?? run.repository_id;
  if (repositoryId === undefined || run.head_repository_id === undefined)
    return 'its workflow run names no repository';
  if (run.repository_id !== undefined && run.repository_id !== repositoryId)
    return `its workflow run is of repository ${run.repository_id}, not this one (${repositoryId})`;
  if (run.head_repository_id !== repositoryId)
    return `from a fork: its workflow run's head repository is ${run.head_repository_id}, not this one (${repositoryId})`;
  if (run.head_branch !== scope.branch)
    return run.head_branch
      ? `from branch ${run.head_branch}, not ${scope.branch}`
      : `its workflow run names no branch, not ${scope.branch}`;
  return undefined;
}

/** Every artifact judged, newest first; `chosen` is the newest that counts. */
export function selectEvidence(
  artifacts: readonly RepoArtifact[],
  scope: EvidenceScope,
): { chosen: RepoArtifact | undefined; judged: JudgedArtifact[] } {
  const judged = [...artifacts]
    .sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))
    .map((artifact) => ({ artifact, refused: refusalOf(artifact, scope) }));
  return { chosen: judged.find((j) => j.refused === undefined)?.artifact, judged };
}

export interface PreviousEvidence {
  name: string;
  chosen: RepoArtifact | undefined;
  judged: JudgedArtifact[];
}

/** The passing artifacts of `milestone` GitHub lists, judged in `scope`. */
export async function findPassingEvidence(
  api: ArtifactsApi,
  target: string,
  milestone: string,
  scope: EvidenceScope,
): Promise<PreviousEvidence> {
  const name = artifactName(target, milestone, true);
  const listed = (await api.listByName(name)).filter((a) => a.name === name);
  return { name, ...selectEvidence(listed, scope) };
}

const LISTED_REFUSALS = 10;

/** Which artifacts were found and why none counted, in one line. */
export function describeRefusals(found: PreviousEvidence, scope: EvidenceScope): string {
  if (found.judged.length === 0) return `GitHub lists no artifact named ${found.name}`;
  const shown = found.judged
    .slice(0, LISTED_REFUSALS)
    .map(
      (j) =>
        `artifact ${j.artifact.id}${j.artifact.created_at ? ` of ${j.artifact.created_at}` : ''} ${j.refused}`,
    );
  const more = found.judged.length - shown.length;
  const otherBranch = found.judged.some((j) => j.refused?.startsWith('from branch'));
  return [
    `GitHub lists ${found.judged.length} artifact${found.judged.length === 1 ? '' : 's'} named ${found.name}, none counts: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
    otherBranch
      ? `; require-previous-ref names another branch whose evidence counts (now ${scope.branch})`
      : '',
  ].join('');
}
