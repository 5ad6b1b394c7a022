import { BlockList, isIP } from 'node:net';

/**
 * NO_PROXY as curl and the GitHub runner read it: a list separated by commas
 * or spaces, each entry one of
 * - `*`: every host (`*:8080`: every host on that port);
 * - an IP range in CIDR form, `10.0.0.0/8`, `127.0.0.0/8`, `fd00::/8` (curl
 *   since 7.86);
 * - an IP address, `127.0.0.1`, `::1`, `[::1]`;
 * - a host name, `example.com` (it and every subdomain), `.example.com`
 *   (the same: curl ignores the leading dot), `*.example.com` (subdomains
 *   only, as undici's EnvHttpProxyAgent reads it);
 * each optionally with `:port` (`[::1]:8080` for IPv6), which then matches
 * only that port (the URL's, or 80/443 by its scheme). Names compare without
 * case and without a trailing dot. actions/toolkit's http-client
 * (packages/http-client/src/proxy.ts, checkBypass) matches names and ports the
 * same way; it and undici know no CIDR ranges, which self-hosted runners'
 * NO_PROXY lists commonly hold.
 */
export interface NoProxy {
  /** Whether a request to `url` goes direct. */
  bypasses(url: URL): boolean;
}

interface Entry {
  /** Lower case, no leading `.`/`*.`, no trailing dot; `*` for every host. */
  host: string;
  /** 0: any port. */
  port: number;
  /** `*.example.com`: subdomains only. */
  subdomainsOnly: boolean;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

export function parseNoProxy(value: string): NoProxy {
  const names: Entry[] = [];
  const ranges = new BlockList();
  for (const raw of value.split(/[,\s]+/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const cidr = /^\[?([0-9a-fA-F:.]+)\]?\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const family = isIP(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (family !== 0 && prefix <= (family === 4 ? 32 : 128))
        ranges.addSubnet(cidr[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
      continue;
    }
    const { host, port } = splitPort(entry);
    const subdomainsOnly = host.startsWith('*.');
    const name = host
      .replace(/^\*?\./, '')
      .replace(/(.)\.$/, '$1')
      .toLowerCase();
    if (name) names.push({ host: name, port, subdomainsOnly });
  }
  return {
    bypasses(url) {
      const host = url.hostname
        .replace(/^\[(.*)\]$/, '$1')
        .replace(/(.)\.$/, '$1')
        .toLowerCase();
      const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 0;
      const family = isIP(host);
      if (family !== 0 && ranges.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
      for (const entry of names) {
        if (entry.port !== 0 && entry.port !== port) continue;
        if (entry.host === '*') return true;
        if (host === entry.host && !entry.subdomainsOnly) return true;
        // An IP address has no subdomains: `0.0.1` must not match `10.0.0.1`.
        if (family === 0 && host.endsWith(`.${entry.host}`)) return true;
      }
      return false;
    },
  };
}

/** `host:port`, `[v6]:port`, a bare IPv6 address (several colons: no port). */
function splitPort(entry: string): { host: string; port: number } {
  const v6 = /^\[(.+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : 0 };
  const parts = /^([^:]+):(\d+)$/.exec(entry);
  if (parts) return { host: parts[1]!, port: Number(parts[2]) };
  return { host: entry, port: 0 };
}
