import type { HttpClient } from '../../core/http.ts';

export interface HetznerZoneInfo {
  id: number;
  name: string;
  ttl: number;
  /** Hetzner refuses changes to a protected zone's records only through rrset protection. */
  status: string;
}

interface ZoneJson {
  id: number;
  name: string;
  ttl: number;
  status?: string;
}

export class HetznerZones {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  /** By id or name; undefined when the token sees no such zone. */
  async find(idOrName: string | number): Promise<HetznerZoneInfo | undefined> {
    const res = await this.http.request<{ zone: ZoneJson }>({
      operation: 'get_zone',
      path: `/zones/${encodeURIComponent(String(idOrName))}`,
      acceptStatus: [404],
    });
    if (res.status === 404) return undefined;
    const z = res.data.zone;
    return { id: z.id, name: z.name, ttl: z.ttl, status: z.status ?? '' };
  }
}
