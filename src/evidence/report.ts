import { formatMs, summaryTable } from '../core/summary.ts';
import type { Check } from './checks-file.ts';
import type { CheckResult } from './collect.ts';
import { CHECK_COLUMNS, checkRows, type EvidenceMeta } from './evidence-file.ts';

/** The job summary and the plan of a dry run, as pure Markdown with @actions/core summary tables. */

export interface ArtifactRef {
  id: number | undefined;
  name: string;
  url: string | undefined;
  /** Files in the artifact: more than one when earlier evidence of the run was carried over. */
  files?: number;
  /** The earlier artifact of the same name whose files were carried over. */
  replacedId?: number;
  /** Attempt artifacts an earlier attempt left behind, whose files were carried over too. */
  leftovers?: { name: string; id: number; deleted: boolean }[];
  /** The upload was tried and failed. */
  failed?: boolean;
}

export function artifactUrl(
  meta: { runUrl: string | undefined },
  id: number | undefined,
): string | undefined {
  return meta.runUrl && id !== undefined ? `${meta.runUrl}/artifacts/${id}` : undefined;
}

export function renderSummary(
  meta: EvidenceMeta,
  results: readonly CheckResult[],
  file: string,
  artifact: ArtifactRef | undefined,
  redactions: number,
): string {
  const passed = results.filter((r) => r.status === 'passed').length;
  const verdict = meta.gate.passed
    ? `✅ gate passed: ${passed}/${results.length} checks passed`
    : `❌ gate failed: required ${meta.gate.failedRequired.join(', ')} did not pass`;
  const where = !artifact
    ? 'Artifact: not uploaded (upload: false)'
    : artifact.failed
      ? `Artifact: ${artifact.name} — ❌ upload failed (see the error)`
      : `${artifact.url ? `Artifact: [${artifact.name}](${artifact.url})` : `Artifact: ${artifact.name}`}${
          artifact.files && artifact.files > 1
            ? ` (${artifact.files} files: this attempt's and ${artifact.files - 1} carried over from ${carriedFrom(artifact)})`
            : ''
        }${leftoversNote(artifact)}`;
  return [
    `### Evidence: ${meta.target} — ${meta.milestone}`,
    '',
    verdict,
    '',
    summaryTable(CHECK_COLUMNS, checkRows(results)),
    '',
    `${where} · file \`${file}\` · ${redactions} redaction${redactions === 1 ? '' : 's'}`,
    '',
  ].join('\n');
}

function carriedFrom(artifact: ArtifactRef): string {
  const sources =
    artifact.replacedId === undefined ? [] : [`artifact ${artifact.replacedId} of an earlier attempt`];
  for (const l of artifact.leftovers ?? []) sources.push(`leftover artifact ${l.name} (id ${l.id})`);
  return sources.join(' and ');
}

/** What became of the leftover attempt artifacts: deleted once their files were in this one, or kept. */
function leftoversNote(artifact: ArtifactRef): string {
  const leftovers = artifact.leftovers ?? [];
  if (leftovers.length === 0) return '';
  const deleted = leftovers.filter((l) => l.deleted).map((l) => l.name);
  const kept = leftovers.filter((l) => !l.deleted).map((l) => l.name);
  return [
    deleted.length > 0
      ? ` · ${deleted.join(', ')}, left by an earlier attempt, deleted: its files are in this artifact`
      : '',
    kept.length > 0
      ? ` · ${kept.join(', ')} could not be deleted (see the warning): its files are in this artifact too`
      : '',
  ].join('');
}

export function describeCheck(check: Check, defaultTimeoutMs: number, sshHost: string | undefined): string {
  const timeout = formatMs(check.timeoutMs ?? defaultTimeoutMs);
  const how =
    check.kind === 'http'
      ? `GET ${check.url} expecting ${check.expect ? check.expect.join(' or ') : '2xx'}`
      : `run ${sshHost ? `on ${sshHost}` : 'on the runner'}: ${check.command}`;
  return `${check.id}${check.required ? ' (required)' : ''}: ${how} (timeout ${timeout})`;
}

export function renderPlan(
  target: string,
  milestone: string,
  checks: readonly Check[],
  skipped: readonly Check[],
  defaultTimeoutMs: number,
  sshHost: string | undefined,
  previous: string | undefined,
): string {
  const rows = checks.map((c) => [
    c.id,
    c.title,
    c.kind === 'http' ? `GET ${c.url}` : c.command,
    sshHost && c.kind === 'run' ? sshHost : 'runner',
    formatMs(c.timeoutMs ?? defaultTimeoutMs),
    c.required ? 'yes' : 'no',
  ]);
  return [
    `### Evidence (dry run): ${target} — ${milestone}`,
    '',
    `${checks.length} check${checks.length === 1 ? '' : 's'} would run; none was run, no file was written, nothing was uploaded.`,
    previous ? `require-previous: ${previous}` : '',
    '',
    summaryTable(['id', 'title', 'command / request', 'where', 'timeout', 'required'], rows),
    '',
    skipped.length > 0 ? `Not for this milestone: ${skipped.map((c) => c.id).join(', ')}` : '',
    '',
  ].join('\n');
}
