import {
  countsLine,
  escapeHtml,
  formatMs,
  type GanttBar,
  mermaidGantt,
  rowsWithin,
  summaryTable,
} from '../core/summary.ts';
import type { TargetOutcome } from './target.ts';

/** The job summary of a deploy, as a pure function of its result. */

/**
 * What the step reports as `status`: the target's outcome, `unchanged` for a
 * rollback that found every unit on the version already (not a success: the
 * user asked for a change and none was made), or `planned` for a dry run.
 */
export type DeployStatus = TargetOutcome['status'] | 'unchanged' | 'planned';

/**
 * The fields of a `DeployReport` that hold our own words (an operation, a target kind, a status,
 * a unit's outcome and health): kept as they are when the report is redacted field by field
 * (core/redacted-data.ts) before it is rendered.
 */
export const REPORT_WORDS = ['operation', 'target', 'status', 'outcome', 'health'];

export interface DeployReport {
  operation: 'deploy' | 'rollback';
  target: string;
  environment: string;
  deployId: string;
  deployTag: string;
  image: string | undefined;
  previousImage: string | undefined;
  deploymentId: number | undefined;
  dryRun: boolean;
  /** What a dry run could not check (push rights for tag-image), shown so a passing plan is not read as a promise. */
  unverified?: string;
  outcome: Omit<TargetOutcome, 'status'> & { status: DeployStatus };
}

/**
 * Past this many units the table lists the ones that were not simply updated first, and only
 * this many: 10 000 hosts of a `hosts-file` at ~300 bytes a row would pass the runner's 1 MiB
 * per step summary, which it then drops whole. Every unit is in the operations log (step `unit`).
 */
export const UNIT_ROWS = 200;
/** The chart has one bar per unit; past this many it is not readable and is left out. */
export const GANTT_BARS = 60;
/** Plan lines shown (a host has several); a dry run prints every one to the step's log. */
export const PLAN_LINES = 400;

/** The order of the rows when not all fit: what a reader came to the summary for first. */
const RANK: Record<DeployReport['outcome']['units'][number]['outcome'], number> = {
  failed: 0,
  'rolled-back': 1,
  skipped: 2,
  unchanged: 3,
  planned: 4,
  updated: 5,
};

export function renderSummary(r: DeployReport): string {
  const title = r.dryRun
    ? `${r.operation} to ${r.target} (${r.environment}): dry run, nothing changed`
    : `${r.operation} to ${r.target} (${r.environment}): ${r.outcome.cancelled ? 'cancelled, ' : ''}${r.outcome.status}`;
  // The environment is the user's text (`prod <!--` would hide the rest): shown, never markup.
  const parts = [`## ${escapeHtml(title)}`, ''];
  const facts: [string, unknown][] = [
    ['deploy id', r.deployId],
    // A dry run creates no tag: naming one would send readers looking for it in the registry.
    ['deploy tag', r.dryRun ? '- (dry run)' : r.deployTag || '- (none made)'],
    ['image', r.image ?? '-'],
    ['previous', r.previousImage ?? r.outcome.previousImage ?? '-'],
    ['GitHub deployment', r.deploymentId ?? '-'],
  ];
  if (r.outcome.url) facts.push(['url', r.outcome.url]);
  if (r.outcome.error) facts.push(['error', r.outcome.error]);
  if (r.unverified) facts.push(['not verified', r.unverified]);
  parts.push(summaryTable([], facts), '');
  const { units } = r.outcome;
  const shown = rowsWithin(units, UNIT_ROWS, (u) => RANK[u.outcome]);
  if (units.length > 0) {
    parts.push(
      summaryTable(
        ['unit', 'where', 'batch', 'outcome', 'old image', 'new image', 'health', 'time'],
        shown.map((u) => [
          u.id,
          u.where ?? '',
          u.batch || '-',
          u.error && u.outcome !== 'updated'
            ? `${u.outcome}: ${u.error}`
            : u.note
              ? `${u.outcome}: ${u.note}`
              : u.outcome,
          u.previousImage ?? '-',
          newImageOf(u, r.image),
          u.health ?? '-',
          u.endedMs > u.startedMs ? formatMs(u.endedMs - u.startedMs) : '-',
        ]),
      ),
      '',
    );
    if (shown.length < units.length) parts.push(unitsNote(units, shown.length), '');
  }
  const bars: GanttBar[] = units
    .filter((u) => u.batch > 0 && u.endedMs > u.startedMs)
    .map((u) => ({
      section: `batch ${u.batch}`,
      label: u.id,
      startMs: u.startedMs,
      endMs: u.endedMs,
      status: u.outcome === 'failed' ? 'crit' : u.outcome === 'rolled-back' ? 'active' : 'done',
    }));
  if (bars.length > GANTT_BARS)
    parts.push(
      `_No rollout chart: ${bars.length} units are more than its ${GANTT_BARS} readable bars; every unit's time is in the operations log._`,
      '',
    );
  else if (bars.length > 0) parts.push(mermaidGantt(`${r.operation} rollout`, bars), '');
  if (r.dryRun || r.outcome.plan.length > 0) {
    const { plan } = r.outcome;
    const lines = plan.slice(0, PLAN_LINES);
    if (lines.length < plan.length) lines.push(`… ${plan.length - lines.length} more lines`);
    parts.push(`<details><summary>plan</summary>\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n</details>`, '');
  }
  return parts.join('\n');
}

/** `_10000 units: 9990 updated, 10 failed. The table shows 200 of them, …_` */
function unitsNote(units: DeployReport['outcome']['units'], shown: number): string {
  return `_${units.length} units: ${countsLine(units.map((u) => u.outcome))}. The table shows ${shown} of them, those failed, rolled back or skipped first; every unit is in the operations log (output \`log-file\`, step \`unit\`)._`;
}

/**
 * The image this run put on, or tried to put on, the unit: after an
 * auto-rollback that is the image that failed (the unit runs its old image
 * again, as its outcome says), and a skipped unit never received one.
 */
function newImageOf(u: DeployReport['outcome']['units'][number], image: string | undefined): string {
  if (u.outcome === 'skipped') return '-';
  if (u.outcome === 'rolled-back') return image ?? u.newImage ?? '-';
  return u.newImage ?? '-';
}
