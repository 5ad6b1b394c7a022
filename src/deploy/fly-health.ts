import type { FlyCheck, MachineView } from '../providers/fly/machines.ts';

/**
 * The health gate of one machine, as a pure function of what GET machine shows.
 *
 * flyctl counts the checks the machine's config defines — top-level `checks` plus every
 * `services[].checks` — not the results the platform reports, because the result list is empty
 * for a freshly updated machine and an empty list would pass vacuously (flyctl
 * internal/machine/leasable_machine.go `WaitForHealthchecksToPass`, the fix for exactly that bug).
 * Here the gate is stricter than flyctl's "at least one result and all passing": every defined
 * check must have reported and passed. Checks named `bg_deployments_compat*` are the platform's
 * own and are ignored (fly-go machine_types.go `RemoveCompatChecks`).
 */

export type HealthVerdict =
  | { healthy: true; summary: string }
  | { healthy: false; summary: string; reported: number; expected: number };

const COMPAT_CHECK = /^bg_deployments_compat/;

/** Checks the config defines: keys of `config.checks` plus the length of each `services[].checks`. */
export function definedCheckCount(config: Record<string, unknown> | undefined): number {
  const top = config?.checks;
  let count = top && typeof top === 'object' ? Object.keys(top).length : 0;
  const services = config?.services;
  if (Array.isArray(services)) {
    for (const service of services) {
      const checks = (service as { checks?: unknown } | null)?.checks;
      if (Array.isArray(checks)) count += checks.length;
    }
  }
  return count;
}

export function healthOf(machine: Pick<MachineView, 'state' | 'config' | 'checks'>): HealthVerdict {
  const expected = definedCheckCount(machine.config);
  const results = (machine.checks ?? []).filter((c) => !COMPAT_CHECK.test(c.name));
  if (machine.state !== 'started') {
    return { healthy: false, summary: `machine is ${machine.state}`, reported: results.length, expected };
  }
  if (expected === 0) return { healthy: true, summary: 'started; its config defines no checks' };
  const passing = results.filter((c) => c.status === 'passing').length;
  if (results.length >= expected && passing === results.length) {
    return { healthy: true, summary: `${passing}/${expected} checks passing` };
  }
  const summary =
    results.length === 0
      ? `no check results yet (${expected} defined)`
      : `${results.length} of ${expected} checks reported, ${passing} passing: ${results.map(describe).join(', ')}`;
  return { healthy: false, summary, reported: results.length, expected };
}

function describe(check: FlyCheck): string {
  return `${check.name}=${check.status}${check.status !== 'passing' && check.output ? ` (${check.output})` : ''}`;
}
