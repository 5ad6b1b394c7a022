/**
 * The DNS record of the clone as provider-neutral data, and the one pure rule that
 * decides what to change: create it, or update only what differs.
 */

export type DnsProviderName = 'hetzner' | 'cloudflare';

export interface DnsRecordState {
  /** Provider id when it has one (Cloudflare record id). */
  id?: string | undefined;
  /** Record values, lowercase, fully qualified with a trailing dot. */
  values: string[];
  /** null: the zone's default TTL. */
  ttl: number | null;
  /** Cloudflare only: whether traffic goes through its proxy. */
  proxied?: boolean | undefined;
  /** Hetzner only: the RRSet is protected against changes. */
  protected?: boolean | undefined;
}

export type DnsChange = 'records' | 'ttl' | 'proxied';

export type DnsDecision = { op: 'create' } | { op: 'update'; changes: DnsChange[] } | { op: 'none' };

/**
 * Zones that could hold `domain`, longest first: the domain itself, then each parent
 * with at least two labels (`a.b.example.com` → itself, `b.example.com`, `example.com`).
 * The zone is the longest one the provider has, as resolvers delegate.
 */
export function candidateZones(domain: string): string[] {
  const labels = domain.toLowerCase().replace(/\.+$/, '').split('.');
  return labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
}

/** The record name of `label.domain` relative to `zone`; `zone` is `domain` or a parent of it. */
export function relativeName(label: string, domain: string, zone: string): string {
  const d = domain.toLowerCase().replace(/\.+$/, '');
  return d === zone ? label : `${label}.${d.slice(0, d.length - zone.length - 1)}`;
}

/** `xyz.herokudns.com` → `xyz.herokudns.com.` */
export function fqdnValue(target: string): string {
  return `${target.trim().toLowerCase().replace(/\.+$/, '')}.`;
}

export function decideDns(existing: DnsRecordState | undefined, target: string, ttl: number): DnsDecision {
  if (!existing) return { op: 'create' };
  const changes: DnsChange[] = [];
  const want = fqdnValue(target);
  if (existing.values.length !== 1 || fqdnValue(existing.values[0]!) !== want) changes.push('records');
  if (existing.ttl !== ttl) changes.push('ttl');
  if (existing.proxied === true) changes.push('proxied');
  return changes.length === 0 ? { op: 'none' } : { op: 'update', changes };
}

/**
 * What the clone's DNS step needs from a provider: three calls over one record.
 * `create`/`update` return once the provider reports the change applied.
 */
export interface DnsZone {
  provider: DnsProviderName;
  /** The provider's zone holding the domain: the domain itself or its longest parent the provider has. */
  zone: string;
  /** `tati` → its name relative to the zone (`tati.staging` for domain staging.example.com in zone example.com). */
  recordName(label: string): string;
  /** The CNAME at the name; throws NameTaken when records of other types hold the name. */
  find(name: string): Promise<DnsRecordState | undefined>;
  create(name: string, target: string, ttl: number): Promise<DnsRecordState>;
  update(
    name: string,
    existing: DnsRecordState,
    target: string,
    ttl: number,
    changes: DnsChange[],
  ): Promise<void>;
  remove(name: string, existing: DnsRecordState): Promise<void>;
  /** Puts a record this run changed back as it was (values, TTL, Cloudflare's proxied flag). */
  restore(name: string, current: DnsRecordState, previous: DnsRecordState): Promise<void>;
}
