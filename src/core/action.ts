import * as core from '@actions/core';
import {
  type Cancellation,
  CancelledError,
  cancelSignalName,
  isCancelled,
  processCancellation,
} from './cancellation.ts';
import { guardCommands } from './command-guard.ts';
import { ApiError, EnvironmentError, InputError, isExpectedError, StepError } from './errors.ts';
import { renderFailureSummary } from './failure-summary.ts';
import { requestTimeoutFromEnv } from './http.ts';
import { InputReader, workspaceFiles } from './inputs.ts';
import { composedOf, type Line, Message, msg, own, redactMessage } from './message.ts';
import { logFilePath, OpLog } from './oplog.ts';
import { Secrets, type SecretValue, urlSecrets } from './secrets.ts';
import { closeUndici, PROXY_VARIABLES } from './undici.ts';

/**
 * The runtime every action's entry point goes through: secrets registered first,
 * the operations log opened and announced as `log-file`, inputs parsed, then the
 * action's own work, and any failure turned into exactly one `::error::` line and,
 * when the action had not written its summary yet, one short summary of what failed
 * and what was done by then.
 * Everything said to the runner goes through @actions/core.
 */

/**
 * The part of @actions/core a run speaks through. A run passes the package
 * itself; a test passes a recorder (test/helpers/toolkit.ts) to observe what
 * the action said without parsing the runner's protocol.
 */
export type Toolkit = Pick<
  typeof core,
  | 'getInput'
  | 'info'
  | 'debug'
  | 'warning'
  | 'notice'
  | 'error'
  | 'setSecret'
  | 'setOutput'
  | 'saveState'
  | 'getState'
  | 'setFailed'
> & { summary: Pick<typeof core.summary, 'addRaw' | 'write'> };

export interface ActionContext {
  action: string;
  inputs: InputReader;
  secrets: Secrets;
  log: OpLog;
  env: NodeJS.ProcessEnv;
  toolkit: Toolkit;
  /**
   * Lines for the log and annotations. A `Message` (core/message.ts) is redacted value by value,
   * our words kept whole; a plain string is redacted whole. The runner masks the log again
   * with its own rules (each secret wherever it occurs), which we cannot change.
   */
  info(line: Line): void;
  warning(line: Line): void;
  /** A `::notice::` annotation: worth seeing, not a problem. */
  notice(line: Line): void;
  /** Redacted: a string whole, a `Message` value by value, anything else as its JSON. */
  setOutput(name: string, value: unknown): void;
  /**
   * An output the action composed itself (a path it wrote, a count, a status word): written as
   * is. It carries no third-party text, and a secret the user named (`e`) redacted inside it
   * would corrupt it.
   */
  setOwnOutput(name: string, value: string): void;
  /**
   * Appends Markdown to the job summary; a run outside Actions (no GITHUB_STEP_SUMMARY) has none.
   * Never throws: a summary file that cannot be written is a `::warning::`, the run's outcome stays its own.
   * The Markdown is redacted whole, unless `fromRedactedData`: rendered from data that went
   * through `redactedData`, whose wording around the values is ours and written as is.
   */
  writeSummary(markdown: string, options?: { fromRedactedData?: boolean }): Promise<void>;
  /** True once `writeSummary` was called: a failure after it adds no summary of its own. */
  hasWrittenSummary(): boolean;
  /** True once the output `name` was set, by `setOutput` or `setOwnOutput`. */
  hasSetOutput(name: string): boolean;
  saveState(name: string, value: string): void;
  getState(name: string): string;
  /** SIGINT/SIGTERM from the runner: stop starting work, release what is held (core/cancellation.ts). */
  cancellation: Cancellation;
}

export interface ActionDefinition<S> {
  action: string;
  /** Inputs whose values are secrets: masked before anything else happens. */
  secretInputs: readonly string[];
  parseInputs(inputs: InputReader): S;
  /**
   * Values derived from the settings that are secrets too (e.g. a token inside a URL), each
   * with the other spellings it travels in (`SecretValue`).
   */
  derivedSecrets?(settings: S): (string | SecretValue | undefined)[];
  run(settings: S, ctx: ActionContext): Promise<void>;
  /**
   * What a run with these settings is, for the heading of the summary of a failure the action
   * did not report itself (`deploy to fly (production)`); the action's name when not given or
   * the inputs were refused. Values from the user or a provider go through `redact`.
   */
  failureTitle?(settings: S, redact: (value: string) => string): string;
  /**
   * Outputs a failed run sets when it did not set them itself (`status: failed`): the ones a
   * finished run sets too, so a workflow reading them after a failure or cancel finds them.
   */
  failureOutputs?: Readonly<Record<string, string>>;
}

