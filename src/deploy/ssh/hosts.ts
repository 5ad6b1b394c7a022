import { StepError } from '../../core/errors.ts';
import { type SshHost, sshHostKey } from '../../core/inputs.ts';
import { msg } from '../../core/message.ts';
import type { Droplet } from '../../providers/digitalocean/droplets.ts';

/**
 * Which hosts a deploy touches. Without a DigitalOcean token: the `hosts`
 * lines (the input parser has refused two lines for one machine). With one:
 * the droplets carrying the tag, reached on their public IPv4 as
 * `root@<ip>:22` (DigitalOcean's default login), where a `hosts` line naming
 * a droplet (by IP or name) gives its user and port instead. A `hosts` line
 * that names no tagged droplet is refused: the tag is the safety line, and
 * nothing outside it is ever touched. One machine is never deployed twice:
 * machines are compared by `sshHostKey`, as the input parser compares lines.
 */

export interface DeployHost {
  /** Shown in the summary and progress: the droplet name or the host. */
  id: string;
  /** `user@host:port` */
  where: string;
  login: SshHost;
}

/** `user@host:port` as shown in progress and errors (`[::1]:22` for an IPv6 address). */
export function hostKey(login: SshHost): string {
  const host = login.host.includes(':') ? `[${login.host}]` : login.host;
  return `${login.user ? `${login.user}@` : ''}${host}:${login.port}`;
}

export function fromHostsInput(hosts: SshHost[]): DeployHost[] {
  return hosts.map((login) => ({ id: login.host, where: hostKey(login), login }));
}

export interface DropletChoice {
  hosts: DeployHost[];
  /** Tagged droplets left out, with why (no public IPv4, not active). */
  skipped: { name: string; reason: string }[];
  /** What was merged, for the log: a droplet the listing answered more than once. */
  merged: string[];
}

export function fromDroplets(tag: string, droplets: Droplet[], hostsInput: SshHost[]): DropletChoice {
  const { unique, merged } = oncePerId(droplets.filter((d) => d.tags.includes(tag)));
  const skipped: DropletChoice['skipped'] = [];
  const usable: (Droplet & { publicIpv4: string })[] = [];
  for (const d of unique) {
    if (!d.publicIpv4) skipped.push({ name: d.name, reason: 'it has no public IPv4 address' });
    else if (d.status !== 'active') skipped.push({ name: d.name, reason: `its status is ${d.status}` });
    else usable.push({ ...d, publicIpv4: d.publicIpv4 });
  }
  const linesOf = new Map<number, SshHost[]>();
  for (const line of hostsInput) {
    const named = unique.filter((d) => names(line, d));
    if (named.length === 0) {
      throw new StepError(
        'hosts',
        msg`deploy to hosts entry ${hostKey(line)}`,
        `this hosts entry is not a droplet tagged ${JSON.stringify(tag)}; droplets without the tag are never touched`,
      );
    }
    for (const d of named) linesOf.set(d.id, [...(linesOf.get(d.id) ?? []), line]);
  }
  const hosts = usable.map((d): DeployHost => {
    const lines = linesOf.get(d.id) ?? [];
    if (lines.length > 1) {
      throw new StepError(
        'hosts',
        msg`deploy to droplet ${d.name}`,
        `the hosts entries ${lines.map(hostKey).join(' and ')} both name it (by name or IP); give one entry per droplet`,
      );
    }
    const named = lines[0];
    const login: SshHost = { user: named ? named.user : 'root', host: d.publicIpv4, port: named?.port ?? 22 };
    return { id: d.name, where: hostKey(login), login };
  });
  if (hosts.length === 0) {
    const why = skipped.length > 0 ? `: ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : '';
    throw new StepError(
      'hosts',
      msg`find the droplets tagged ${JSON.stringify(tag)} on DigitalOcean`,
      `no active droplet with a public IPv4 address carries this tag${why}`,
    );
  }
  refuseSharedMachines(hosts, tag);
  return { hosts, skipped, merged };
}

/** A `hosts` line names a droplet by its public IPv4 or its name, compared as `sshHostKey` compares hosts. */
function names(line: SshHost, d: Droplet): boolean {
  const host = machineOf(line.host);
  return [d.publicIpv4, d.name].some((h) => h !== undefined && machineOf(h) === host);
}

/** The host part of `sshHostKey`; a droplet name no URL parser takes is compared lower-cased. */
function machineOf(host: string): string {
  try {
    return sshHostKey({ user: undefined, host, port: 22 });
  } catch {
    return `${host.toLowerCase()}:22`;
  }
}

/**
 * The listing can answer one droplet twice (a droplet created or deleted while the pages were
 * read shifts them): one droplet is one host, and the log says so.
 */
function oncePerId(droplets: Droplet[]): { unique: Droplet[]; merged: string[] } {
  const seen = new Map<number, number>();
  const unique: Droplet[] = [];
  for (const d of droplets) {
    seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
    if (seen.get(d.id) === 1) unique.push(d);
  }
  const merged = unique
    .filter((d) => seen.get(d.id)! > 1)
    .map(
      (d) =>
        `droplet ${d.name} (id ${d.id}) was listed ${seen.get(d.id)} times by DigitalOcean; it is deployed once`,
    );
  return { unique, merged };
}

/** Two droplets that would be reached as one machine (a stale listing): which one is meant is unknown. */
function refuseSharedMachines(hosts: DeployHost[], tag: string): void {
  const byMachine = new Map<string, DeployHost>();
  for (const h of hosts) {
    const key = sshHostKey(h.login);
    const first = byMachine.get(key);
    if (first) {
      throw new StepError(
        'hosts',
        msg`find the droplets tagged ${JSON.stringify(tag)} on DigitalOcean`,
        `droplets ${first.id} and ${h.id} are both reached as ${key}; one machine would be deployed twice (check the droplets' public IPv4 addresses)`,
      );
    }
    byMachine.set(key, h);
  }
}
