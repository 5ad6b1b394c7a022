import { InputError } from '../core/errors.ts';
import { type Message, msg, own } from '../core/message.ts';
import type { Deployment, DeploymentStatus, GitHubDeployments } from '../providers/github/deployments.ts';
import { describeIdentity, describeOwner, matchIdentity, type TargetIdentity } from './identity.ts';

/**
 * The deploy history kept in GitHub Deployments: what this action recorded
 * (payload with `deploy_id`), and the questions a rollback asks of it. Every
 * question is asked of one target's deployments only (see identity.ts): an
 * environment is shared by every app, service and host set deployed under it.
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
  /** With `target` (the kind), the target identity every lookup is scoped to: see identity.ts. */
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
  /** It succeeded without changing anything (a rollback to what already ran): not a deploy. */
  changedNothing: boolean;
  /** Its last status says the rollout failed and auto-rollback put the earlier version back. */
  rolledBack: boolean;
  /** The newest status's state; undefined when it has none. */
  latestState: string | undefined;
  /** heroku: the release id the final success status names. */
  release: string | undefined;
}

export type HistoryApi = Pick<GitHubDeployments, 'list' | 'get' | 'statuses'>;

/** How many recent deployments of the environment a re-run looks through for its earlier attempt. */
const RERUN_LOOKBACK_PAGES = 1;

/** How the final status's description begins for a rollback that found everything on its version already. */
export const UNCHANGED_NOTE = 'unchanged:';
/** How the final `failure` status's description begins when auto-rollback put the earlier version back. */
export const ROLLED_BACK_NOTE = 'rolled back:';

const RELEASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RELEASE_IN_NOTE = new RegExp(`release (?:v\\d+ )?(${RELEASE_ID.source.slice(1, -1)})`);

/**
 * The release id we write into a heroku deployment's success status. A Heroku release id (a
 * UUID) is kept whole as our own word: the history finds it there again, and hex digits that
 * happen to match a short secret are no leak of it.
 */
export function releaseNote(release: { id: string; version?: number | undefined }): Message {
  const id = RELEASE_ID.test(release.id) ? own(release.id) : release.id;
  return msg`release ${release.version !== undefined ? msg`v${release.version} ` : ''}${id}`;
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
    changedNothing: success?.description.startsWith(UNCHANGED_NOTE) ?? false,
    rolledBack: statuses[0]?.state === 'failure' && statuses[0].description.startsWith(ROLLED_BACK_NOTE),
    latestState: statuses[0]?.state,
    release,
  };
}

/** What ran before the latest deploy of one target, and what that latest deploy was. */
export interface PreviousVersion {
  /** The newest deployment of this target that could have changed it, whatever its outcome. */
  latest: Recorded | undefined;
  /** What ran before `latest`: the newest successful deployment older than it, of another version when `latest` succeeded. */
  previous: Recorded | undefined;
  /** The next version back from `previous`, for a message that says how to go further. */
  before: Recorded | undefined;
  /** Deployments of this environment skipped because they name no target (recorded by older versions). */
  unidentified: number;
}

/**
 * `previous`: the version that ran before the latest deploy of this target.
 *
 * - The latest deploy succeeded: the newest older success of another version
 *   (so a second `previous` toggles back, as a rollback is a deploy too).
 * - It failed, errored or never finished: the newest older success, which is
 *   what runs now when the deploy was rolled back or changed nothing; rolling
 *   back to it then changes nothing, and the caller reports `unchanged`.
 * - A rollback that changed nothing (`unchanged:` success) is not a deploy
 *   and is skipped, so asking again gives the same answer.
 *
 * Only deployments of `identity` count (see matchIdentity for records that
 * name no target).
 */
export async function findPrevious(
  api: HistoryApi,
  environment: string,
  identity: TargetIdentity,
): Promise<PreviousVersion> {
  let latest: Recorded | undefined;
  let previous: Recorded | undefined;
  let unidentified = 0;
  for (const d of await api.list(environment)) {
    const match = matchIdentity(d.payload, identity);
    if (match === 'unknown') unidentified++;
    if (match !== 'same') continue;
    const r = await recorded(api, d);
    if (r.changedNothing) continue;
    if (!latest) {
      latest = r;
      continue;
    }
    if (!r.succeeded) continue;
    if (!previous) {
      if (latest.succeeded && sameVersion(r, latest)) continue;
      previous = r;
      continue;
    }
    if (sameVersion(r, previous)) continue;
    return { latest, previous, before: r, unidentified };
  }
  return { latest, previous, before: undefined, unidentified };
}

