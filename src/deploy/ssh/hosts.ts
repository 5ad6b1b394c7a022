import { StepError } from '../../core/errors.ts';
import type { SshHost } from '../../core/inputs.ts';
import type { Droplet } from '../../providers/digitalocean/droplets.ts';

/**
 * Which hosts a deploy touches. Without a DigitalOcean token: the `hosts`
 * lines. With one: the droplets carrying the tag, reached on their public
 * IPv4 as `root@<ip>:22` (DigitalOcean's default login), where a `hosts` line
 * naming a droplet (by IP or name) gives its user and port instead. A `hosts`
 * line that names no tagged droplet is refused: the tag is the safety line,
 * and nothing outside it is ever touched.
 */

export interface DeployHost {
  /** Shown in the summary and progress: the droplet name or the host. */
  id: string;
  /** `user@host:port` */
  where: string;
  login: SshHost;
}

export function hostKey(login: SshHost): string {
  const host = login.host.includes(':') ? `[${login.host}]` : login.host;
  return `${login.user ? `${login.user}@` : ''}${host}:${login.port}`;
}

export function fromHostsInput(hosts: SshHost[]): DeployHost[] {
  return dedupe(hosts.map((login) => ({ id: login.host, where: hostKey(login), login })));
}

export interface DropletChoice {
  hosts: DeployHost[];
  /** Tagged droplets left out, with why (no public IPv4, not active). */
  skipped: { name: string; reason: string }[];
}

export function fromDroplets(tag: string, droplets: Droplet[], hostsInput: SshHost[]): DropletChoice {
  const tagged = droplets.filter((d) => d.tags.includes(tag));
  const skipped: DropletChoice['skipped'] = [];
  const usable: (Droplet & { publicIpv4: string })[] = [];
  for (const d of tagged) {
    if (!d.publicIpv4) skipped.push({ name: d.name, reason: 'it has no public IPv4 address' });
    else if (d.status !== 'active') skipped.push({ name: d.name, reason: `its status is ${d.status}` });
    else usable.push({ ...d, publicIpv4: d.publicIpv4 });
  }
  for (const line of hostsInput) {
    if (!tagged.some((d) => d.publicIpv4 === line.host || d.name === line.host)) {
      throw new StepError(
        'hosts',
        `deploy to hosts entry ${hostKey(line)}`,
        `this hosts entry is not a droplet tagged ${JSON.stringify(tag)}; droplets without the tag are never touched`,
      );
    }
  }
  const hosts = usable.map((d): DeployHost => {
    const named = hostsInput.find((h) => h.host === d.publicIpv4 || h.host === d.name);
    const login: SshHost = { user: named ? named.user : 'root', host: d.publicIpv4, port: named?.port ?? 22 };
    return { id: d.name, where: hostKey(login), login };
  });
  if (hosts.length === 0) {
    const why = skipped.length > 0 ? `: ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : '';
    throw new StepError(
      'hosts',
      `find the droplets tagged ${JSON.stringify(tag)} on DigitalOcean`,
      `no active droplet with a public IPv4 address carries this tag${why}`,
    );
  }
  return { hosts: dedupe(hosts), skipped };
}

/** Two lines for one host would make a deploy wait for its own lock; host names are case-insensitive (DNS). */
function dedupe(hosts: DeployHost[]): DeployHost[] {
  const seen = new Set<string>();
  return hosts.filter((h) => {
    const key = `${h.login.host.toLowerCase()}:${h.login.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
