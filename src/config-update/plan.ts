import { type Line, type Message, msg } from '../core/message.ts';
import type { UpdateRequest } from './inputs.ts';
import { noun, type SelectedTarget, type Target } from './targets.ts';

/**
 * The update call each target gets, as data, and its description for dry-run:
 * the same object is sent by the fan-out and printed by the plan, so what the
 * dry-run shows is what a real run sends.
 */

export interface UpdateCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export interface PlannedUnit extends SelectedTarget {
  call: UpdateCall;
}

export function buildCall(request: UpdateRequest, target: Target): UpdateCall {
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined && !hasHeader(headers, 'content-type') && looksLikeJson(request.body)) {
    headers['content-type'] = 'application/json';
  }
  if (request.authToken) headers.authorization = `Bearer ${request.authToken}`;
  if (target.machineId) headers['fly-force-instance-id'] = target.machineId;
  return { method: request.method, url: target.url, headers, body: request.body };
}

export function buildPlan(request: UpdateRequest, selected: readonly SelectedTarget[]): PlannedUnit[] {
  return selected.map((s) => ({ ...s, call: buildCall(request, s.target) }));
}

/** Units that send the update call, in the order the fan-out starts them. */
export function toSend(plan: readonly PlannedUnit[]): PlannedUnit[] {
  return plan.filter((u) => u.disposition === 'update' || u.disposition === 'wake');
}

export function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function looksLikeJson(body: string): boolean {
  const t = body.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/** Header names whose values are credentials, whoever set them. */
const SENSITIVE_HEADER = /authorization|token|secret|password|passwd|api-?key|cookie|signature|credential/i;

/** Values of credential headers from the `headers` input: secrets too, though no secret input holds them. */
export function credentialHeaderValues(headers: Record<string, string>): string[] {
  return Object.entries(headers)
    .filter(([name]) => SENSITIVE_HEADER.test(name))
    .flatMap(([, value]) => [value, value.replace(/^(Bearer|Basic|Token|FlyV1)\s+/i, '')]);
}

export function describeHeader(name: string, value: string): string {
  if (!SENSITIVE_HEADER.test(name)) return `${name}: ${value}`;
  const scheme = /^(Bearer|Basic|Token|FlyV1)\s/i.exec(value)?.[1];
  return `${name}: ${scheme ? `${scheme} ` : ''}[REDACTED]`;
}

const BODY_PREVIEW_CHARS = 200;

/** The request as lines for the log: method and URL, headers with credentials hidden, body preview. */
export function describeCall(call: UpdateCall): string[] {
  const lines = [`${call.method} ${call.url}`];
  for (const [name, value] of Object.entries(call.headers)) lines.push(`  ${describeHeader(name, value)}`);
  if (call.body !== undefined) {
    const oneLine = call.body.replace(/\s+/g, ' ').trim();
    const preview =
      oneLine.length > BODY_PREVIEW_CHARS
        ? `${oneLine.slice(0, BODY_PREVIEW_CHARS)}… (${call.body.length} bytes)`
        : oneLine;
    lines.push(`  body: ${preview}`);
  }
  return lines;
}

/**
 * How a plan line shows a target's id or URL: redacted, then shortened as its progress line
 * is (report.ts `progressName`: head … tail and where the user listed it), so that 10 000
 * targets with URLs of 3 KB do not print 30 MB of plan, and a cut never leaves part of a secret.
 */
export type ShowValue = (text: string, unit: PlannedUnit) => string;

/** One target's plan line; its id, region, URL and reason are values (core/message.ts), our words kept whole. */
export function describeUnit(unit: PlannedUnit, show: ShowValue = (text) => text): Message {
  const where = unit.target.region ? msg` (${unit.target.region})` : '';
  const name = msg`${show(unit.target.id, unit)}${where}`;
  const url = show(unit.call.url, unit);
  const reason = unit.reason ?? 'not started';
  switch (unit.disposition) {
    case 'update':
      return msg`${name}: ${unit.call.method} ${url}`;
    case 'wake':
      return msg`${name}: start machine, wait until started, then ${unit.call.method} ${url}`;
    case 'skip':
      return msg`${name}: skipped (${reason}; stopped-machines is skip)`;
    case 'fail':
      return msg`${name}: counted as failed (${reason}; stopped-machines is fail)`;
  }
}

/**
 * The dry-run's whole output: the request once (it differs per target only in the Fly header),
 * then every target, its id and URL as `show` gives them.
 */
export function describePlan(
  kind: 'fly' | 'kamal',
  plan: readonly PlannedUnit[],
  show: ShowValue = (text) => text,
): Line[] {
  const sending = toSend(plan);
  const lines: Line[] = [
    `Dry run: would update ${sending.length} ${noun(kind, sending.length)}; nothing is sent to them.`,
  ];
  const first = sending[0];
  if (first) {
    lines.push('Request:');
    const perTargetUrl = sending.some((u) => u.call.url !== first.call.url);
    const call = describeCall(first.call).map((l, i) => {
      if (i === 0 && perTargetUrl) return `${first.call.method} <the URL of each target>`;
      return kind === 'fly' ? l.replace(/^( {2}fly-force-instance-id: ).*$/, '$1<machine id>') : l;
    });
    lines.push(...call.map((l) => `  ${l}`));
  }
  lines.push('Targets:');
  for (const unit of plan) lines.push(msg`  ${describeUnit(unit, show)}`);
  return lines;
}
