import { composedOf, joinMessages, type Line, type Message, msg, outside, own } from './message.ts';

/**
 * The three kinds of failure every action reports, and the one place that turns
 * any thrown value into the single `::error::` line a user reads. Each message is
 * composed as a `Message` (`composed`): our words apart from the values, which
 * are redacted one by one when it is shown (core/message.ts).
 */

function asMessage(line: Line): Message {
  return typeof line === 'string' ? outside(line) : line;
}

/** A bad or missing input, raised before any request is sent. */
export class InputError extends Error {
  readonly input: string;
  /** The message without the input's name: what is wrong and what is allowed. */
  readonly problem: string;
  readonly composed: Message;

  /** `problem`: a `Message` keeps our words apart from the values; a plain string is redacted whole. */
  constructor(input: string, problem: Line) {
    const composed = msg`Input '${own(input)}' ${asMessage(problem)}`;
    super(String(composed));
    this.name = 'InputError';
    this.input = input;
    this.problem = String(problem);
    this.composed = composed;
  }
}

/** A bad value in an environment variable that tunes every action, raised before any request. */
export class EnvironmentError extends Error {
  readonly variable: string;
  readonly composed: Message;

  constructor(variable: string, problem: Line) {
    const composed = msg`Environment variable ${own(variable)} ${asMessage(problem)}`;
    super(String(composed));
    this.name = 'EnvironmentError';
    this.variable = variable;
    this.composed = composed;
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
  /**
   * The provider's own message when its error body carries one, or what we say instead
   * (a rate limit past the bound); a `Message` keeps our words apart from its values.
   */
  providerMessage?: Line;
  retryable: boolean;
  attempts: number;
  hint?: Line;
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
  readonly composed: Message;

  constructor(details: ApiErrorDetails) {
    const composed = describeApiError(details);
    super(String(composed), details.cause === undefined ? undefined : { cause: details.cause });
    this.composed = composed;
    this.name = 'ApiError';
    this.provider = details.provider;
    this.operation = details.operation;
    this.request = details.request;
    this.status = details.status;
    this.requestId = details.requestId;
    this.body = details.body;
    this.providerMessage =
      details.providerMessage === undefined ? undefined : String(details.providerMessage);
    this.retryable = details.retryable;
    this.attempts = details.attempts;
    this.hint = details.hint === undefined ? undefined : String(details.hint);
    this.refusedCredential = details.refusedCredential;
  }
}

function describeApiError(d: ApiErrorDetails): Message {
  if (d.refusedCredential) return describeRefusal(d, d.refusedCredential);
  const provider = own(d.provider);
  const parts = [
    d.status === undefined
      ? msg`${provider} ${d.request} failed`
      : msg`${provider} answered ${d.request} with HTTP ${own(d.status)}`,
  ];
  const reason = d.providerMessage ?? d.body ?? (d.cause instanceof Error ? composedOf(d.cause) : undefined);
  if (reason) parts.push(msg`: ${reason}`);
  const extra: Message[] = [];
  if (d.attempts > 1) extra.push(msg`${own(d.attempts)} attempts`);
  if (d.requestId) extra.push(msg`request id ${d.requestId}`);
  if (extra.length > 0) parts.push(msg` (${joinMessages(extra, ', ')})`);
  if (d.hint) parts.push(msg`. ${d.hint}`);
  return joinMessages(parts, '');
}

/** `heroku-api-key was refused by Heroku (401: Invalid credentials provided)`. */
function describeRefusal(d: ApiErrorDetails, credential: string): Message {
  const reason = d.providerMessage ?? d.body;
  const status = d.status === undefined ? msg`` : msg`${own(d.status)}${reason ? own(': ') : ''}`;
  const detail = msg`${status}${reason ?? ''}`;
  const parts = [
    msg`${own(credential)} was refused by ${own(d.provider)}${String(detail) ? msg` (${detail})` : ''}`,
  ];
  if (d.requestId) parts.push(msg`; request id ${d.requestId}`);
  if (d.hint) parts.push(msg`. ${d.hint}`);
  return joinMessages(parts, '');
}

/**
 * A step of an action's plan that failed. The message says, in the user's terms, what was
 * being done to which resource (`doing`: "create Heroku app tati", read as "Could not create
 * Heroku app tati: …"); the step's id (`app.create`) goes only to the operations log.
 */
export class StepError extends Error {
  readonly step: string;
  /** What was being done, composed (`msg\`create Heroku app ${name}\``); a plain string is redacted whole. */
  readonly doing: Line;
  readonly composed: Message;

  constructor(step: string, doing: Line, cause: unknown) {
    const composed = msg`Could not ${asMessage(doing)}: ${composedOf(cause)}`;
    super(String(composed), { cause });
    this.name = 'StepError';
    this.step = step;
    this.doing = doing;
    this.composed = composed;
  }
}

/** The message of anything thrown, as plain text (not redacted); `composedOf` keeps its pieces. */
export function messageOf(error: unknown): string {
  return String(composedOf(error));
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
