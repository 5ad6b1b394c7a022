import { ApiError } from '../core/errors.ts';
import type { HttpClient } from '../core/http.ts';
import type { CloudflareHttp } from '../providers/cloudflare/client.ts';
import { CloudflareDnsRecords } from '../providers/cloudflare/dns-records.ts';
import { CloudflareZones } from '../providers/cloudflare/zones.ts';
import { HetznerActions } from '../providers/hetzner/actions.ts';
import { HetznerRRSets } from '../providers/hetzner/rrsets.ts';
import { HetznerZones } from '../providers/hetzner/zones.ts';
import { candidateZones, type DnsRecordState, type DnsZone, fqdnValue, relativeName } from './dns.ts';

/** The clone's DNS step over Hetzner Cloud and Cloudflare, behind the `DnsZone` interface. */

export class ZoneNotFound extends Error {
  constructor(provider: string, domain: string) {
    const tried = candidateZones(domain);
    super(
      `${provider} has no zone ${tried.length > 1 ? `for ${domain} (tried ${tried.join(', ')})` : domain} that this dns-token can see`,
    );
    this.name = 'ZoneNotFound';
  }
}

/**
 * A token that cannot list zones: Cloudflare answers 403 (9109 "Unauthorized to
 * access requested resource") to `GET /zones` for a token without Zone:Zone:Read,
 * e.g. one made from the "Edit zone DNS" template (ddclient/ddclient#834,
 * octodns/octodns-cloudflare#60).
 */
export class ZoneReadDenied extends Error {
  constructor(cause: ApiError) {
    super(
      `dns-token was refused by Cloudflare when looking up the zone (${cause.status}: ${cause.providerMessage ?? 'forbidden'}): the token needs the Zone → Zone → Read permission as well as Zone → DNS → Edit. The "Edit zone DNS" template grants only DNS edit; edit the token in the Cloudflare dashboard (My Profile → API Tokens) and add Zone:Read for this zone`,
    );
    this.name = 'ZoneReadDenied';
  }
}

/**
 * Cloudflare's 403 (9109) for a token that is not valid at all (wrong, expired, revoked: "Invalid
 * access token") or not from this address ("Cannot use the access token from location: …"), as
 * answered to `GET /zones` (jeessy2/ddns-go#890): no permission would help, the token itself is
 * refused, and the plain refusal of dns-token says so.
 */
function refusesTheToken(error: ApiError): boolean {
  return /invalid access token|cannot use the access token/i.test(error.providerMessage ?? '');
}

/** Another record type holds the name, so a CNAME cannot be added there. */
export class NameTaken extends Error {
  constructor(fqdn: string, types: string[]) {
    super(`${fqdn} already has ${types.join(', ')} record(s); a CNAME cannot coexist with them`);
    this.name = 'NameTaken';
  }
}

/**
 * A read-only Hetzner token passes every read of the preflight and is refused on
 * the first write with 403 `token_readonly` ("the token is only allowed to perform
 * GET requests"; hcloud-go hcloud/error.go).
 */
export class TokenReadOnly extends Error {
  constructor(cause: ApiError) {
    super(
      `dns-token is a read-only Hetzner API token: Hetzner refused ${cause.request} (403: ${cause.providerMessage ?? 'token_readonly'}). Create a token with Read & Write permission in the Hetzner Console (your project → Security → API tokens) and store it as the dns-token secret`,
    );
    this.name = 'TokenReadOnly';
  }
}

async function hetznerWrite<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (
      error instanceof ApiError &&
      error.status === 403 &&
      /^token_readonly\b/.test(error.providerMessage ?? '')
    )
      throw new TokenReadOnly(error);
    throw error;
  }
}

/**
 * A name between the zone and the record that holds NS records is delegated to
 * other name servers: a record written below it in this zone is never served.
 */
export class NameDelegated extends Error {
  constructor(fqdn: string, servers: string[]) {
    super(
      `${fqdn} is delegated to other name servers (NS ${servers.join(', ')}): a record for it in this zone would never be served. Use the dns-provider and dns-token of the zone that serves ${fqdn}`,
    );
    this.name = 'NameDelegated';
  }
}

/** The names strictly between the zone and a record: `tati.a.staging` → `a.staging`, `staging`. */
function namesAbove(name: string): string[] {
  const labels = name.split('.');
  return labels.slice(1).map((_, i) => labels.slice(i + 1).join('.'));
}

