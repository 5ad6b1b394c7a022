import type { HttpClient } from '../../core/http.ts';

export interface HerokuAccount {
  id: string;
  email: string;
}

export class HerokuAccounts {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  /** The account the API key belongs to; a 401 here means the key does not work. */
  async current(): Promise<HerokuAccount> {
    const res = await this.http.request<HerokuAccount>({ operation: 'account.info', path: '/account' });
    return { id: res.data.id, email: res.data.email };
  }
}
