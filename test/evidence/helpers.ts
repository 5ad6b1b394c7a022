import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sshd } from '../../sandbox/sshd.ts';

/** A fresh workspace holding a checks file; returns its path. */
export function workspaceWith(checksYaml: string, path = '.github/evidence.yml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-ws-'));
  const file = join(dir, path);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, checksYaml);
  return dir;
}

/** The evidence files written under `<workspace>/<outputDir>`. */
export function evidenceFiles(
  workspace: string,
  outputDir = 'docs/evidence',
): { name: string; text: string }[] {
  const dir = join(workspace, outputDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

export const MILESTONES =
  '[source-synced, env-created, gates-pass, images-built, stack-starts, health-passes]';

/** Inputs of an evidence run whose checks run over ssh on `sshd`, with nothing uploaded. */
export function sshInputs(sshd: Sshd): Record<string, string> {
  return {
    milestone: 'm',
    upload: 'false',
    'ssh-host': sshd.target,
    'ssh-key': sshd.privateKey,
    'ssh-known-hosts': sshd.knownHosts,
  };
}
