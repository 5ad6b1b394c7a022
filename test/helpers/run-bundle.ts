import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { LOOPBACK_NO_PROXY, loopbackGuardUrl } from './loopback-guard.ts';

/**
 * Runs a committed bundle the way the GitHub runner does: Node 24, every input
 * as INPUT_<NAME> (declared defaults included, as the runner passes them), and
 * the runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE) in a
 * fresh RUNNER_TEMP. Returns what a user sees.
 */

export const ROOT = resolve(import.meta.dirname, '..', '..');

export type ActionName = 'clone' | 'config-update' | 'deploy' | 'evidence';

export interface BundleRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  /** Parsed JSONL operations log, when the action announced one. */
  log: Record<string, unknown>[];
  /** Everything the run wrote, for secret scans: stdout, stderr, files of the runner. */
  everything: string;
  dir: string;
  /** `::error::` lines with the prefix removed. */
  errors: string[];
}

export interface RunOptions {
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  entry?: 'main' | 'post';
  /** Called with each stdout line as it arrives. */
  onLine?: (line: string, atMs: number) => void;
  cwd?: string;
  /** STATE_* variables, as the runner passes saved state to a post step. */
  state?: Record<string, string>;
  timeoutMs?: number;
  dir?: string;
  /** Hands over the running bundle's process, e.g. to kill it mid-run. */
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * For a test file whose deploys record GitHub deployments by the dozen: GitHub writes are let
 * through one at a time with no gap, instead of plugin-throttling's second between two, through
 * the test-only OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS of src/providers/github/client.ts. The
 * reliability matrices do not use it: their recorded runs keep the product's spacing.
 */
export const UNSPACED_GITHUB_WRITES: Readonly<Record<string, string>> = {
  OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS: '0',
};

export function declaredDefaults(action: ActionName): Record<string, string> {
  const doc = parse(readFileSync(join(ROOT, `action-${action}`, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(doc.inputs)) {
    const value = spec.default ?? '';
    // The runner evaluates expressions; tests pass the real values explicitly.
    out[name] = value.includes('${{') ? '' : String(value);
  }
  return out;
}

export async function runBundle(action: ActionName, options: RunOptions = {}): Promise<BundleRun> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `ops-${action}-`));
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_ENV: join(dir, 'env'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '', { flag: 'a' });
  const runnerTemp = join(dir, 'runner-temp');
  const workspace = options.cwd ?? join(dir, 'workspace');
  mkdirSync(runnerTemp, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    RUNNER_TEMP: runnerTemp,
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/fleet',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_ACTIONS: 'true',
    ...(await loopbackProxyEnv(options.env)),
    ...files,
    ...options.env,
  };
  for (const [name, value] of Object.entries({ ...declaredDefaults(action), ...options.inputs })) {
    env[`INPUT_${name.toUpperCase()}`] = value;
  }
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;
  const script = join(ROOT, 'dist', action, options.entry === 'post' ? 'post/index.js' : 'index.js');
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script], {
      cwd: workspace,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let pending = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onLine?.(line, performance.now() - started);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const outputs = parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8'));
      const state = parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8'));
      const summary = readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8');
      const logPath = outputs['log-file'];
      const logText = logPath ? safeRead(logPath) : '';
      const everything = [
        stdoutWithoutMaskCommands(stdout),
        stderr,
        readFileSync(files.GITHUB_OUTPUT, 'utf8'),
        readFileSync(files.GITHUB_STATE, 'utf8'),
        readFileSync(files.GITHUB_ENV, 'utf8'),
        summary,
        logText,
        ...listFiles(workspace).map(safeRead),
        // Every file an output names (results-file, evidence report…): workflows upload them.
        ...Object.values(outputs)
          .filter((value) => isAbsolute(value) && value !== logPath)
          .map(safeRead),
      ].join('\n');
      resolvePromise({
        code,
        stdout,
        stderr,
        outputs,
        state,
        summary,
        log: logText
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>),
        everything,
        dir,
        errors: stdout
          .split('\n')
          .filter((l) => l.startsWith('::error'))
          .map((l) => l.replace(/^::error[^:]*::/, '')),
      });
    });
  });
}

/** The runner consumes `::add-mask::` lines itself; a user never sees them. */
export function stdoutWithoutMaskCommands(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
}

export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const [, name, delimiter] = m;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
    out[name!] = value.join('\n');
  }
  return out;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The loopback guard's proxy variables, unless the test sets proxy variables of its own. */
async function loopbackProxyEnv(own: Record<string, string> = {}): Promise<Record<string, string>> {
  if (Object.keys(own).some((name) => /^(https?|no)_proxy$/i.test(name))) return {};
  const url = await loopbackGuardUrl();
  return { HTTPS_PROXY: url, HTTP_PROXY: url, NO_PROXY: LOOPBACK_NO_PROXY };
}
