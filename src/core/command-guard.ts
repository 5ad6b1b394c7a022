import { randomBytes } from 'node:crypto';

/**
 * Text we print but did not write (build output, check output, ssh output,
 * provider error bodies) must never act as a workflow command. The runner
 * (actions/runner src/Runner.Worker/ActionCommandManager.cs and
 * src/Runner.Common/ActionCommand.cs) reads every line of a step's stdout,
 * splitting at `\n`, `\r\n` and a lone `\r` (.NET `StreamReader.ReadLine`),
 * and obeys `::name::data` after trimming leading white space, or a legacy
 * `##[name]data` anywhere in the line. Between `::stop-commands::<token>` and
 * `::<token>::` it obeys nothing but that resume line.
 */

/**
 * Whether the runner could take some line of `text` as a command. Wider than
 * the runner's own test on purpose: any leading character outside visible
 * ASCII counts as white space here.
 */
export function couldBeCommand(text: string): boolean {
  return /(?:^|[\r\n])[^!-~\r\n]*::|##\[/.test(text);
}

/**
 * `text` as it must be printed: unchanged when no line of it could be a
 * command, else wrapped between `::stop-commands::<token>` and `::<token>::`.
 * The token is 128 random bits drawn for each wrap (the runner masks it in
 * the log), never derived from the text, and never one the text contains,
 * so the text cannot end the pause early.
 */
export function guardCommands(text: string): string {
  if (!couldBeCommand(text)) return text;
  let token = randomToken();
  const lower = text.toLowerCase();
  while (lower.includes(token)) token = randomToken();
  return `::stop-commands::${token}\n${text}\n::${token}::`;
}

function randomToken(): string {
  return `ops-${randomBytes(16).toString('hex')}`;
}
