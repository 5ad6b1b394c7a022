import type { HttpClient } from '../core/http.ts';
import type { CloudflareHttp } from '../providers/cloudflare/client.ts';
import { CloudflareDnsRecords } from '../providers/cloudflare/dns-records.ts';
import { CloudflareZones } from '../providers/cloudflare/zones.ts';
import { HetznerActions } from '../providers/hetzner/actions.ts';
import { HetznerRRSets } from '../providers/hetzner/rrsets.ts';
import { HetznerZones } from '../providers/hetzner/zones.ts';
import { type DnsRecordState, type DnsZone, fqdnValue } from './dns.ts';

/** The clone's DNS step over Hetzner Cloud and Cloudflare, behind the `DnsZone` interface. */

export class ZoneNotFound extends Error {
  constructor(provider: string, zone: string) {
    super(`${provider} has no zone ${zone} that this token can see`);
    this.name = 'ZoneNotFound';
  }
}

/** Another record type holds the name, so a CNAME cannot be added there. */
export class NameTaken extends Error {
  constructor(fqdn: string, types: string[]) {
    super(`${fqdn} already has ${types.join(', ')} record(s); a CNAME cannot coexist with them`);
    this.name = 'NameTaken';
  }
}

export async function openHetznerZone(
  http: HttpClient,
  zoneName: string,
  signal?: AbortSignal,
): Promise<DnsZone> {
  const zone = await new HetznerZones(http).find(zoneName);
  if (!zone) throw new ZoneNotFound('Hetzner', zoneName);
  const rrsets = new HetznerRRSets(http);
  const actions = new HetznerActions(http);
  const wait = { signal };
  return {
    provider: 'hetzner',
    zone: zone.name,
    async find(name) {
      const rrset = await rrsets.find(zone.id, name, 'CNAME');
      if (!rrset) return undefined;
      return {
        values: rrset.values.map(fqdnValue),
        ttl: rrset.ttl,
        protected: rrset.protected,
      } satisfies DnsRecordState;
    },
    async create(name, target, ttl) {
      const action = await rrsets.create(zone.id, {
        name,
        type: 'CNAME',
        ttl,
        values: [fqdnValue(target)],
        labels: { 'managed-by': 'ops-actions-clone' },
      });
      await actions.wait(action, wait);
      return { values: [fqdnValue(target)], ttl };
    },
    async update(name, _existing, target, ttl, changes) {
      if (changes.includes('records')) {
        await actions.wait(await rrsets.setRecords(zone.id, name, 'CNAME', [fqdnValue(target)]), wait);
      }
      if (changes.includes('ttl')) {
        await actions.wait(await rrsets.changeTtl(zone.id, name, 'CNAME', ttl), wait);
      }
    },
    async remove(name) {
      const action = await rrsets.delete(zone.id, name, 'CNAME');
      if (action) await actions.wait(action, wait);
    },
  };
}

export async function openCloudflareZone(cf: CloudflareHttp, zoneName: string): Promise<DnsZone> {
  const zone = await new CloudflareZones(cf).findByName(zoneName);
  if (!zone) throw new ZoneNotFound('Cloudflare', zoneName);
  const records = new CloudflareDnsRecords(cf);
  const fqdn = (name: string) => `${name}.${zone.name}`;
  // Proxied off: ACM validates the certificate against the Heroku target itself.
  const input = (name: string, target: string, ttl: number) => ({
    name: fqdn(name),
    type: 'CNAME',
    content: fqdnValue(target).slice(0, -1),
    ttl,
    proxied: false,
  });
  return {
    provider: 'cloudflare',
    zone: zone.name,
    async find(name) {
      const all = await records.byName(zone.id, fqdn(name));
      const cname = all.find((r) => r.type === 'CNAME');
      if (!cname) {
        if (all.length > 0) throw new NameTaken(fqdn(name), [...new Set(all.map((r) => r.type))]);
        return undefined;
      }
      return { id: cname.id, values: [fqdnValue(cname.content)], ttl: cname.ttl, proxied: cname.proxied };
    },
    async create(name, target, ttl) {
      const created = await records.create(zone.id, input(name, target, ttl));
      return { id: created.id, values: [fqdnValue(created.content)], ttl: created.ttl, proxied: false };
    },
    async update(name, existing, target, ttl) {
      await records.update(zone.id, existing.id!, input(name, target, ttl));
    },
    async remove(_name, existing) {
      if (existing.id) await records.delete(zone.id, existing.id);
    },
  };
}
