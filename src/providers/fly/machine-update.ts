import { ApiError } from '../../core/errors.ts';
import type { HttpClient } from '../../core/http.ts';
import { LEASE_NONCE_HEADER } from './leases.ts';
import type { FlyMachine } from './machines.ts';

/**
 * The calls a rollout makes on one machine besides leasing: read it, POST its
 * config back, wait for a version to reach a state, and read its checks.
 */

export interface FlyCheck {
  name: string;
  status: string;
  output?: string;
}

export type MachineView = FlyMachine & { checks?: FlyCheck[] };

export interface MachineUpdateApi {
  get(id: string, signal?: AbortSignal): Promise<MachineView>;
  update(
    id: string,
    input: { config: Record<string, unknown>; nonce: string; skipLaunch?: boolean; signal?: AbortSignal },
  ): Promise<MachineView>;
  /** True when the version reached the state, false when the API's own timeout (408) passed first. */
  waitFor(
    id: string,
    input: { instanceId: string; state: 'started' | 'stopped'; timeoutSeconds: number; signal?: AbortSignal },
  ): Promise<boolean>;
}

export class FlyMachineUpdates implements MachineUpdateApi {
  private readonly http: HttpClient;
  readonly app: string;

  constructor(http: HttpClient, app: string) {
    this.http = http;
    this.app = app;
  }

  private path(id: string, suffix = ''): string {
    return `/apps/${encodeURIComponent(this.app)}/machines/${encodeURIComponent(id)}${suffix}`;
  }

  async get(id: string, signal?: AbortSignal): Promise<MachineView> {
    const res = await this.http.request<MachineView>({
      operation: 'Machines_show',
      path: this.path(id),
      ...(signal ? { signal } : {}),
    });
    return res.data;
  }

  /** Not retried: the update may have been applied, and a second one restarts the machine again. */
  async update(
    id: string,
    input: { config: Record<string, unknown>; nonce: string; skipLaunch?: boolean; signal?: AbortSignal },
  ): Promise<MachineView> {
    const res = await this.http.request<MachineView>({
      operation: 'Machines_update',
      method: 'POST',
      path: this.path(id),
      headers: { [LEASE_NONCE_HEADER]: input.nonce },
      json: { config: input.config, ...(input.skipLaunch ? { skip_launch: true } : {}) },
      ...(input.signal ? { signal: input.signal } : {}),
    });
    return res.data;
  }

  async waitFor(
    id: string,
    input: { instanceId: string; state: 'started' | 'stopped'; timeoutSeconds: number; signal?: AbortSignal },
  ): Promise<boolean> {
    const seconds = Math.min(60, Math.max(1, Math.ceil(input.timeoutSeconds)));
    const res = await this.http.request({
      operation: 'Machines_wait',
      path: this.path(id, '/wait'),
      query: { instance_id: input.instanceId, state: input.state, timeout: seconds },
      // 408 is the API saying "not yet": the caller decides whether to ask again.
      acceptStatus: [408],
      timeoutMs: seconds * 1000 + 10_000,
      ...(input.signal ? { signal: input.signal } : {}),
    });
    if (res.status === 408) return false;
    const state = (res.data as { state?: string } | undefined)?.state;
    if (state && state !== input.state) {
      throw new ApiError({
        provider: 'Fly Machines',
        operation: 'Machines_wait',
        status: res.status,
        retryable: false,
        attempts: res.attempts,
        hint: `machine ${id} reached ${state} instead of ${input.state}`,
      });
    }
    return true;
  }
}
