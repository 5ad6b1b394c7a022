import type { HttpClient } from '../../core/http.ts';
import { LEASE_NONCE_HEADER } from './leases.ts';
import type { FlyMachine } from './machines.ts';

/**
 * The calls a rollout makes on one machine besides leasing: read it, POST its
 * config back, start it, wait for a version to reach a state. Every change
 * carries the nonce of our lease (fly-go flaps/flaps_machines.go `Update`,
 * `Start`: the `fly-machine-lease-nonce` header).
 */

export interface FlyCheck {
  name: string;
  status: string;
  output?: string;
}

export type MachineView = FlyMachine & { checks?: FlyCheck[] };

/** What an update sends besides the nonce (fly-go machine_types.go `LaunchMachineInput`). */
export interface MachineUpdate {
  config: Record<string, unknown>;
  region?: string;
  minSecretsVersion?: number;
  skipLaunch?: boolean;
}

export type WaitAnswer = { reached: false } | { reached: true; state: string | undefined };

/** POST /start either started the machine or was refused with 412 because of the state it is in. */
export type StartAnswer = { started: true } | { started: false; reason: string };

export interface MachineUpdateApi {
  get(id: string, signal?: AbortSignal): Promise<MachineView>;
  update(id: string, input: MachineUpdate & { nonce: string; signal?: AbortSignal }): Promise<MachineView>;
  start(id: string, nonce: string): Promise<StartAnswer>;
  /**
   * Whether the version reached `state` before the API's own timeout (408), and the state it
   * is in when the answer says (`state` is optional in WaitMachineResponse). `settled` is any of
   * started, stopped, suspended or failed. An old version answers `replaced`
   * (fly.io/docs/machines/machine-states).
   */
  waitFor(
    id: string,
    input: { version: string; state: 'started' | 'settled'; timeoutSeconds: number; signal?: AbortSignal },
  ): Promise<WaitAnswer>;
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
    input: MachineUpdate & { nonce: string; signal?: AbortSignal },
  ): Promise<MachineView> {
    const res = await this.http.request<MachineView>({
      operation: 'Machines_update',
      method: 'POST',
      path: this.path(id),
      headers: { [LEASE_NONCE_HEADER]: input.nonce },
      json: {
        config: input.config,
        ...(input.region ? { region: input.region } : {}),
        ...(input.minSecretsVersion !== undefined ? { min_secrets_version: input.minSecretsVersion } : {}),
        ...(input.skipLaunch ? { skip_launch: true } : {}),
      },
      ...(input.signal ? { signal: input.signal } : {}),
    });
    return res.data;
  }

  /**
   * Starting a machine that is starting or started changes nothing, so a retried start is
   * harmless. 412 means the machine is in a state it cannot start from (stopping, replacing...):
   * answered as data, for the caller to wait out.
   */
  async start(id: string, nonce: string): Promise<StartAnswer> {
    const res = await this.http.request<{ message?: string; error?: string }>({
      operation: 'Machines_start',
      method: 'POST',
      path: this.path(id, '/start'),
      headers: { [LEASE_NONCE_HEADER]: nonce },
      retrySafe: true,
      acceptStatus: [412],
    });
    if (res.status !== 412) return { started: true };
    return { started: false, reason: res.data?.error ?? res.data?.message ?? 'precondition failed' };
  }

  async waitFor(
    id: string,
    input: { version: string; state: 'started' | 'settled'; timeoutSeconds: number; signal?: AbortSignal },
  ): Promise<WaitAnswer> {
    const seconds = Math.min(60, Math.max(1, Math.ceil(input.timeoutSeconds)));
    const res = await this.http.request<{ state?: string }>({
      operation: 'Machines_wait',
      path: this.path(id, '/wait'),
      // `version`, not the deprecated `instance_id` (contracts/fly: Machines_wait parameters;
      // fly-go flaps/flaps_machines_wait.go sends `version`).
      query: { version: input.version, state: input.state, timeout: seconds },
      // 408 is the API saying "not yet": the caller decides whether to ask again.
      acceptStatus: [408],
      timeoutMs: seconds * 1000 + 10_000,
      ...(input.signal ? { signal: input.signal } : {}),
    });
    if (res.status === 408) return { reached: false };
    return { reached: true, state: res.data?.state };
  }
}
