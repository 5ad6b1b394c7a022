import { BoundedOutput } from '../core/bounded-output.ts';
import { loadUndici } from '../core/undici.ts';
import type { RawOutcome } from './run-result.ts';

/**
 * An `http` check from the runner: one GET, the check's timeout, no retries
 * and no redirects followed, because evidence records what the endpoint
 * answered at that moment. The output is the status line, the response
 * headers and the body (all redacted later, like any output), the body decoded
 * as it streams in and read up to `MAX_CAPTURE_BYTES`, like a command's
 * output; the rest is left unread. Credentials in the URL (`https://user:pass@host/`) are
 * sent as Basic auth, as curl and browsers do (RFC 9110 §11.2, RFC 7617: the
 * userinfo, percent-decoded, joined by `:` and base64-encoded), never in the
 * request line; the flow registers them as secrets (`urlSecrets`).
 */
export async function runHttp(
  url: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<RawOutcome> {
  const { request } = await loadUndici();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const { target, authorization } = withoutUserinfo(url);
    const res = await request(target, {
      method: 'GET',
      signal,
      headers: {
        'user-agent': 'ops-actions-evidence/0.1',
        accept: '*/*',
        ...(authorization ? { authorization } : {}),
      },
    });
    const body = new BoundedOutput();
    for await (const chunk of res.body) {
      body.add(chunk as Uint8Array);
      if (body.full) {
        // Leaving the loop destroys the body: the rest is not read at all.
        body.stop();
        break;
      }
    }
    const headers = Object.entries(res.headers)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
    return {
      output: [`HTTP ${res.statusCode}`, ...headers, '', body.text()].join('\n'),
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
      error: unreachable(url, code) ?? (code && !message.includes(code) ? `${code}: ${message}` : message),
    };
  }
}

/** Node's connect errors (errno codes, undici's connect timeout) said as what could not be reached. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens there',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'no answer',
  UND_ERR_CONNECT_TIMEOUT: 'no answer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
};

/**
 * One sentence naming the host and port that could not be reached, with the
 * error code, and what to check; undefined for other errors. A name DNS does
 * not know (`ENOTFOUND`, `EAI_AGAIN`) names the host only.
 */
export function unreachable(url: string, code: string | undefined): string | undefined {
  if (!code) return undefined;
  const { hostname, port, protocol } = new URL(url);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `could not find host ${hostname} (${code}): check the host name in the check's URL`;
  const why = UNREACHABLE[code];
  if (!why) return undefined;
  const shownPort = port || (protocol === 'https:' ? '443' : '80');
  return `could not connect to ${hostname} port ${shownPort} (${code}, ${why}): check the host and port in the check's URL and that the service runs and the runner can reach it`;
}

/** The URL without its userinfo, and the Basic `Authorization` value the userinfo stood for. */
export function withoutUserinfo(url: string): { target: string; authorization?: string } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { target: url };
  const pair = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return {
    target: parsed.toString(),
    authorization: `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`,
  };
}
