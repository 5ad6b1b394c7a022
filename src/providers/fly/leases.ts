import { ApiError } from '../../core/errors.ts';
import type { HttpClient } from '../../core/http.ts';
import { ComposedError, msg } from '../../core/message.ts';

/**
 * Machine leases: while we hold one, nobody else (another deploy, `fly deploy`)
 * can change the machine, and every change we send carries its nonce. A lease
 * is refreshed by POSTing again with the nonce, and released with DELETE.
 *
 * A lease carries the description it was created with, and GET .../lease shows
 * the current one with its nonce (flyctl's `machine leases clear` works that
 * way). So a lease we created but never heard back about — the answer was lost,
 * in this attempt or an earlier attempt of the same workflow run — is found by
 * its description and adopted rather than waited out.
 */

export const LEASE_NONCE_HEADER = 'fly-machine-lease-nonce';

export interface Lease {
  machineId: string;
  nonce: string;
  expiresAt: number | undefined;
}

/** The lease a machine holds now, as GET .../lease shows it. */
export interface HeldLease {
  nonce: string | undefined;
  owner: string | undefined;
  description: string | undefined;
  expiresAt: number | undefined;
}

export interface LeasesApi {
  /**
   * Takes the machine's lease. When the machine already holds a lease with this same
   * `description`, that lease is ours (created by a request whose answer was lost):
   * it is adopted. A lease of anyone else fails with 409 naming its holder.
   */
  acquire(machineId: string, options: { ttlSeconds: number; description: string }): Promise<Lease>;
  refresh(lease: Lease, ttlSeconds: number): Promise<Lease>;
  release(lease: Lease, signal?: AbortSignal): Promise<void>;
  /** The machine's current lease, or undefined when it holds none. */
  current(machineId: string, signal?: AbortSignal): Promise<HeldLease | undefined>;
}

/** Fly answers leases in flaps' envelope (`{status, data: {...}}`); the OpenAPI document shows them flat. */
interface LeaseFields {
  nonce?: string;
  expires_at?: number;
  owner?: string;
  description?: string;
}
type LeaseJson = LeaseFields & { data?: LeaseFields | null };

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

  async acquire(machineId: string, options: { ttlSeconds: number; description: string }): Promise<Lease> {
    // Two rounds: the lease seen on 409 may expire before we read it, and then it is free again.
    for (let round = 1; ; round++) {
      const res = await this.http.request<LeaseJson>({
        operation: 'Machines_create_lease',
        method: 'POST',
        path: this.path(machineId),
        json: { ttl: options.ttlSeconds, description: options.description },
        // Safe to send again (on 503, a timeout, a lost answer): a machine holds one lease at
        // most, so a repeat cannot make a second one; if the first attempt did create it, the
        // repeat gets 409 and the lease is adopted below by its description, never taken from
        // anyone else. Not retrying would leave that lease blocking every change until it expires.
        retrySafe: true,
        acceptStatus: [409],
      });
      if (res.status !== 409) return toLease(machineId, res.data);
      const held = await this.current(machineId);
      if (held?.nonce && held.description === options.description) {
        // Ours: extend it to a full TTL, since it may have been created a while ago.
        return this.refresh({ machineId, nonce: held.nonce, expiresAt: held.expiresAt }, options.ttlSeconds);
      }
      if (held || round >= 2) {
        throw new ApiError({
          provider: this.http.provider,
          operation: 'Machines_create_lease',
          request: res.request,
          status: 409,
          retryable: false,
          attempts: res.attempts,
          ...(res.requestId ? { requestId: res.requestId } : {}),
          providerMessage: held ? describeHolder(machineId, held) : `machine ${machineId} lease is held`,
          hint: 'wait until that lease is released or expires, or clear it with `fly machine leases clear`',
        });
      }
    }
  }

  /** The machine's current lease, or undefined when it holds none (404). */
  async current(machineId: string, signal?: AbortSignal): Promise<HeldLease | undefined> {
    const res = await this.http.request<LeaseJson>({
      operation: 'Machines_show_lease',
      path: this.path(machineId),
      acceptStatus: [404],
      ...(signal ? { signal } : {}),
    });
    if (res.status === 404) return undefined;
    const f = fieldsOf(res.data);
    if (!f.nonce && !f.owner && f.expires_at === undefined) return undefined;
    return { nonce: f.nonce, owner: f.owner, description: f.description, expiresAt: f.expires_at };
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
  async release(lease: Lease, signal?: AbortSignal): Promise<void> {
    await this.http.request({
      operation: 'Machines_release_lease',
      method: 'DELETE',
      path: this.path(lease.machineId),
      headers: { [LEASE_NONCE_HEADER]: lease.nonce },
      acceptStatus: [404],
      ...(signal ? { signal } : {}),
    });
  }
}

function fieldsOf(json: LeaseJson | undefined): LeaseFields {
  return { ...(json ?? {}), ...(json?.data ?? {}) };
}

function describeHolder(machineId: string, held: HeldLease): string {
  const until = held.expiresAt ? new Date(held.expiresAt * 1000).toISOString() : 'an unknown time';
  const what = held.description ? `"${held.description}"` : 'no description';
  return `machine ${machineId} lease currently held by ${held.owner ?? 'an unknown owner'} (${what}) until ${until}`;
}

function toLease(machineId: string, json: LeaseJson | undefined, fallbackNonce?: string): Lease {
  const f = fieldsOf(json);
  const nonce = f.nonce ?? fallbackNonce;
  if (!nonce)
    throw new ComposedError(msg`Fly Machines answered a lease for machine ${machineId} without a nonce`);
  return { machineId, nonce, expiresAt: f.expires_at };
}
