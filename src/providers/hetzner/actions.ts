import type { HttpClient } from '../../core/http.ts';
import { abortableSleep } from '../../core/http.ts';

export interface HetznerAction {
  id: number;
  command: string;
  status: 'running' | 'success' | 'error' | string;
  error: { code: string; message: string } | undefined;
}

interface ActionJson {
  id: number;
  command: string;
  status: string;
  error?: { code: string; message: string } | null;
}

export function toAction(json: ActionJson): HetznerAction {
  return { id: json.id, command: json.command, status: json.status, error: json.error ?? undefined };
}

export class HetznerActionFailed extends Error {
  readonly action: HetznerAction;

  constructor(action: HetznerAction) {
    const why = action.error ? `${action.error.code}: ${action.error.message}` : 'no reason given';
    super(`Hetzner action ${action.command} (${action.id}) ended in error: ${why}`);
    this.name = 'HetznerActionFailed';
    this.action = action;
  }
}

export class HetznerActions {
  private readonly http: HttpClient;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(http: HttpClient, sleep = abortableSleep) {
    this.http = http;
    this.sleep = sleep;
  }

  async get(id: number): Promise<HetznerAction> {
    const res = await this.http.request<{ action: ActionJson }>({
      operation: 'get_zone_action',
      path: `/zones/actions/${id}`,
    });
    return toAction(res.data.action);
  }

  /** Polls until the action leaves `running`; an `error` outcome throws with Hetzner's reason. */
  async wait(
    action: HetznerAction,
    options: { signal?: AbortSignal; intervalMs?: number; maxIntervalMs?: number } = {},
  ): Promise<HetznerAction> {
    let current = action;
    let interval = options.intervalMs ?? 200;
    while (current.status === 'running') {
      await this.sleep(interval, options.signal);
      interval = Math.min(interval * 2, options.maxIntervalMs ?? 2000);
      current = await this.get(current.id);
    }
    if (current.status === 'error') throw new HetznerActionFailed(current);
    return current;
  }
}
