/**
 * How the GitHub Actions runner reads a step's stdout, written from its source
 * to check our output against it:
 * - lines split as .NET `StreamReader.ReadLine` does (`\n`, `\r\n`, a lone `\r`):
 *   actions/runner src/Runner.Sdk/ProcessInvoker.cs reads with `reader.ReadLine()`;
 * - actions/runner src/Runner.Worker/ActionCommandManager.cs `TryProcessCommand`:
 *   `TryParseV2` first, then the legacy `TryParse`; only registered command
 *   names (case-insensitive) count; `stop-commands` pauses until a line whose
 *   command is the token, and the token becomes a registered name meanwhile;
 * - actions/runner src/Runner.Common/ActionCommand.cs `TryParseV2`: the line
 *   after `TrimStart()` (.NET white space) starts with `::`, the name runs to
 *   the first space or the next `::`; `TryParse`: `##[` anywhere in the line,
 *   the name runs to the first space or `]`.
 */

/** The extensions ActionCommandManager.cs registers, and `stop-commands` itself. */
const REGISTERED = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'debug',
  'warning',
  'error',
  'notice',
  'group',
  'endgroup',
  'echo',
];

/** .NET `char.IsWhiteSpace`: what `TrimStart()` removes. */
const DOTNET_WHITESPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

export interface ObeyedCommand {
  command: string;
  data: string;
  line: string;
}

/** Every command the runner would obey in `stdout`, in order. */
export function obeyedCommands(stdout: string): ObeyedCommand[] {
  const registered = new Set(REGISTERED);
  let stopToken: string | undefined;
  const obeyed: ObeyedCommand[] = [];
  for (const line of stdout.split(/\r\n|\n|\r/)) {
    const parsed = parseV2(line, registered) ?? parseLegacy(line, registered);
    if (!parsed) continue;
    if (stopToken !== undefined) {
      if (parsed.command.toLowerCase() === stopToken.toLowerCase()) {
        registered.delete(stopToken.toLowerCase());
        stopToken = undefined;
        obeyed.push({ ...parsed, line });
      }
      continue;
    }
    if (parsed.command.toLowerCase() === 'stop-commands') {
      stopToken = parsed.data;
      registered.add(stopToken.toLowerCase());
    }
    obeyed.push({ ...parsed, line });
  }
  return obeyed;
}

function parseV2(line: string, registered: Set<string>): { command: string; data: string } | undefined {
  const message = line.replace(DOTNET_WHITESPACE, '');
  if (!message.startsWith('::')) return undefined;
  const end = message.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = message.slice(2, end);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!registered.has(command.toLowerCase())) return undefined;
  return { command, data: message.slice(end + 2) };
}

function parseLegacy(line: string, registered: Set<string>): { command: string; data: string } | undefined {
  const prefix = line.indexOf('##[');
  if (prefix < 0) return undefined;
  const rb = line.indexOf(']', prefix);
  if (rb < 0) return undefined;
  const info = line.slice(prefix + 3, rb);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!registered.has(command.toLowerCase())) return undefined;
  return { command, data: line.slice(rb + 1) };
}

/**
 * The commands obeyed in `stdout` that we did not mean: everything but our own
 * `stop-commands` pauses and their resume lines, and (when `ours` is given)
 * the lines of our own commands.
 */
export function injectedCommands(stdout: string, ours: (c: ObeyedCommand) => boolean = () => false) {
  const obeyed = obeyedCommands(stdout);
  const tokens = new Set(
    obeyed.filter((c) => c.command.toLowerCase() === 'stop-commands').map((c) => c.data.toLowerCase()),
  );
  return obeyed.filter(
    (c) =>
      !(c.command.toLowerCase() === 'stop-commands' && /^ops-[0-9a-f]{32}$/.test(c.data)) &&
      !tokens.has(c.command.toLowerCase()) &&
      !ours(c),
  );
}
