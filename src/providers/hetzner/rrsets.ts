import type { HttpClient } from '../../core/http.ts';
import { providerList } from '../../core/provider-list.ts';
import { type HetznerAction, toAction } from './actions.ts';

/**
 * RRSets of a zone. Names are relative to the zone and lowercase (`@` for the apex);
 * CNAME values are fully qualified with a trailing dot. Every change answers with an
 * action the caller waits for.
 */

export interface HetznerRRSetInfo {
  name: string;
  type: string;
  ttl: number | null;
  values: string[];
  protected: boolean;
}

interface RRSetJson {
  name: string;
  type: string;
  ttl: number | null;
  records: { value: string }[];
  protection?: { change?: boolean };
}

export class HetznerRRSets {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  private path(zone: string | number, name: string, type: string): string {
    return `/zones/${encodeURIComponent(String(zone))}/rrsets/${encodeURIComponent(name)}/${type}`;
  }

  /** Every RRSet at a name, of any type (`GET /zones/{zone}/rrsets?name=`); a name holds few, one page. */
  async listByName(zone: string | number, name: string): Promise<HetznerRRSetInfo[]> {
    const res = await this.http.request<{ rrsets: RRSetJson[] }>({
      operation: 'list_rrsets',
      path: `/zones/${encodeURIComponent(String(zone))}/rrsets`,
      query: { name, per_page: 50 },
    });
    const where = {
      provider: this.http.provider,
      operation: 'list_rrsets',
      request: res.request,
      requestId: res.requestId,
    };
    const rrsets = providerList<RRSetJson>(res.data, {
      ...where,
      field: 'rrsets',
      fields: { name: 'text', type: 'text' },
    });
    return rrsets.map((r) =>
      toRRSet(
        r,
        providerList<{ value: string }>(r, { ...where, field: 'records', fields: { value: 'string' } }),
      ),
    );
  }

  /** Not retried: a second create answers 409 (uniqueness_error); callers re-observe. */
  async create(
    zone: string | number,
    input: { name: string; type: string; ttl: number; values: string[]; labels?: Record<string, string> },
  ): Promise<HetznerAction> {
    const res = await this.http.request<{ action: Parameters<typeof toAction>[0] }>({
      operation: 'create_rrset',
      method: 'POST',
      path: `/zones/${encodeURIComponent(String(zone))}/rrsets`,
      json: {
        name: input.name,
        type: input.type,
        ttl: input.ttl,
        records: input.values.map((value) => ({ value })),
        labels: input.labels ?? {},
      },
    });
    return toAction(res.data.action);
  }

  /** Replaces the records; sending it twice gives the same set, so it may be retried. */
  async setRecords(
    zone: string | number,
    name: string,
    type: string,
    values: string[],
  ): Promise<HetznerAction> {
    const res = await this.http.request<{ action: Parameters<typeof toAction>[0] }>({
      operation: 'set_records_of_rrset',
      method: 'POST',
      path: `${this.path(zone, name, type)}/actions/set_records`,
      json: { records: values.map((value) => ({ value })) },
      retrySafe: true,
    });
    return toAction(res.data.action);
  }

  async changeTtl(zone: string | number, name: string, type: string, ttl: number): Promise<HetznerAction> {
    const res = await this.http.request<{ action: Parameters<typeof toAction>[0] }>({
      operation: 'change_rrsets_ttl',
      method: 'POST',
      path: `${this.path(zone, name, type)}/actions/change_ttl`,
      json: { ttl },
      retrySafe: true,
    });
    return toAction(res.data.action);
  }

  /** Deleting an RRSet that is already gone counts as done (undefined: no action to wait for). */
  async delete(zone: string | number, name: string, type: string): Promise<HetznerAction | undefined> {
    const res = await this.http.request<{ action: Parameters<typeof toAction>[0] }>({
      operation: 'delete_rrset',
      method: 'DELETE',
      path: this.path(zone, name, type),
      acceptStatus: [404],
    });
    return res.status === 404 ? undefined : toAction(res.data.action);
  }
}

function toRRSet(r: RRSetJson, records: { value: string }[]): HetznerRRSetInfo {
  return {
    name: r.name,
    type: r.type,
    ttl: r.ttl,
    values: records.map((x) => x.value),
    protected: r.protection?.change === true,
  };
}
