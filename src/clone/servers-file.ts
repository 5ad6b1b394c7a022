import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { CloneSettings } from './inputs.ts';

/**
 * The append-only servers file of seed 000: one line per clone,
 * `<name>,<folder>,<heroku_url>,<subdomain_url>,<created_at>`, no header.
 */

/** `2025-11-21T18:42:10Z`: UTC to the second. */
export function formatUtc(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The seed writes the app's base URL without a trailing slash. */
export function baseUrl(webUrl: string): string {
  return webUrl.replace(/\/+$/, '');
}

export function subdomainUrl(settings: Pick<CloneSettings, 'name' | 'dns'>): string {
  return settings.dns.domain === undefined ? '' : `https://${settings.name}.${settings.dns.domain}`;
}

/** Everything of the line but the timestamp: what identifies a clone's record. */
export function recordPrefix(
  settings: Pick<CloneSettings, 'name' | 'folder' | 'dns'>,
  webUrl: string,
): string {
  return [settings.name, settings.folder ?? '', baseUrl(webUrl), subdomainUrl(settings)].join(',');
}

export function formatRecord(
  settings: Pick<CloneSettings, 'name' | 'folder' | 'dns'>,
  webUrl: string,
  createdAt: Date,
): string {
  return `${recordPrefix(settings, webUrl)},${formatUtc(createdAt)}`;
}

/** The line of an earlier successful run for the same clone, so a re-run does not add a second. */
export function findRecord(text: string, prefix: string): string | undefined {
  return text.split(/\r?\n/).find((line) => line.startsWith(`${prefix},`));
}

/** Relative paths are relative to the workspace (the repository root on a runner). */
export function resolveServersFile(file: string, workspace: string | undefined): string {
  return isAbsolute(file) ? file : resolve(workspace ?? process.cwd(), file);
}

/** `line` goes through `redact` (the run's secrets) first: the file is committed or uploaded by workflows. */
export function appendRecord(path: string, line: string, redact: (text: string) => string): void {
  mkdirSync(dirname(path), { recursive: true });
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const lead = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  appendFileSync(path, `${lead}${redact(line)}\n`, 'utf8');
}
