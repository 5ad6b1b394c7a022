import { spawn } from 'node:child_process';
import { TextCollector } from '../core/line-stream.ts';
import { MAX_CAPTURE_BYTES, type RawOutcome } from './run-result.ts';

/**
 * A `run` check on the runner: `sh -c` with stderr folded into stdout inside
 * the shell, so both arrive in the order the command wrote them. The shell
 * leads its own process group, and a timeout kills the whole group: a
 * `sleep` started by the command dies with it instead of holding the pipe.
 */
export function runLocal(
  command: string,
  options: { timeoutMs: number; cwd: string; env: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn('sh', ['-c', `exec 2>&1; ${command}`], {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      resolve({ output: '', timedOut: false, error: (error as Error).message });
      return;
    }
    const capture = new Capture();
    child.stdout?.on('data', (chunk: Buffer) => capture.add(chunk));
    child.stderr?.on('data', (chunk: Buffer) => capture.add(chunk));
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', killGroup, { once: true });
    let spawnError: string | undefined;
    child.on('error', (error) => {
      spawnError = error.message;
    });
    // A background child the command left behind would hold the pipe open: it goes with the shell.
    child.on('exit', () => killGroup());
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', killGroup);
      resolve({
        output: capture.text(),
        exitCode: timedOut ? undefined : (code ?? (signal ? 128 + signalNumber(signal) : undefined)),
        timedOut,
        error: spawnError,
      });
    });
  });
}

/** The check's output, decoded as it streams in (`TextCollector`), kept up to `MAX_CAPTURE_BYTES`. */
export class Capture {
  private readonly decoded = new TextCollector();
  private bytes = 0;
  private dropped = 0;

  add(chunk: Buffer): void {
    if (this.bytes >= MAX_CAPTURE_BYTES) {
      this.dropped += chunk.length;
      return;
    }
    this.decoded.write(chunk);
    this.bytes += chunk.length;
  }

  text(): string {
    this.decoded.end();
    const all = this.decoded.text;
    if (this.dropped === 0) return all;
    // Cut at the last complete line so no partial secret is kept without its context.
    const nl = all.lastIndexOf('\n');
    const dropped = this.dropped + Buffer.byteLength(all.slice(nl + 1));
    return `${all.slice(0, nl + 1)}[output over ${MAX_CAPTURE_BYTES} bytes: the last ${dropped} bytes were not kept]\n`;
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };
  return numbers[signal] ?? 0;
}
