import { type FakeRequest, type FakeResponse, sleep } from '../fake-server.ts';

/**
 * How one instance of a user's own app answers: a Fly machine behind the proxy, or a Kamal host.
 */
export interface EndpointBehaviour {
  /** Status of every answer after the sequence below is used up (default 200). */
  status?: number;
  /** Statuses of the first calls, in order, e.g. `[503, 503]` then `status`. */
  statuses?: number[];
  /** The first N calls fail with `failStatus` (default 503). */
  failFirst?: number;
  failStatus?: number;
  latencyMs?: number;
  /** Never answers. */
  hang?: boolean;
  /** Body of a successful answer; default echoes what was asked. */
  json?: unknown;
}

export interface EndpointCall {
  target: string;
  method: string;
  path: string;
  json: unknown;
  at: number;
}

/** Answers for one instance and keeps its call count; `calls` is shared by all instances. */
export class EndpointInstance {
  behaviour: EndpointBehaviour = {};
  readonly target: string;
  private readonly calls: EndpointCall[];
  private count = 0;

  constructor(target: string, calls: EndpointCall[]) {
    this.target = target;
    this.calls = calls;
  }

  get callCount(): number {
    return this.count;
  }

  async answer(req: FakeRequest, extra: Record<string, unknown> = {}): Promise<FakeResponse> {
    this.count++;
    this.calls.push({
      target: this.target,
      method: req.method,
      path: req.path,
      json: req.json,
      at: Date.now(),
    });
    const b = this.behaviour;
    if (b.latencyMs) await sleep(b.latencyMs);
    if (b.hang) return new Promise<FakeResponse>(() => {});
    const status = this.statusFor(this.count);
    if (status >= 400) return { status, json: { error: `instance ${this.target} answered ${status}` } };
    return {
      status,
      json: b.json ?? { ok: true, target: this.target, method: req.method, path: req.path, ...extra },
    };
  }

  private statusFor(call: number): number {
    const b = this.behaviour;
    if (b.statuses && call <= b.statuses.length) return b.statuses[call - 1]!;
    if (b.failFirst && call <= b.failFirst) return b.failStatus ?? 503;
    return b.status ?? 200;
  }
}
