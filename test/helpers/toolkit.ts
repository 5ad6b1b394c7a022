import type { Toolkit } from '../../src/core/action.ts';

/** One thing the action said through @actions/core, in the order it said it. */
export interface Said {
  kind:
    | 'info'
    | 'debug'
    | 'notice'
    | 'warning'
    | 'error'
    | 'failed'
    | 'secret'
    | 'output'
    | 'state'
    | 'summary';
  text: string;
  name?: string;
}

export interface RecordingToolkit extends Toolkit {
  said: Said[];
  /** The last value set under `name` of that kind (outputs and state), undefined when never set. */
  last(kind: 'output' | 'state', name: string): string | undefined;
  /** What the runner would show: info lines and annotations; masking and file commands left out. */
  printed(): string[];
}

/**
 * A stand-in for @actions/core that records calls instead of speaking the
 * runner's protocol, for tests of one module in-process. Inputs come from the
 * given record, saved state from `state` (as the runner hands it to a post step).
 */
export function recordingToolkit(
  inputs: Record<string, string> = {},
  state: Record<string, string> = {},
  onSay?: (said: Said) => void,
): RecordingToolkit {
  const said: Said[] = [];
  let summaryBuffer = '';
  const say = (entry: Said) => {
    said.push(entry);
    onSay?.(entry);
  };
  const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  const toolkit: RecordingToolkit = {
    said,
    getInput: (name) => (inputs[name] ?? '').trim(),
    info: (message) => say({ kind: 'info', text: message }),
    debug: (message) => say({ kind: 'debug', text: message }),
    notice: (message) => say({ kind: 'notice', text: text(message) }),
    warning: (message) => say({ kind: 'warning', text: text(message) }),
    error: (message) => say({ kind: 'error', text: text(message) }),
    setFailed: (message) => say({ kind: 'failed', text: text(message) }),
    setSecret: (secret) => say({ kind: 'secret', text: secret }),
    setOutput: (name, value) => say({ kind: 'output', name, text: text(value) }),
    saveState: (name, value) => say({ kind: 'state', name, text: text(value) }),
    getState: (name) => state[name] ?? '',
    summary: {
      addRaw(markdown, addEOL = false) {
        summaryBuffer += addEOL ? `${markdown}\n` : markdown;
        return this as never;
      },
      async write() {
        say({ kind: 'summary', text: summaryBuffer });
        summaryBuffer = '';
        return this as never;
      },
    },
    last: (kind, name) => said.filter((s) => s.kind === kind && s.name === name).at(-1)?.text,
    printed: () => said.flatMap((s) => shownLine(s) ?? []),
  };
  return toolkit;
}

/** The line the runner shows for what was said: info as is, annotations as `::kind::`; none for the rest. */
export function shownLine(said: Said): string | undefined {
  if (said.kind === 'info') return said.text;
  if (said.kind === 'failed') return `::error::${said.text}`;
  if (said.kind === 'notice' || said.kind === 'warning' || said.kind === 'error')
    return `::${said.kind}::${said.text}`;
  return undefined;
}
