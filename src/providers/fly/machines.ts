import { ApiError } from '../../core/errors.ts';
import type { HttpClient } from '../../core/http.ts';
import { providerList } from '../../core/provider-list.ts';
import { LEASE_NONCE_HEADER } from './leases.ts';

/**
 * Fly Machines of one app, the one client of the machine resource: list, get,
 * start, wait; what a rollout does to a machine under its lease: update, start,
 * wait for a version (fly-go flaps/flaps_machines.go `Update`, `Start`,
 * flaps_machines_wait.go); and what a blue-green deploy does besides: create,
 * destroy, cordon, uncordon (contracts/fly Machines_create, Machines_delete,
 * Machines_cordon, Machines_uncordon; fly-go `Launch`, `Destroy`, `Cordon`,
 * `Uncordon`). Every call names its operation after the API's (`Machines_list`...),
 * and failures say which app or machine they were about, with a hint when the
 * cause is usually ours; a change to a machine under our lease carries its nonce
 * (the `fly-machine-lease-nonce` header).
 */

export interface FlyMachine {
  id: string;
  name: string;
  state: string;
  region: string;
  /** Same value as `version`; deprecated by the API. */
  instance_id: string;
  /** Unique for each version of the machine. */
  version?: string;
  /** What the platform resolved the image to (fly-go machine_types.go `MachineImageRef`). */
  image_ref?: { registry?: string; repository?: string; tag?: string; digest?: string };
  private_ip?: string;
  config?: {
    image?: string;
    metadata?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface FlyCheck {
  name: string;
  status: string;
  output?: string;
}

export type MachineView = FlyMachine & { checks?: FlyCheck[] };

export interface ListOptions {
  /** Server-side filters the API offers; each is optional. */
  region?: string;
  state?: string[];
  metadata?: Record<string, string>;
  includeDeleted?: boolean;
}

export interface WaitOptions {
  state: 'started' | 'stopped' | 'suspended' | 'destroyed' | 'failed' | 'settled';
  /** The API allows 1-60 seconds. */
  timeoutSeconds?: number;
  /** The version to wait for; older versions answer `replaced`. */
  version?: string;
}

/**
 * POST /start's answer: the state it started from, or `refused` with the platform's reason when it
 * answered 412 because the machine is on its way to another state (stopping, suspending...).
 */
export interface StartResult {
  previousState: string | undefined;
  refused?: string;
}

/** What callers of the Machines API depend on, so a test double has four methods. */
export interface MachinesApi {
  list(options?: ListOptions): Promise<FlyMachine[]>;
  get(id: string, signal?: AbortSignal): Promise<MachineView>;
  start(id: string, nonce?: string): Promise<StartResult>;
  wait(id: string, options: WaitOptions): Promise<{ state: string }>;
}

/** What an update sends besides the nonce (fly-go machine_types.go `LaunchMachineInput`). */
export interface MachineUpdate {
  config: Record<string, unknown>;
  region?: string;
  minSecretsVersion?: number;
  skipLaunch?: boolean;
}

export type WaitAnswer = { reached: false } | { reached: true; state: string | undefined };

/** The calls a rollout makes on one machine under its lease, besides leasing. */
export interface MachineUpdateApi {
  get(id: string, signal?: AbortSignal): Promise<MachineView>;
  update(id: string, input: MachineUpdate & { nonce: string; signal?: AbortSignal }): Promise<MachineView>;
  start(id: string, nonce: string): Promise<StartResult>;
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

/** What POST /apps/{app}/machines takes (CreateMachineRequest). */
export interface MachineCreate {
  config: Record<string, unknown>;
  region?: string | undefined;
  minSecretsVersion?: number | undefined;
  skipLaunch?: boolean;
  /** The proxy sends it nothing until it is uncordoned (flyctl bluegreen's green machines). */
  skipServiceRegistration?: boolean;
}

/** Create, destroy, cordon and uncordon: what `strategy: bluegreen` needs besides updates. */
export interface MachineLifecycleApi {
  create(input: MachineCreate): Promise<MachineView>;
  /** `force` kills a running machine (contracts/fly Machines_delete `force`). */
  destroy(id: string, options: { nonce?: string; force: boolean; signal?: AbortSignal }): Promise<void>;
  cordon(id: string, nonce?: string, signal?: AbortSignal): Promise<void>;
  uncordon(id: string, nonce?: string, signal?: AbortSignal): Promise<void>;
}

export class FlyMachines implements MachinesApi, MachineUpdateApi, MachineLifecycleApi {
  private readonly http: HttpClient;
  readonly app: string;

  constructor(http: HttpClient, app: string) {
    this.http = http;
    this.app = app;
  }

  private path(suffix = ''): string {
    return `/apps/${encodeURIComponent(this.app)}/machines${suffix}`;
  }

  async list(options: ListOptions = {}): Promise<FlyMachine[]> {
    const query: Record<string, string | boolean | undefined> = {
      region: options.region,
      state: options.state?.join(','),
      include_deleted: options.includeDeleted,
    };
    for (const [key, value] of Object.entries(options.metadata ?? {})) query[`metadata.${key}`] = value;
    const res = await this.call(`app ${this.app}`, () =>
      this.http.request<FlyMachine[]>({ operation: 'Machines_list', path: this.path(), query }),
    );
    return providerList<FlyMachine>(res.data, {
      provider: this.http.provider,
      operation: 'Machines_list',
      // What the fan-out and the rollout read of each machine (fly-go machine_types.go `Machine`).
      fields: { id: 'text', state: 'text', region: 'text', config: 'object?' },
      // One request, sent without `cursor` or `limit` (contracts/fly Machines_list): a machine
      // listed twice in it is a fault, and would be updated twice.
      unique: 'id',
      requestId: res.requestId,
      request: res.request,
    });
  }

  async get(id: string, signal?: AbortSignal): Promise<MachineView> {
    const res = await this.call(`machine ${id}`, () =>
      this.http.request<MachineView>({
        operation: 'Machines_show',
        path: this.path(`/${enc(id)}`),
        ...(signal ? { signal } : {}),
      }),
    );
    return res.data;
  }

  /** Not retried: the update may have been applied, and a second one restarts the machine again. */
  async update(
    id: string,
    input: MachineUpdate & { nonce: string; signal?: AbortSignal },
  ): Promise<MachineView> {
    const res = await this.call(`machine ${id}`, () =>
      this.http.request<MachineView>({
        operation: 'Machines_update',
        method: 'POST',
        path: this.path(`/${enc(id)}`),
        headers: { [LEASE_NONCE_HEADER]: input.nonce },
        json: {
          config: input.config,
          ...(input.region ? { region: input.region } : {}),
          ...(input.minSecretsVersion !== undefined ? { min_secrets_version: input.minSecretsVersion } : {}),
          ...(input.skipLaunch ? { skip_launch: true } : {}),
        },
        ...(input.signal ? { signal: input.signal } : {}),
      }),
    );
    return res.data;
  }

  /**
   * Starting a machine that is already starting or started changes nothing, so a retried start is
   * harmless. A machine under our lease is started with its nonce (fly-go flaps_machines.go `Start`).
   * 412 is answered as data (`refused`): the machine is in a transition it cannot be started from.
   */
  async start(id: string, nonce?: string): Promise<StartResult> {
    const res = await this.call(`machine ${id}`, () =>
      this.http.request<{ previous_state?: string; error?: string; message?: string }>({
        operation: 'Machines_start',
        method: 'POST',
        path: this.path(`/${enc(id)}/start`),
        ...(nonce ? { headers: { [LEASE_NONCE_HEADER]: nonce } } : {}),
        retrySafe: true,
        acceptStatus: [412],
      }),
    );
    if (res.status === 412)
      return {
        previousState: undefined,
        refused: res.data?.error ?? res.data?.message ?? 'precondition failed',
      };
    return { previousState: res.data?.previous_state };
  }

  /** Blocks server-side until the machine reaches `state`; a 408 (not yet, at the API's own timeout) fails the call. */
  async wait(id: string, options: WaitOptions): Promise<{ state: string }> {
    const res = await this.waitCall(id, { ...options, timeoutSeconds: options.timeoutSeconds ?? 60 }, []);
    return { state: res.data?.state ?? options.state };
  }

  async waitFor(
    id: string,
    input: { version: string; state: 'started' | 'settled'; timeoutSeconds: number; signal?: AbortSignal },
  ): Promise<WaitAnswer> {
    // 408 is the API saying "not yet": the caller decides whether to ask again.
    const res = await this.waitCall(id, input, [408]);
    if (res.status === 408) return { reached: false };
    return { reached: true, state: res.data?.state };
  }

  /**
   * GET /wait with `version`, not the deprecated `instance_id` (contracts/fly: Machines_wait
   * parameters; fly-go flaps/flaps_machines_wait.go sends `version`). The API allows 1-60 s; the
   * HTTP timeout leaves room beyond the API's own.
   */
  private waitCall(
    id: string,
    input: { state: string; timeoutSeconds: number; version?: string | undefined; signal?: AbortSignal },
    acceptStatus: number[],
  ) {
    const seconds = Math.min(60, Math.max(1, Math.ceil(input.timeoutSeconds)));
    return this.call(`machine ${id}`, () =>
      this.http.request<{ state?: string }>({
        operation: 'Machines_wait',
        path: this.path(`/${enc(id)}/wait`),
        query: { version: input.version, state: input.state, timeout: seconds },
        ...(acceptStatus.length > 0 ? { acceptStatus } : {}),
        timeoutMs: seconds * 1000 + 10_000,
        ...(input.signal ? { signal: input.signal } : {}),
      }),
    );
  }

  /** Not retried: a second POST creates a second machine. */
  async create(input: MachineCreate): Promise<MachineView> {
    const res = await this.call(`app ${this.app}`, () =>
      this.http.request<MachineView>({
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
      }),
    );
    return res.data;
  }

  async destroy(
    id: string,
    options: { nonce?: string; force: boolean; signal?: AbortSignal },
  ): Promise<void> {
    await this.call(`machine ${id}`, () =>
      this.http.request({
        operation: 'Machines_delete',
        method: 'DELETE',
        path: this.path(`/${enc(id)}`),
        query: { force: options.force },
        ...(options.nonce ? { headers: { [LEASE_NONCE_HEADER]: options.nonce } } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
  }

  /** Setting cordon twice changes nothing, so a retry is harmless (flyctl strategy_bluegreen.go). */
  async cordon(id: string, nonce?: string, signal?: AbortSignal): Promise<void> {
    await this.toggle('cordon', id, nonce, signal);
  }

  async uncordon(id: string, nonce?: string, signal?: AbortSignal): Promise<void> {
    await this.toggle('uncordon', id, nonce, signal);
  }

  private async toggle(
    action: 'cordon' | 'uncordon',
    id: string,
    nonce: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    await this.call(`machine ${id}`, () =>
      this.http.request({
        operation: action === 'cordon' ? 'Machines_cordon' : 'Machines_uncordon',
        method: 'POST',
        path: this.path(`/${enc(id)}/${action}`),
        ...(nonce ? { headers: { [LEASE_NONCE_HEADER]: nonce } } : {}),
        ...(signal ? { signal } : {}),
        retrySafe: true,
      }),
    );
  }

  private async call<T>(resource: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw withHint(error, resource, this.app);
    }
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

/** The usual causes of a 401/403/404 from the Machines API, said where the user reads the error. */
function withHint(error: unknown, resource: string, app: string): unknown {
  if (!(error instanceof ApiError) || error.hint) return error;
  const hint =
    error.status === 401 || error.status === 403
      ? `Check that the Fly API token may manage app ${app}`
      : error.status === 404
        ? `Check that ${resource} exists`
        : undefined;
  if (!hint) return error;
  return new ApiError({
    provider: error.provider,
    operation: error.operation,
    request: error.request,
    status: error.status,
    requestId: error.requestId,
    body: error.body,
    providerMessage: error.providerMessage,
    retryable: error.retryable,
    attempts: error.attempts,
    hint,
    refusedCredential: error.refusedCredential,
    cause: error.cause,
  });
}
