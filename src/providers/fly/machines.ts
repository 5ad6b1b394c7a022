import { ApiError } from '../../core/errors.ts';
import type { HttpClient } from '../../core/http.ts';
import { providerList } from '../../core/provider-list.ts';
import { LEASE_NONCE_HEADER } from './leases.ts';

/**
 * Fly Machines of one app: list, get, start, wait. Every call names its
 * operation after the API's (`Machines_list`...), and failures say which app
 * or machine they were about, with a hint when the cause is usually ours.
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
  get(id: string): Promise<FlyMachine>;
  start(id: string, nonce?: string): Promise<StartResult>;
  wait(id: string, options: WaitOptions): Promise<{ state: string }>;
}

export class FlyMachines implements MachinesApi {
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
      requestId: res.requestId,
      request: res.request,
    });
  }

  async get(id: string): Promise<FlyMachine> {
    const res = await this.call(`machine ${id}`, () =>
      this.http.request<FlyMachine>({ operation: 'Machines_show', path: this.path(`/${enc(id)}`) }),
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

  /** Blocks server-side until the machine reaches `state`; the HTTP timeout leaves room beyond the API's own. */
  async wait(id: string, options: WaitOptions): Promise<{ state: string }> {
    const seconds = Math.min(60, Math.max(1, Math.ceil(options.timeoutSeconds ?? 60)));
    const res = await this.call(`machine ${id}`, () =>
      this.http.request<{ state?: string }>({
        operation: 'Machines_wait',
        path: this.path(`/${enc(id)}/wait`),
        query: { state: options.state, timeout: seconds, version: options.version },
        timeoutMs: seconds * 1000 + 10_000,
      }),
    );
    return { state: res.data?.state ?? options.state };
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
