import type { CloudflareHttp } from './client.ts';

export interface CloudflareZoneInfo {
  id: string;
  name: string;
}

export class CloudflareZones {
  private readonly cf: CloudflareHttp;

  constructor(cf: CloudflareHttp) {
    this.cf = cf;
  }

  async findByName(name: string): Promise<CloudflareZoneInfo | undefined> {
    const result = await this.cf.list<{ id: string; name: string }>({
      operation: 'zones-get',
      path: '/zones',
      query: { name },
    });
    const zone = result.find((z) => z.name === name);
    return zone ? { id: zone.id, name: zone.name } : undefined;
  }
}
