/**
 * The three kinds of failure every action reports, and the one place that turns
 * any thrown value into the single `::error::` line a user reads.
 */

/** A bad or missing input, raised before any request is sent. */
export class InputError extends Error {
  readonly input: string;
  /** The message without the input's name: what is wrong and what is allowed. */
  readonly problem: string;

  constructor(input: string, problem: string) {
    super(`Input '${input}' ${problem}`);
    this.name = 'InputError';
    this.input = input;
    this.problem = problem;
  }
}

/** A bad value in an environment variable that tunes every action, raised before any request. */
export class EnvironmentError extends Error {
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`Environment variable ${variable} ${problem}`);
    this.name = 'EnvironmentError';
    this.variable = variable;
  }
}

export interface ApiErrorDetails {
  provider: string;
  /** The call's id in the operations log (`app.create`); never shown to the user. */
  operation: string;
  /**
   * The request as the provider's API documents it, `METHOD /path` without the query
   * (`POST /apps`): what the message names, so a user can look it up.
   */
  request: string;
  status?: number;
  requestId?: string;
  /** A short excerpt of the response body, secrets already removed. */
  body?: string;
  /** The provider's own message when its error body carries one. */
  providerMessage?: string;
  retryable: boolean;
  attempts: number;
  hint?: string;
  /**
   * The input or secret that authenticated the request (`heroku-api-key`), set
   * when the provider refused it (401, or 403 that is not a rate limit): the
   * message then names what to fix first.
   */
  refusedCredential?: string;
  cause?: unknown;
}

/** A provider request that failed after the retries it was allowed. */
export class ApiError extends Error {
  readonly provider: string;
  readonly operation: string;
  readonly request: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly body: string | undefined;
  readonly providerMessage: string | undefined;
  readonly retryable: boolean;
  readonly attempts: number;
  readonly hint: string | undefined;
  readonly refusedCredential: string | undefined;

  constructor(details: ApiErrorDetails) {
    super(describeApiError(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ApiError';
    this.provider = details.provider;
    this.operation = details.operation;
    this.request = details.request;
    this.status = details.status;
    this.requestId = details.requestId;
    this.body = details.body;
    this.providerMessage = details.providerMessage;
    this.retryable = details.retryable;
    this.attempts = details.attempts;
    this.hint = details.hint;
    this.refusedCredential = details.refusedCredential;
  }
}

function describeApiError(d: ApiErrorDetails): string {
  if (d.refusedCredential) return describeRefusal(d, d.refusedCredential);
  const parts = [
    d.status === undefined
      ? `${d.provider} ${d.request} failed`
      : `${d.provider} answered ${d.request} with HTTP ${d.status}`,
  ];
  const reason = d.providerMessage ?? d.body ?? (d.cause instanceof Error ? d.cause.message : undefined);
  if (reason) parts.push(`: ${reason}`);
  const extra: string[] = [];
  if (d.attempts > 1) extra.push(`${d.attempts} attempts`);
  if (d.requestId) extra.push(`request id ${d.requestId}`);
  if (extra.length > 0) parts.push(` (${extra.join(', ')})`);
  if (d.hint) parts.push(`. ${d.hint}`);
  return parts.join('');
}

/** `heroku-api-key was refused by Heroku (401: Invalid credentials provided)`. */
function describeRefusal(d: ApiErrorDetails, credential: string): string {
  const reason = d.providerMessage ?? d.body;
  const status = d.status === undefined ? '' : `${d.status}${reason ? ': ' : ''}`;
  const detail = `${status}${reason ?? ''}`;
  const parts = [`${credential} was refused by ${d.provider}${detail ? ` (${detail})` : ''}`];
  if (d.requestId) parts.push(`; request id ${d.requestId}`);
  if (d.hint) parts.push(`. ${d.hint}`);
  return parts.join('');
}

/**
 * A step of an action's plan that failed. The message says, in the user's terms, what was
 * being done to which resource (`doing`: "create Heroku app tati", read as "Could not create
 * Heroku app tati: …"); the step's id (`app.create`) goes only to the operations log.
 */
export class StepError extends Error {
  readonly step: string;
  readonly doing: string;

  constructor(step: string, doing: string, cause: unknown) {
    super(`Could not ${doing}: ${messageOf(cause)}`, { cause });
    this.name = 'StepError';
    this.step = step;
    this.doing = doing;
  }
}

export function messageOf(error: unknown): string {
  if (error instanceof AggregateError) {
    const inner = error.errors.map(messageOf);
    return inner.length === 0 ? error.message : inner.join('; ');
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Errors the action itself raised on purpose, as opposed to programming errors. */
export function isExpectedError(error: unknown): boolean {
  return (
    error instanceof InputError ||
    error instanceof ApiError ||
    error instanceof StepError ||
    error instanceof EnvironmentError
  );
}