function sameVersion(a: Recorded, b: Recorded): boolean {
  if (a.payload.image && b.payload.image) return a.payload.image === b.payload.image;
  if (a.release && b.release) return a.release === b.release;
  return false;
}

/**
 * The deployment with this id, when it was made for `identity`.
 * @throws InputError (rollback-to) when it does not exist, was not made by action-deploy, was made
 *   for another target (the message names it), or names no target (see matchIdentity).
 */
export async function findById(api: HistoryApi, id: number, identity: TargetIdentity): Promise<Recorded> {
  const d = await api.get(id);
  if (!d)
    throw new InputError(
      'rollback-to',
      msg`names GitHub deployment ${id}, which does not exist in this repository`,
    );
  if (typeof d.payload.deploy_id !== 'string')
    throw new InputError(
      'rollback-to',
      msg`names GitHub deployment ${id}, which action-deploy did not record (its payload has no deploy_id)`,
    );
  refuseOther(d, identity, `GitHub deployment ${id}`);
  return recorded(api, d);
}

/**
 * The deployment of `identity` in `environment` whose payload names this `deploy_xxxxxxxx` tag (its
 * own deploy, not a rollback to it). Deployments of every environment are read (one list, no
 * environment filter: GET /repos/{owner}/{repo}/deployments), because registries are shared: the
 * same tag in the registry may belong to another app's deploy, and only the history says whose.
 * @throws InputError (rollback-to) when only deployments of other targets or environments, or naming
 *   none, carry it, and when no deployment at all carries it (no registry is asked: issue 13).
 */
export async function findByTag(
  api: HistoryApi,
  environment: string,
  identity: TargetIdentity,
  tag: string,
): Promise<Recorded> {
  const list = (await api.list(undefined)).filter(
    (d) => typeof d.payload.deploy_id === 'string' && d.payload.tag === tag,
  );
  const first = (ds: Deployment[]) => ds.find((d) => d.payload.operation !== 'rollback') ?? ds[0];
  const own = list.filter((d) => matchIdentity(d.payload, identity) === 'same');
  const found = first(own.filter((d) => d.environment === environment));
  if (found) return recorded(api, found);
  const elsewhere = first(own);
  if (elsewhere)
    throw new InputError(
      'rollback-to',
      msg`names ${tag}, which was deployed to ${describeIdentity(identity)} in environment ${elsewhere.environment} (GitHub deployment ${elsewhere.id}), not in environment ${environment}`,
    );
  const other = first(list);
  if (other) refuseOther(other, identity, tag);
  throw new InputError(
    'rollback-to',
    msg`names ${tag}, but no deployment of ${describeIdentity(identity)} carries that tag (GitHub deployments of every environment were searched)`,
  );
}

function refuseOther(d: Deployment, identity: TargetIdentity, what: string): void {
  const match = matchIdentity(d.payload, identity);
  if (match === 'same') return;
  const image = typeof d.payload.image === 'string' ? d.payload.image : undefined;
  if (match === 'unknown')
    throw new InputError(
      'rollback-to',
      msg`names ${what}, which was recorded without the target it was deployed to, so it cannot be checked to be a version of ${describeIdentity(identity)}${image ? msg`; to roll back to its image anyway, give rollback-to: ${image}` : ''}`,
    );
  throw new InputError(
    'rollback-to',
    msg`names ${what}, which belongs to ${describeOwner(d.payload)} (GitHub deployment ${d.id}, environment ${d.environment}), not to ${describeIdentity(identity)}`,
  );
}

/** What identifies one deploy step of one workflow run, across its attempts. */
export interface AttemptKey {
  environment: string;
  runId: string;
  /** GITHUB_JOB: two jobs of one run deploying side by side do not continue each other's deploy. */
  job: string | undefined;
  /** The commit the run deploys; narrows the list GitHub sends back. */
  sha: string | undefined;
  /** Exactly this target: a deploy of the whole Fly app is not continued by a deploy of one process group. */
  identity: TargetIdentity;
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
      p.target !== key.identity.kind ||
      p.target_name !== key.identity.name ||
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
