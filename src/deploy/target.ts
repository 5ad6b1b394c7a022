import type { Line } from '../core/message.ts';
/**
 * The seam between the deploy orchestration (ids, image resolution and
 * tagging, GitHub deployment records, report) and the three kinds of target.
 * A rollback is a deploy of an earlier version: targets get the same request
 * with `operation: 'rollback'` and the version to go back to.
 */

export interface DeployRequest {
  operation: 'deploy' | 'rollback';
  /** UUID of this deploy. */
  deployId: string;
  /** `deploy_<first 8 hex of deployId>`, or for a rollback the tag of the version restored. */
  deployTag: string;
  /** Image to run, pinned by digest when the registry resolved it (fly, ssh); undefined for heroku. */
  image: string | undefined;
  /**
   * `<repository> run <GITHUB_RUN_ID> job <GITHUB_JOB>`: the same in every attempt of the job, so a
   * lease or lock labelled with it is known as ours by a re-run. Undefined outside Actions.
   */
  runLabel?: string;
  dryRun: boolean;
  healthTimeoutMs: number;
  autoRollback: boolean;
  /** Cut everything at the action's overall deadline or cancellation. */
  signal?: AbortSignal;
  /**
   * Bounds the clean-up after a cancellation (sending back previous versions, releasing leases and
   * locks): never aborted before `signal`, then aborted within the runner's 7.5 s grace.
   */
  cleanupSignal?: AbortSignal;
  /** Progress line per finished unit, and other log lines. */
  log: (line: Line) => void;
  /** heroku rollback: the release to roll back to (its id). */
  release?: string;
}

export type UnitOutcome = 'updated' | 'unchanged' | 'failed' | 'rolled-back' | 'planned' | 'skipped';

export interface UnitResult {
  /** Machine id, host, or Heroku app. */
  id: string;
  /** Region, host:port, ... */
  where?: string;
  previousImage?: string;
  newImage?: string;
  outcome: UnitOutcome;
  health?: 'passing' | 'failing' | 'skipped';
  /** Rollout batch, 1-based: the Mermaid gantt chart groups by it. */
  batch: number;
  /** Relative to the start of the rollout. */
  startedMs: number;
  endedMs: number;
  /** Composed as a `Message` (core/message.ts) where our words surround values; a string is redacted whole. */
  error?: Line;
  /** What the user should know about a unit that did not fail (e.g. updated without starting). */
  note?: Line;
}

export interface TargetOutcome {
  status: 'success' | 'rolled-back' | 'failed';
  units: UnitResult[];
  /** What ran before on the target (the first unit's previous image, or the previous release). */
  previousImage?: string;
  /** The environment's URL when the target knows it (e.g. https://<app>.fly.dev). */
  url?: string;
  /** Human-readable steps: what dry-run prints, and the record of what was done. */
  plan: Line[];
  /** Short reason when status is not success. */
  error?: Line;
  /** heroku: the release the app runs at the end (its id), recorded with the deployment. */
  release?: string;
  /** Set when the run was cancelled: how many units it had changed, and how many it sent back. */
  cancelled?: {
    changed: number;
    restored: number;
    /** What serves now when the counts do not say it (a blue-green cancelled after traffic moved). */
    detail?: Line;
  };
}

/** What a target learns before changing anything, so the deployment record can name it. */
export interface TargetObservation {
  previousImage?: string;
  url?: string;
}

export interface DeployTarget {
  /** Read-only look at the target before the record is created; optional. */
  observe?(): Promise<TargetObservation>;
  run(request: DeployRequest): Promise<TargetOutcome>;
}