export async function runAction<S>(
  definition: ActionDefinition<S>,
  env = process.env,
  toolkit: Toolkit = core,
): Promise<void> {
  const ctx = createContext(definition.action, env, toolkit);
  let settings: S | undefined;
  let running = false;
  try {
    for (const name of definition.secretInputs) ctx.secrets.add(ctx.inputs.raw(name), 'secret');
    // A proxy URL's credentials (HTTPS_PROXY=http://user:password@host:port) never reach what we
    // write; the runner set them, so masking them in its log is its own business.
    for (const name of PROXY_VARIABLES)
      for (const { value, spellings } of urlSecrets(env[name] ?? ''))
        ctx.secrets.redactor.addLiteral(value, 'proxy', spellings);
    ctx.setOwnOutput('log-file', ctx.log.path);
    let parsed: S;
    try {
      // Checked up front so a bad value fails the step before any request, like a bad input.
      requestTimeoutFromEnv(env);
      parsed = definition.parseInputs(ctx.inputs);
      for (const secret of definition.derivedSecrets?.(parsed) ?? [])
        if (typeof secret === 'object') ctx.secrets.add(secret.value, 'secret', secret.spellings);
        else ctx.secrets.add(secret, 'secret');
      settings = parsed;
    } finally {
      // The runner's cancel wins over a bad input: the user stopped the run, whatever its inputs.
      await stopIfCancelled(ctx.cancellation);
    }
    ctx.log.write({ step: 'inputs', outcome: 'ok' });
    running = true;
    await definition.run(parsed, ctx);
  } catch (error) {
    // Our words whole, each value redacted (core/message.ts).
    const message = redactMessage(composedOf(error), ctx.secrets.redactor);
    // A failed run sets them even when it wrote its own summary (evidence cancelled mid-checks).
    for (const [name, value] of Object.entries(definition.failureOutputs ?? {}))
      if (!ctx.hasSetOutput(name)) ctx.setOwnOutput(name, value);
    if (!ctx.hasWrittenSummary()) await summarizeFailure(definition, ctx, settings, running, error, message);
    failWith(ctx, error, message);
  } finally {
    await closeUndici();
  }
}

/**
 * Throws a `CancelledError` when SIGINT or SIGTERM came before the run sent anything: while the
 * bundle loaded (core/received-signals.ts) or while the inputs were read. A signal that came
 * during that synchronous work is handed to its listener on the event loop's next turn only,
 * hence the wait for one.
 */
async function stopIfCancelled(cancellation: Cancellation): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (cancellation.signal.aborted)
    throw new CancelledError(
      cancelSignalName(cancellation.signal),
      own('before anything was sent or changed'),
    );
}

/** A `post:` entry: failures there become warnings, as the main step already reported. */
export async function runPost(
  action: string,
  work: (ctx: ActionContext) => Promise<void>,
  env = process.env,
  toolkit: Toolkit = core,
) {
  const ctx = createContext(`${action}-post`, env, toolkit);
  try {
    await work(ctx);
  } catch (error) {
    ctx.warning(msg`post step: ${error}`);
  }
}

/** `env` is where the run reads its own settings (RUNNER_TEMP, GITHUB_*); the toolkit reads the process's. */
export function createContext(
  action: string,
  env: NodeJS.ProcessEnv,
  toolkit: Toolkit = core,
  cancellation: Cancellation = processCancellation(),
): ActionContext {
  const secrets = new Secrets((value) => toolkit.setSecret(value));
  const redact = (line: Line) => redactMessage(line, secrets.redactor);
  const log = new OpLog({ path: logFilePath(env, action), action, redact });
  let summaryWritten = false;
  const outputsSet = new Set<string>();
  return {
    action,
    inputs: new InputReader((name) => toolkit.getInput(name), workspaceFiles(env.GITHUB_WORKSPACE)),
    secrets,
    log,
    env,
    toolkit,
    // Every line we print may carry third-party text: it is shown, never obeyed as a command.
    info: (line) => toolkit.info(guardCommands(redact(line))),
    warning: (line) => toolkit.warning(redact(line)),
    notice: (line) => toolkit.notice(redact(line)),
    setOutput: (name, value) => {
      outputsSet.add(name);
      toolkit.setOutput(
        name,
        redact(typeof value === 'string' || value instanceof Message ? value : JSON.stringify(value)),
      );
    },
    setOwnOutput: (name, value) => {
      outputsSet.add(name);
      toolkit.setOutput(name, value);
    },
    writeSummary: async (markdown, options) => {
      summaryWritten = true;
      if (!env.GITHUB_STEP_SUMMARY) return;
      // The summary only reports the run: a file that cannot be written neither fails a run
      // that worked nor replaces the error of one that did not.
      try {
        await toolkit.summary.addRaw(options?.fromRedactedData ? markdown : redact(markdown), true).write();
      } catch (error) {
        toolkit.warning(redact(msg`job summary not written: ${error}`));
      }
    },
    hasWrittenSummary: () => summaryWritten,
    hasSetOutput: (name) => outputsSet.has(name),
    saveState: (name, value) => toolkit.saveState(name, value),
    getState: (name) => toolkit.getState(name),
    cancellation,
  };
}

/** The one summary of a run that failed before writing its own. */
async function summarizeFailure<S>(
  definition: ActionDefinition<S>,
  ctx: ActionContext,
  settings: S | undefined,
  running: boolean,
  error: unknown,
  message: string,
): Promise<void> {
  const redact = (text: string) => ctx.secrets.redact(text);
  const title =
    settings !== undefined && definition.failureTitle
      ? definition.failureTitle(settings, redact)
      : definition.action;
  const markdown = renderFailureSummary({
    title,
    cancelled: isCancelled(error),
    error: message,
    atInputs: !running,
    steps: ctx.log.tally(),
  });
  await ctx.writeSummary(markdown, { fromRedactedData: true });
}

function failWith(ctx: ActionContext, error: unknown, message: string): void {
  // Already redacted: redacting it again whole would cut the words the first pass kept.
  ctx.log.write({ step: failedStep(error), outcome: 'failed', detail: own(message) });
  if (!isExpectedError(error) && error instanceof Error && error.stack) {
    ctx.toolkit.debug(ctx.secrets.redact(error.stack));
  }
  ctx.toolkit.setFailed(message);
}

function failedStep(error: unknown): string {
  if (error instanceof InputError || error instanceof EnvironmentError) return 'inputs';
  if (error instanceof CancelledError) return 'cancelled';
  if (error instanceof StepError) return error.step;
  if (error instanceof ApiError) return error.operation;
  return 'run';
}
