import { isIPv4 } from 'node:net';
import type { HttpClient } from '../../core/http.ts';
import { providerList } from '../../core/provider-list.ts';

/**
 * Droplets, read-only: the ones carrying a tag, every page of them. The tag
 * is the safety line of seed 003 (`deployed-via-api`): a droplet without it is
 * never returned, even if the API ignored the filter.
 */

export interface Droplet {
  id: number;
  name: string;
  status: string;
  tags: string[];
  /** The public IPv4 address (dotted quad), when the droplet has one. */
  publicIpv4: string | undefined;
}

interface ApiDroplet {
  id: number;
  name: string;
  status: string;
  tags?: string[];
  networks?: { v4?: unknown };
}

interface DropletPage {
  droplets?: ApiDroplet[];
  links?: { pages?: { next?: string } };
}

const PER_PAGE = 200;
const MAX_PAGES = 1000;

export async function listDropletsByTag(client: HttpClient, tag: string): Promise<Droplet[]> {
  const out: Droplet[] = [];
  for (let page = 1, pages = 0; pages < MAX_PAGES; pages++) {
    const res = await client.request<DropletPage>({
      operation: 'droplets.list',
      path: '/droplets',
      query: { tag_name: tag, per_page: PER_PAGE, page },
    });
    const droplets = providerList<ApiDroplet>(res.data, {
      provider: client.provider,
      operation: 'droplets.list',
      field: 'droplets',
      // The droplet fields hosts are chosen by (DigitalOcean API reference, List All Droplets).
      fields: { id: 'number', name: 'text', status: 'text', tags: 'list?', networks: 'object?' },
      requestId: res.requestId,
      request: res.request,
    });
    for (const droplet of droplets) {
      if (!(droplet.tags ?? []).includes(tag)) continue;
      out.push(toDroplet(droplet));
    }
    // `next` is an absolute URL on the real API host; only its page number is followed,
    // so the configured base URL (a sandbox, a proxy) stays the one spoken to.
    const next = nextPage(res.data?.links?.pages?.next);
    if (next === undefined || next <= page) break;
    page = next;
  }
  return out;
}

export function nextPage(link: string | undefined): number | undefined {
  if (!link) return undefined;
  try {
    const value = Number(new URL(link).searchParams.get('page'));
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

function toDroplet(d: ApiDroplet): Droplet {
  return { id: d.id, name: d.name, status: d.status, tags: d.tags ?? [], publicIpv4: publicIpv4(d) };
}

/**
 * The `ip_address` of the `type: public` entry of `networks.v4` (DigitalOcean API reference,
 * List All Droplets), only when it is an IPv4 address: it becomes the ssh destination, where
 * anything else (`null`, a name, `-J…`) would be another host or an ssh option. A droplet
 * without one is skipped, and the log says why.
 */
function publicIpv4(d: ApiDroplet): string | undefined {
  const v4 = d.networks?.v4;
  if (!Array.isArray(v4)) return undefined;
  const address = v4.find((n) => n?.type === 'public')?.ip_address;
  return typeof address === 'string' && isIPv4(address) ? address : undefined;
}