/** The first zone `find` knows, longest candidate first. */
async function longestZone<Z>(domain: string, find: (name: string) => Promise<Z | undefined>) {
  for (const name of candidateZones(domain)) {
    const zone = await find(name);
    if (zone) return zone;
  }
  return undefined;
}

export async function openHetznerZone(
  http: HttpClient,
  domain: string,
  signal?: AbortSignal,
): Promise<DnsZone> {
  const zones = new HetznerZones(http);
  const zone = await longestZone(domain, (name) => zones.find(name));
  if (!zone) throw new ZoneNotFound('Hetzner', domain);
  const rrsets = new HetznerRRSets(http);
  const actions = new HetznerActions(http);
  const wait = { signal };
  return {
    provider: 'hetzner',
    zone: zone.name,
    recordName: (label) => relativeName(label, domain, zone.name),
    async find(name) {
      for (const above of namesAbove(name)) {
        const ns = (await rrsets.listByName(zone.id, above)).find((r) => r.type === 'NS');
        if (ns) throw new NameDelegated(`${above}.${zone.name}`, ns.values);
      }
      // Every type at the name: a CNAME cannot share it with any other (RFC 1034 §3.6.2).
      const all = await rrsets.listByName(zone.id, name);
      const rrset = all.find((r) => r.type === 'CNAME');
      if (!rrset) {
        if (all.length > 0) throw new NameTaken(`${name}.${zone.name}`, [...new Set(all.map((r) => r.type))]);
        return undefined;
      }
      return {
        // A value without its final dot is relative to the zone, as in a zone file.
        values: rrset.values.map((v) => (v.endsWith('.') ? fqdnValue(v) : fqdnValue(`${v}.${zone.name}`))),
        ttl: rrset.ttl,
        protected: rrset.protected,
      } satisfies DnsRecordState;
    },
    create: (name, target, ttl) =>
      hetznerWrite(async () => {
        const action = await rrsets.create(zone.id, {
          name,
          type: 'CNAME',
          ttl,
          values: [fqdnValue(target)],
          labels: { 'managed-by': 'ops-actions-clone' },
        });
        await actions.wait(action, wait);
        return { values: [fqdnValue(target)], ttl };
      }),
    update: (name, _existing, target, ttl, changes) =>
      hetznerWrite(async () => {
        if (changes.includes('records')) {
          await actions.wait(await rrsets.setRecords(zone.id, name, 'CNAME', [fqdnValue(target)]), wait);
        }
        if (changes.includes('ttl')) {
          await actions.wait(await rrsets.changeTtl(zone.id, name, 'CNAME', ttl), wait);
        }
      }),
    restore: (name, _current, previous) =>
      hetznerWrite(async () => {
        await actions.wait(await rrsets.setRecords(zone.id, name, 'CNAME', previous.values), wait);
        if (previous.ttl !== null)
          await actions.wait(await rrsets.changeTtl(zone.id, name, 'CNAME', previous.ttl), wait);
      }),
    remove: (name) =>
      hetznerWrite(async () => {
        const action = await rrsets.delete(zone.id, name, 'CNAME');
        if (action) await actions.wait(action, wait);
      }),
  };
}

export async function openCloudflareZone(cf: CloudflareHttp, domain: string): Promise<DnsZone> {
  const zones = new CloudflareZones(cf);
  const zone = await longestZone(domain, (name) =>
    zones.findByName(name).catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 403 && !refusesTheToken(error))
        throw new ZoneReadDenied(error);
      throw error;
    }),
  );
  if (!zone) throw new ZoneNotFound('Cloudflare', domain);
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
    recordName: (label) => relativeName(label, domain, zone.name),
    async find(name) {
      for (const above of namesAbove(name)) {
        const ns = (await records.byName(zone.id, fqdn(above))).filter((r) => r.type === 'NS');
        if (ns.length > 0)
          throw new NameDelegated(
            fqdn(above),
            ns.map((r) => r.content),
          );
      }
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
    async restore(name, current, previous) {
      await records.update(zone.id, current.id ?? previous.id!, {
        ...input(name, previous.values[0]!, previous.ttl ?? 1),
        proxied: previous.proxied === true,
      });
    },
    async remove(_name, existing) {
      if (existing.id) await records.delete(zone.id, existing.id);
    },
  };
}
