import type { HttpClient } from '../../core/http.ts';
import { LEASE_NONCE_HEADER } from './leases.ts';
import type { MachineView } from './machine-update.ts';

/**
 * The Machines API calls a blue-green deploy makes besides updates (contracts/fly:
 * Machines_create, Machines_delete, Machines_cordon, Machines_uncordon), as fly-go sends them
 * (flaps/flaps_machines.go `Launch`, `Destroy`, `Cordon`, `Uncordon`): a change to a machine
 * under our lease carries its nonce.
 */

/** What POST /apps/{app}/machines takes (CreateMachineRequest). */
export interface MachineCreate {
  config: Record<string, unknown>;
  region?: string | undefined;
  minSecretsVersion?: number | undefined;
  skipLaunch?: boolean;
  /** The proxy sends it nothing until it is uncordoned (flyctl bluegreen's green machines). */
  skipServiceRegistration?: boolean;
}

export interface MachineLifecycleApi {
  create(input: MachineCreate): Promise<MachineView>;
  /** `force` kills a running machine (contracts/fly Machines_delete `force`). */
  destroy(id: string, options: { nonce?: string; force: boolean; signal?: AbortSignal }): Promise<void>;
  cordon(id: string, nonce?: string): Promise<void>;
  uncordon(id: string, nonce?: string): Promise<void>;
}

export class FlyMachineLifecycle implements MachineLifecycleApi {
  private readonly http: HttpClient;
  readonly app: string;

  constructor(http: HttpClient, app: string) {
    this.http = http;
    this.app = app;
  }

  private path(suffix = ''): string {
    return `/apps/${encodeURIComponent(this.app)}/machines${suffix}`;
  }

  /** Not retried: a second POST creates a second machine. */
  async create(input: MachineCreate): Promise<MachineView> {
    const res = await this.http.request<MachineView>({
      operation: 'Machines_create',
      method: 'POST',
      path: this.path(),
      json: {
        config: input.config,
        ...(input.region ? { region: input.region } : {}),
        ...(input.minSecretsVersion !== undefined ? { min_secrets_version: input.minSecretsVersion } : {}),
        ...(input.skipLaunch ? { skip_launch: true } : {}),
        ...(input.skipServiceRegistration ? { skip_service_registration: true } : {}),
      },
    });
    return res.data;
  }

  async destroy(
    id: string,
    options: { nonce?: string; force: boolean; signal?: AbortSignal },
  ): Promise<void> {
    await this.http.request({
      operation: 'Machines_delete',
      method: 'DELETE',
      path: this.path(`/${encodeURIComponent(id)}`),
      query: { force: options.force },
      ...(options.nonce ? { headers: { [LEASE_NONCE_HEADER]: options.nonce } } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Setting cordon twice changes nothing, so a retry is harmless (flyctl strategy_bluegreen.go). */
  async cordon(id: string, nonce?: string): Promise<void> {
    await this.toggle('cordon', id, nonce);
  }

  async uncordon(id: string, nonce?: string): Promise<void> {
    await this.toggle('uncordon', id, nonce);
  }

  private async toggle(action: 'cordon' | 'uncordon', id: string, nonce?: string): Promise<void> {
    await this.http.request({
      operation: action === 'cordon' ? 'Machines_cordon' : 'Machines_uncordon',
      method: 'POST',
      path: this.path(`/${encodeURIComponent(id)}/${action}`),
      ...(nonce ? { headers: { [LEASE_NONCE_HEADER]: nonce } } : {}),
      retrySafe: true,
    });
  }
}
