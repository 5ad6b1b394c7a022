import type { HttpClient } from '../../core/http.ts';
import { providerList } from '../../core/provider-list.ts';
import { seg } from './client.ts';

export interface HerokuDomainInfo {
  id: string;
  hostname: string;
  kind: string;
  /** The DNS target a CNAME must point at, e.g. `xyz.herokudns.com`. */
  cname: string | undefined;
  status: string;
  acmStatus: string | undefined;
  acmStatusReason: string | undefined;
}

interface DomainJson {
  id: string;
  hostname: string;
  kind: string;
  cname?: string | null;
  status?: string;
  acm_status?: string | null;
  acm_status_reason?: string | null;
}

export class HerokuDomains {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  async find(app: string, hostname: string): Promise<HerokuDomainInfo | undefined> {
    const res = await this.http.request<DomainJson>({
      operation: 'domain.info',
      path: `/apps/${seg(app)}/domains/${seg(hostname)}`,
      acceptStatus: [404],
    });
    return res.status === 404 ? undefined : toDomain(res.data);
  }

  async list(app: string): Promise<HerokuDomainInfo[]> {
    const res = await this.http.request<DomainJson[]>({
      operation: 'domain.list',
      path: `/apps/${seg(app)}/domains`,
      // Heroku ranges a list by a field the schema declares for it; domain List declares
      // none, so the default `id` (platform-api schema, domain "List").
      headers: { range: 'id ..; max=1000' },
      acceptStatus: [206],
    });
    return providerList<DomainJson>(res.data, {
      provider: this.http.provider,
      operation: 'domain.list',
      fields: { id: 'text', hostname: 'text', kind: 'text' },
      requestId: res.requestId,
      request: res.request,
    }).map(toDomain);
  }

  /** `sni_endpoint: null` lets ACM manage the certificate. Not retried: a second add answers 422. */
  async add(app: string, hostname: string): Promise<HerokuDomainInfo> {
    const res = await this.http.request<DomainJson>({
      operation: 'domain.create',
      method: 'POST',
      path: `/apps/${seg(app)}/domains`,
      json: { hostname, sni_endpoint: null },
    });
    return toDomain(res.data);
  }
}

function toDomain(json: DomainJson): HerokuDomainInfo {
  return {
    id: json.id,
    hostname: json.hostname,
    kind: json.kind,
    cname: json.cname ?? undefined,
    status: json.status ?? '',
    acmStatus: json.acm_status ?? undefined,
    acmStatusReason: json.acm_status_reason ?? undefined,
  };
}
