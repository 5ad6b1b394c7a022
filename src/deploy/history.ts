import type { Deployment, GitHubDeployments } from '../providers/github/deployments.ts';

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
}

export interface Recorded {
  deployment: Deployment;
  payload: Partial<DeployPayload>;
  succeeded: boolean;
  /** heroku: the release id the final success status names. */
  release: string | undefined;
}

export type HistoryApi = Pick<GitHubDeployments, 'list' | 'get' | 'statuses'>;

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

async function recorded(api: HistoryApi, d: Deployment): Promise<Recorded> {
  const statuses = await api.statuses(d.id);
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
