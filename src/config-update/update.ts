import { ApiError, messageOf } from '../core/errors.ts';
import { mapConcurrent } from '../core/fanout.ts';
import { HttpClient, type RetryEvent } from '../core/http.ts';
import type { WaitBound } from '../core/rate-limit.ts';
import type { MachinesApi } from '../providers/fly/machines.ts';
import type { PlannedUnit, UpdateCall } from './plan.ts';
import { wakeMachine } from './wake.ts';

/**
 * The fan-out: at most `concurrency` targets in flight, each retried per the
 * core policy with the action's own `retries` and `timeout`, the whole run cut
 * at `deadline` (in-flight requests aborted, unstarted targets failed). Every
 * target ends as data, reported the moment it finishes.
 */

/** `planned`: a dry run would send this target its update (nothing was sent). */
export type Outcome = 'ok' | 'failed' | 'skipped' | 'planned';

export interface TargetResult {
  id: string;
  region: string | null;
  url: string;
  outcome: Outcome;
  status: number | null;
  attempts: number;
  ms: number;
  error: string | null;
  /** Relative to the start of the fan-out, for the gantt chart; not part of the `results` output. */
  startMs: number;
  endMs: number;
  woken?: boolean;
}

/** The same object for every call of one fan-out. */
export interface SendOptions {
  timeoutMs: number;
  retries: number;
  signal: AbortSignal;
  /** The run's deadline: a retry whose wait would pass it is not waited for. */
  waitBound: WaitBound;
}

export interface SendResult {
  status: number;
  attempts: number;
}

/** Sends one update call; throws `ApiError` (with status and attempts) when it fails for good. */
export type Send = (
  call: UpdateCall,
  options: SendOptions,
  onRetry: (event: RetryEvent) => void,
) => Promise<SendResult>;

export interface FanoutOptions {
  concurrency: number;
  retries: number;
  timeoutMs: number;
  deadlineMs: number;
  /** What of `deadlineMs` the run already spent before the fan-out (discovery), in ms. */
  spentMs?: number;
  /** The runner's cancellation: cuts the fan-out like the deadline, and says so. */
  cancel?: AbortSignal;
}

export interface FanoutDeps {
  send: Send;
  /** Needed only when some unit wakes a machine; built with the fan-out's signal. */
  machines?: (signal: AbortSignal) => Pick<MachinesApi, 'start' | 'wait'>;
  /** Called the moment a target finishes, with its position in `units`. */
  onFinish?: (result: TargetResult, index: number) => void;
  onRetry?: (unit: PlannedUnit, event: RetryEvent) => void;
  now?: () => number;
}

const ERROR_CHARS = 120;

