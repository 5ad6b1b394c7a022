import type { Deployment, DeploymentStatus, GitHubDeployments } from '../providers/github/deployments.ts';

/**
 * The deploy history kept in GitHub Deployments: what this action recorded
 * (payload with `deploy_id`), and the questions a rollback asks of it.
 */

export interface DeployPayload {
  deploy_id: string;
  image: string | undefined;
  digest: string | undefined;
  tag: string;
  target: string;
  previous_image: string | undefined;
  operation: 'deploy' | 'rollback';
  /** heroku: the release this deployment made, when known at creation (promotions, rollbacks). */
  release?: string | undefined;
  /** What was deployed to: the fly app (`app/group` with a process group), heroku app, or ssh `service@hosts`. */
  target_name?: string | undefined;
  /** GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and GITHUB_JOB of the run that created the record: a re-run finds it by them. */
  run_id?: string | undefined;
  run_attempt?: string | undefined;
  job?: string | undefined;
}

export interface Recorded {
  deployment: Deployment;
  payload: Partial<DeployPayload>;
  succeeded: boolean;
  /** heroku: the release id the final success status names. */
  release: string | undefined;
}

export type HistoryApi = Pick<GitHubDeployments, 'list' | 'get' | 'statuses'>;

/** How many recent deployments of the environment a re-run looks through for its earlier attempt. */
const RERUN_LOOKBACK_PAGES = 1;

/** The release id we write into a heroku deployment's success status. */
export function releaseNote(release: { id: string; version?: number | undefined }): string {
  return `release ${release.version !== undefined ? `v${release.version} ` : ''}${release.id}`;
}

const RELEASE_IN_NOTE = /release (?:v\d+ )?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/;

function isOurs(d: Deployment, target: string): boolean {
  return (
    typeof d.payload.deploy_id === 'string' && (d.payload.target === undefined || d.payload.target === target)
  );
}

async function recorded(api: HistoryApi, d: Deployment, known?: DeploymentStatus[]): Promise<Recorded> {
  const statuses = known ?? (await api.statuses(d.id));
  const success = statuses.find((s) => s.state === 'success');
  const release =
    (typeof d.payload.release === 'string' ? d.payload.release : undefined) ??
    RELEASE_IN_NOTE.exec(success?.description ?? '')?.[1];
  return {
    deployment: d,
    payload: d.payload as Partial<DeployPayload>,
    succeeded: Boolean(success),
    release,
  };
}

/**
 * `previous`: the newest deployment of this environment that succeeded is the
 * current one; the next older one that succeeded is what we go back to.
 */
export async function findPrevious(
  api: HistoryApi,
  environment: string,
  target: string,
): Promise<{ current: Recorded | undefined; previous: Recorded | undefined }> {
  const list = (await api.list(environment)).filter((d) => isOurs(d, target));
  let current: Recorded | undefined;
  for (const d of list) {
    const r = await recorded(api, d);
    if (!r.succeeded) continue;
    if (!current) {
      current = r;
      continue;
    }
    // A rollback re-deploys an older version: skip records of the version running now.
    if (sameVersion(r, current)) continue;
    return { current, previous: r };
  }
  return { current, previous: undefined };
}

function sameVersion(a: Recorded, b: Recorded): boolean {
  if (a.payload.image && b.payload.image) return a.payload.image === b.payload.image;
  if (a.release && b.release) return a.release === b.release;
  return false;
}

export async function findById(api: HistoryApi, id: number): Promise<Recorded | undefined> {
  const d = await api.get(id);
  return d ? recorded(api, d) : undefined;
}

/** The deployment whose payload names this `deploy_xxxxxxxx` tag (its own deploy, not a rollback to it). */
export async function findByTag(
  api: HistoryApi,
  environment: string,
  target: string,
  tag: string,
): Promise<Recorded | undefined> {
  const list = (await api.list(environment)).filter((d) => isOurs(d, target) && d.payload.tag === tag);
  const own = list.find((d) => d.payload.operation !== 'rollback') ?? list[0];
  return own ? recorded(api, own) : undefined;
}

/** What identifies one deploy step of one workflow run, across its attempts. */
export interface AttemptKey {
  environment: string;
  runId: string;
  /** GITHUB_JOB: two jobs of one run deploying side by side do not continue each other's deploy. */
  job: string | undefined;
  /** The commit the run deploys; narrows the list GitHub sends back. */
  sha: string | undefined;
  target: string;
  targetName: string;
  operation: 'deploy' | 'rollback';
  image: string | undefined;
  release: string | undefined;
  /** Set when the version brings its own tag (a rollback to a recorded version); else any tag matches. */
  tag: string | undefined;
}

/** States after which a deployment is over for good: a re-run of a finished deploy is a new deploy. */
const FINISHED = new Set(['success', 'inactive']);

/**
 * The deployment an earlier attempt of this same workflow run created for this
 * same deploy and did not finish (GitHub's "Re-run jobs" keeps GITHUB_RUN_ID and
 * bumps GITHUB_RUN_ATTEMPT): the re-run continues it instead of recording a
 * second one. Also finds a deployment whose creation answer was lost.
 */
export async function findEarlierAttempt(api: HistoryApi, key: AttemptKey): Promise<Recorded | undefined> {
  const list = await api.list(key.environment, RERUN_LOOKBACK_PAGES, key.sha ? { sha: key.sha } : {});
  for (const d of list) {
    const p = d.payload as Partial<DeployPayload>;
    if (
      typeof p.deploy_id !== 'string' ||
      String(p.run_id ?? '') !== key.runId ||
      (p.job ?? undefined) !== key.job ||
      p.target !== key.target ||
      (p.target_name ?? '') !== key.targetName ||
      p.operation !== key.operation ||
      (p.image ?? undefined) !== key.image ||
      (p.release ?? undefined) !== key.release ||
      (key.tag !== undefined && p.tag !== key.tag)
    )
      continue;
    // The newest record of this deploy decides: finished, the re-run is a deploy of its own.
    const statuses = await api.statuses(d.id);
    const latest = statuses[0]?.state;
    return latest !== undefined && FINISHED.has(latest) ? undefined : recorded(api, d, statuses);
  }
  return undefined;
}
