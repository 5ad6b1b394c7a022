import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';

/**
 * The runner's protocol: workflow commands on stdout (`::error::`, `::add-mask::`)
 * and file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY).
 *
 * We speak it ourselves instead of importing @actions/core because importing
 * @actions/core loads its HTTP client (undici 6) and @actions/exec at start-up:
 * measured at 50-70 ms per step start, twice the whole budget. The encoding is
 * the same as @actions/core's, which test/core/runner.test.ts checks against it.
 */

export interface Runner {
  info(line: string): void;
  debug(line: string): void;
  warning(line: string): void;
  notice(line: string): void;
  error(line: string): void;
  mask(secret: string): void;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  getState(name: string): string;
  appendSummary(markdown: string): void;
  fail(message: string): void;
}

export function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function createRunner(
  env: NodeJS.ProcessEnv = process.env,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Runner {
  const command = (name: string, message: string) => write(`::${name}::${escapeData(message)}${EOL}`);
  const fileCommand = (variable: string, fallback: string, name: string, value: string) => {
    const file = env[variable];
    if (!file) {
      write(EOL);
      command(`${fallback} name=${name}`, value);
      return;
    }
    const delimiter = `ghadelimiter_${randomUUID()}`;
    if (name.includes(delimiter) || value.includes(delimiter))
      throw new Error('value collides with its delimiter');
    appendFileSync(file, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`, 'utf8');
  };
  return {
    info: (line) => write(`${line}${EOL}`),
    debug: (line) => command('debug', line),
    warning: (line) => command('warning', line),
    notice: (line) => command('notice', line),
    error: (line) => command('error', line),
    mask: (secret) => command('add-mask', secret),
    setOutput: (name, value) => fileCommand('GITHUB_OUTPUT', 'set-output', name, value),
    saveState: (name, value) => fileCommand('GITHUB_STATE', 'save-state', name, value),
    getState: (name) => env[`STATE_${name}`] ?? '',
    appendSummary: (markdown) => {
      if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${markdown}${EOL}`, 'utf8');
    },
    fail: (message) => {
      process.exitCode = 1;
      command('error', message);
    },
  };
}
