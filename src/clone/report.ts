import type { Line, Message } from '../core/message.ts';
import { escapeCell, formatMs, summaryTable } from '../core/summary.ts';
import type { StepResult, StepStatus } from './execute.ts';
import { describe, resourceOf } from './plan.ts';

/** Results as data, and their renderings: the `plan` output and the job summary. Pure. */

export interface PlanEntry {
  step: string;
  resource: string;
  description: string;
  status: StepStatus;
}

/**
 * A result with its step in words, composed before the report is redacted (`describe`), so the
 * redaction checks our words and the step's values together (core/message.ts).
 */
export type DescribedResult = StepResult & { description: Message };

export function described(results: readonly StepResult[]): DescribedResult[] {
  return results.map((r) => ({ ...r, description: describe(r.step) }));
}

export function planEntries(results: readonly DescribedResult[]): PlanEntry[] {
  return results.map((r) => ({
    step: r.step.kind,
    resource: resourceOf(r.step),
    description: String(r.description),
    status: r.status,
  }));
}

/** Before anything runs (and in dry-run): what exists and what would be created. */
export function plannedResults(steps: readonly StepResult['step'][]): StepResult[] {
  return steps.map((step) => ({ step, status: step.exists ? 'exists' : 'would-create', ms: 0 }));
}

/**
 * The fields of a `CloneReport` that hold our own words (a step's kind, its status): kept as they
 * are when the report is redacted field by field (core/redacted-data.ts) before it is rendered.
 */
export const REPORT_WORDS = ['kind', 'status'];

export interface CloneReport {
  appName: string;
  source: string;
  dryRun: boolean;
  results: readonly DescribedResult[];
  outputs: {
    appId?: string | undefined;
    herokuUrl?: string | undefined;
    subdomainUrl?: string | undefined;
    dnsTarget?: string | undefined;
    record?: string | undefined;
  };
  /** Source vars not copied, by reason (names only). */
  addonOwned: readonly string[];
  addonDerived: readonly string[];
  excluded: readonly string[];
  failure?: Line | undefined;
  /** The runner cancelled the step: `failure` says where it stopped. */
  cancelled?: boolean;
  cleanup?: { removed: string[]; failed: string[] } | undefined;
}

const ICON: Record<StepStatus, string> = {
  exists: '✔ exists',
  done: '✅ done',
  'would-create': '➕ would create',
  failed: '❌ failed',
  'not-run': '⏸ not run',
  warning: '⚠️ warning',
};

export function renderSummary(report: CloneReport): string {
  const title = report.dryRun
    ? `### Clone ${report.source} → ${report.appName} (dry run: nothing changed)`
    : report.failure
      ? `### Clone ${report.source} → ${report.appName} ${report.cancelled ? 'cancelled' : 'failed'}`
      : `### Clone ${report.source} → ${report.appName}`;
  const table = summaryTable(
    ['#', 'step', 'status', 'time'],
    report.results.map((r, i) => [i + 1, r.description, ICON[r.status], r.ms > 0 ? formatMs(r.ms) : '']),
  );
  const parts = [title, '', table, ''];
  const o = report.outputs;
  const facts: [string, string | undefined][] = [
    ['app id', o.appId],
    ['Heroku URL', o.herokuUrl],
    ['subdomain', o.subdomainUrl],
    ['DNS target', o.dnsTarget],
    ['servers-file line', o.record],
  ];
  const shown = facts.filter(([, v]) => v);
  if (shown.length > 0) {
    parts.push(...shown.map(([k, v]) => `- ${k}: \`${escapeCell(v)}\``), '');
  }
  if (report.addonOwned.length > 0) {
    parts.push(
      `Not copied, owned by the source's add-ons: ${report.addonOwned.map((k) => `\`${k}\``).join(', ')}`,
      '',
    );
  }
  if (report.addonDerived.length > 0) {
    parts.push(
      `Not copied, their values hold an add-on's value (set them in \`config\` to copy them on purpose): ${report.addonDerived.map((k) => `\`${k}\``).join(', ')}`,
      '',
    );
  }
  if (report.excluded.length > 0) {
    parts.push(`Not copied, excluded: ${report.excluded.map((k) => `\`${k}\``).join(', ')}`, '');
  }
  if (report.failure)
    parts.push(`**${report.cancelled ? 'Cancelled' : 'Failed'}:** ${escapeCell(report.failure)}`, '');
  if (report.cleanup) {
    const { removed, failed } = report.cleanup;
    if (removed.length > 0) parts.push(`on-failure delete removed: ${removed.join(', ')}`, '');
    if (failed.length > 0) parts.push(`on-failure delete could not remove: ${failed.join('; ')}`, '');
  }
  return parts.join('\n');
}
