import { loadUndici } from '../core/undici.ts';
import type { RawOutcome } from './run-result.ts';

/**
 * An `http` check from the runner: one GET, the check's timeout, no retries
 * and no redirects followed, because evidence records what the endpoint
 * answered at that moment. The output is the status line, the response
 * headers and the body (all redacted later, like any output).
 */
export async function runHttp(
  url: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<RawOutcome> {
  const { request } = await loadUndici();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const res = await request(url, {
      method: 'GET',
      signal,
      headers: { 'user-agent': 'ops-actions-evidence/0.1', accept: '*/*' },
    });
    const body = await res.body.text();
    const headers = Object.entries(res.headers)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
    return {
      output: [`HTTP ${res.statusCode}`, ...headers, '', body].join('\n'),
      httpStatus: res.statusCode,
      timedOut: false,
    };
  } catch (error) {
    if (timeout.aborted) return { output: `no answer within ${options.timeoutMs} ms`, timedOut: true };
    const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = e.code ?? e.cause?.code;
    const message = e.cause?.message ?? e.message ?? String(error);
    return {
      output: '',
      timedOut: false,
      error: code && !message.includes(code) ? `${code}: ${message}` : message,
    };
  }
}
