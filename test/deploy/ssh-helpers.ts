import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sshd } from '../../sandbox/sshd.ts';
import { type ActionContext, createContext } from '../../src/core/action.ts';
import { parseSshHost } from '../../src/core/inputs.ts';
import type { SshDeploySettings } from '../../src/deploy/inputs.ts';
import type { DeployRequest } from '../../src/deploy/target.ts';
import { recordingToolkit, shownLine } from '../helpers/toolkit.ts';

/** An ActionContext as the bundle builds it, with what it prints captured for assertions. */
export interface CapturedContext {
  ctx: ActionContext;
  /** Every line and annotation the context printed, in order (masking left out: the runner eats it). */
  printed: string[];
  /** The last value saved under `name`. */
  state(name: string): string | undefined;
  logText(): string;
}

export function captureContext(
  inputs: Record<string, string> = {},
  onPrint?: (text: string) => void,
): CapturedContext {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-target-'));
  const env: NodeJS.ProcessEnv = {
    RUNNER_TEMP: dir,
    GITHUB_REPOSITORY: 'acme/fleet',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'deploy',
    GITHUB_ACTOR: 'octocat',
  };
  const toolkit = recordingToolkit(inputs, {}, (said) => {
    const line = shownLine(said);
    if (line !== undefined) onPrint?.(line);
  });
  const ctx = createContext('deploy', env, toolkit);
  for (const name of ['registry-password', 'ssh-key', 'digitalocean-token']) ctx.secrets.add(inputs[name]);
  return {
    ctx,
    get printed() {
      return toolkit.printed();
    },
    state: (name) => toolkit.last('state', name),
    logText: () => (existsSync(ctx.log.path) ? readFileSync(ctx.log.path, 'utf8') : ''),
  };
}

export function sshSettings(sshd: Sshd, overrides: Partial<SshDeploySettings> = {}): SshDeploySettings {
  return {
    kind: 'ssh',
    hosts: [parseSshHost('hosts', sshd.target)],
    digitalocean: { tag: 'deployed-via-api', token: undefined, apiUrl: 'http://127.0.0.1:9/v2' },
    sshKey: sshd.privateKey,
    knownHosts: sshd.knownHosts,
    service: `web${randomBytes(3).toString('hex')}`,
    runArgs: '',
    healthCmd: undefined,
    keep: 5,
    lockTimeoutMs: 30_000,
    proxy: 'none',
    healthPath: undefined,
    drainTimeoutMs: 0,
    ...overrides,
  };
}

export function deployRequest(
  image: string | undefined,
  lines: string[],
  overrides: Partial<DeployRequest> = {},
): DeployRequest {
  const deployId = randomUUID();
  return {
    operation: 'deploy',
    deployId,
    deployTag: `deploy_${deployId.replace(/-/g, '').slice(0, 8)}`,
    image,
    dryRun: false,
    healthTimeoutMs: 30_000,
    autoRollback: true,
    log: (line) => lines.push(String(line)),
    ...overrides,
  };
}
