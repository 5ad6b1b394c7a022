import type { HttpClient } from '../../core/http.ts';

/**
 * Machine leases: while we hold one, nobody else (another deploy, `fly deploy`)
 * can change the machine, and every change we send carries its nonce. A lease
 * is refreshed by POSTing again with the nonce, and released with DELETE.
 */

export const LEASE_NONCE_HEADER = 'fly-machine-lease-nonce';

export interface Lease {
  machineId: string;
  nonce: string;
  expiresAt: number | undefined;
}

export interface LeasesApi {
  acquire(machineId: string, options: { ttlSeconds: number; description: string }): Promise<Lease>;
  refresh(lease: Lease, ttlSeconds: number): Promise<Lease>;
  release(lease: Lease): Promise<void>;
}

interface LeaseJson {
  nonce?: string;
  expires_at?: number;
  data?: { nonce?: string; expires_at?: number };
}

export class FlyLeases implements LeasesApi {
  private readonly http: HttpClient;
  readonly app: string;

  constructor(http: HttpClient, app: string) {
    this.http = http;
    this.app = app;
  }

  private path(id: string): string {
    return `/apps/${encodeURIComponent(this.app)}/machines/${encodeURIComponent(id)}/lease`;
  }

  /** Not retried: a lost answer would leave a lease we hold but cannot name. */
  async acquire(machineId: string, options: { ttlSeconds: number; description: string }): Promise<Lease> {
    const res = await this.http.request<LeaseJson>({
      operation: 'Machines_create_lease',
      method: 'POST',
      path: this.path(machineId),
      json: { ttl: options.ttlSeconds, description: options.description },
    });
    return toLease(machineId, res.data);
  }

  /** With our nonce the POST extends our own lease, so sending it twice is harmless. */
  async refresh(lease: Lease, ttlSeconds: number): Promise<Lease> {
    const res = await this.http.request<LeaseJson>({
      operation: 'Machines_create_lease',
      method: 'POST',
      path: this.path(lease.machineId),
      headers: { [LEASE_NONCE_HEADER]: lease.nonce },
      json: { ttl: ttlSeconds },
      retrySafe: true,
    });
    return toLease(lease.machineId, res.data, lease.nonce);
  }

  /** A lease that already expired (404) counts as released. */
  async release(lease: Lease): Promise<void> {
    await this.http.request({
      operation: 'Machines_release_lease',
      method: 'DELETE',
      path: this.path(lease.machineId),
      headers: { [LEASE_NONCE_HEADER]: lease.nonce },
      acceptStatus: [404],
    });
  }
}

function toLease(machineId: string, json: LeaseJson | undefined, fallbackNonce?: string): Lease {
  const nonce = json?.nonce ?? json?.data?.nonce ?? fallbackNonce;
  if (!nonce) throw new Error(`Fly Machines answered a lease for machine ${machineId} without a nonce`);
  return { machineId, nonce, expiresAt: json?.expires_at ?? json?.data?.expires_at };
}