export async function runFanout(
  units: readonly PlannedUnit[],
  options: FanoutOptions,
  deps: FanoutDeps,
): Promise<TargetResult[]> {
  const now = deps.now ?? (() => performance.now());
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new Error('deadline')),
    Math.max(0, options.deadlineMs - (options.spentMs ?? 0)),
  );
  const signal = options.cancel ? AbortSignal.any([deadline.signal, options.cancel]) : deadline.signal;
  const waitBound: WaitBound = {
    budgetMs: options.deadlineMs,
    deadlineAt: Date.now() + Math.max(0, options.deadlineMs - (options.spentMs ?? 0)),
    name: 'the input deadline',
  };
  const machines = units.some((u) => u.disposition === 'wake') ? deps.machines?.(signal) : undefined;
  const sendOptions: SendOptions = {
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    signal,
    waitBound,
  };
  const t0 = now();
  const passedDeadline = `the deadline of ${formatSeconds(options.deadlineMs)} passed`;
  const cutBy = () => (options.cancel?.aborted ? messageOf(options.cancel.reason) : passedDeadline);

  // Reports the target the moment it is over (`onFinish`), then hands its result to mapConcurrent.
  const one = async (unit: PlannedUnit, index: number): Promise<TargetResult> => {
    const startMs = now() - t0;
    const finish = (fields: Pick<TargetResult, 'outcome' | 'status' | 'attempts' | 'error'>) => {
      const endMs = now() - t0;
      const result: TargetResult = {
        id: unit.target.id,
        region: unit.target.region ?? null,
        url: unit.call.url,
        ...fields,
        ms: Math.round(endMs - startMs),
        startMs,
        endMs,
      };
      if (unit.disposition === 'wake') result.woken = fields.outcome === 'ok';
      deps.onFinish?.(result, index);
      return result;
    };
    // Given the signal, mapConcurrent would reject as a whole; a target that never started is failed as data instead.
    if (signal.aborted) {
      return finish({ outcome: 'failed', status: null, attempts: 0, error: `not started: ${cutBy()}` });
    }
    let stage: 'wake' | 'update' = 'update';
    try {
      if (unit.disposition === 'wake') {
        stage = 'wake';
        if (!machines) throw new Error('no Fly Machines client to wake the machine with');
        await wakeMachine(machines, unit.target.id, { timeoutMs: options.timeoutMs, signal });
        stage = 'update';
      }
      const res = await deps.send(unit.call, sendOptions, (event) => deps.onRetry?.(unit, event));
      return finish({ outcome: 'ok', status: res.status, attempts: res.attempts, error: null });
    } catch (error) {
      const api = error instanceof ApiError ? error : undefined;
      const prefix = stage === 'wake' ? 'waking the machine: ' : '';
      const reason = signal.aborted ? cutByDeadline(cutBy(), api) : describeFailure(error);
      return finish({
        outcome: 'failed',
        status: stage === 'update' ? (api?.status ?? null) : null,
        attempts: stage === 'update' ? (api?.attempts ?? 0) : 0,
        error: `${prefix}${reason}`,
      });
    }
  };

  try {
    return await mapConcurrent(units, one, { concurrency: options.concurrency });
  } finally {
    clearTimeout(timer);
  }
}

function cutByDeadline(deadlineText: string, api: ApiError | undefined): string {
  const attempts = api?.attempts ?? 0;
  const status = api?.status === undefined ? '' : ` (last answer HTTP ${api.status})`;
  return `cut: ${deadlineText} after ${attempts} attempt${attempts === 1 ? '' : 's'}${status}`;
}

/** A short, single-line reason: status and the endpoint's own message, never its whole body. */
export function describeFailure(error: unknown): string {
  if (error instanceof ApiError) {
    const said = error.providerMessage ?? error.body;
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    // A retry not waited for says why first: the endpoint's own words may be cut.
    const why = error.hint ? ` (${error.hint.replace(/\.$/, '').replace(/^Not/, 'not')})` : '';
    const text =
      error.status !== undefined
        ? `HTTP ${error.status}${why}${said ? `: ${said}` : ''}`
        : (cause ?? error.message);
    return shorten(text);
  }
  return shorten(messageOf(error));
}

export function shorten(text: string, max = ERROR_CHARS): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * The real sender: the user's own endpoint through the core HTTP client. The
 * call is retried even when it is a POST: regenerating configuration is
 * idempotent (a second call rebuilds the same files), and the spec retries
 * every target on network errors, 408, 425, 429 and 5xx.
 */
export function createEndpointSender(redact: (text: string) => string): Send {
  // One client per fan-out (per `options`), not one per target: every call of a run shares them.
  let clients: { options: SendOptions; plain: HttpClient; withToken: HttpClient } | undefined;
  const clientsFor = (options: SendOptions) => {
    if (clients?.options !== options) {
      const client = (credential?: string) =>
        new HttpClient({
          provider: 'Update endpoint',
          ...(credential ? { credential } : {}),
          baseUrl: '',
          redact,
          timeoutMs: options.timeoutMs,
          retry: { retries: options.retries },
          signal: options.signal,
          waitBound: options.waitBound,
        });
      // The endpoint's 401/403 is about the Bearer token action-config-update sends as `auth-token`.
      clients = { options, plain: client(), withToken: client('auth-token') };
    }
    return clients;
  };
  return async (call, options, onRetry) => {
    const { plain, withToken } = clientsFor(options);
    const res = await (call.headers.authorization ? withToken : plain).request({
      operation: 'update',
      method: call.method,
      path: call.url,
      headers: call.headers,
      ...(call.body !== undefined ? { body: call.body } : {}),
      retrySafe: true,
      onRetry,
    });
    return { status: res.status, attempts: res.attempts };
  };
}
