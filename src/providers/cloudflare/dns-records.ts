import type { CloudflareHttp } from './client.ts';

export interface CloudflareRecordInfo {
  id: string;
  name: string;
  type: string;
  content: string;
  ttl: number;
  proxied: boolean;
}

export interface CloudflareRecordInput {
  name: string;
  type: string;
  content: string;
  ttl: number;
  proxied: boolean;
}

export class CloudflareDnsRecords {
  private readonly cf: CloudflareHttp;

  constructor(cf: CloudflareHttp) {
    this.cf = cf;
  }

  /** Records of any type at a fully qualified name (a CNAME excludes every other type there). */
  async byName(zoneId: string, fqdn: string): Promise<CloudflareRecordInfo[]> {
    const result = await this.cf.list<CloudflareRecordInfo>({
      operation: 'dns-records-for-a-zone-list-dns-records',
      path: `/zones/${encodeURIComponent(zoneId)}/dns_records`,
      query: { name: fqdn, per_page: 100 },
    });
    return result.map(pick);
  }

  /** Not retried: a second create answers 81053/81058 (exists); callers re-observe. */
  async create(zoneId: string, input: CloudflareRecordInput): Promise<CloudflareRecordInfo> {
    const { result } = await this.cf.result<CloudflareRecordInfo>({
      operation: 'dns-records-for-a-zone-create-dns-record',
      method: 'POST',
      path: `/zones/${encodeURIComponent(zoneId)}/dns_records`,
      json: input,
    });
    return pick(result);
  }

  /** PUT replaces the whole record, so it is idempotent. */
  async update(zoneId: string, id: string, input: CloudflareRecordInput): Promise<CloudflareRecordInfo> {
    const { result } = await this.cf.result<CloudflareRecordInfo>({
      operation: 'dns-records-for-a-zone-update-dns-record',
      method: 'PUT',
      path: `/zones/${encodeURIComponent(zoneId)}/dns_records/${encodeURIComponent(id)}`,
      json: input,
    });
    return pick(result);
  }

  /** Deleting a record that is already gone counts as done. */
  async delete(zoneId: string, id: string): Promise<void> {
    await this.cf.http.request({
      operation: 'dns-records-for-a-zone-delete-dns-record',
      method: 'DELETE',
      path: `/zones/${encodeURIComponent(zoneId)}/dns_records/${encodeURIComponent(id)}`,
      acceptStatus: [404],
    });
  }
}

function pick(r: CloudflareRecordInfo): CloudflareRecordInfo {
  return { id: r.id, name: r.name, type: r.type, content: r.content, ttl: r.ttl, proxied: r.proxied };
}
