import { isPlainValue } from '../core/secrets.ts';
import type { CloneSettings } from './inputs.ts';

/**
 * How action-clone recognises an app it created: this config var, holding the
 * source app's id, is set on the new app by the first request after the create
 * (before any other change), so an app carrying it is ours to finish. See
 * `ownership` in plan.ts for the crash window between those two requests.
 */
export const MARKER_VAR = 'OPS_ACTIONS_CLONE_OF';

export interface DesiredConfig {
  /** Every var the clone must end with, the marker included. Values are secrets. */
  vars: Record<string, string>;
  /** Source vars owned by an add-on of the source (they point at its databases): never copied. */
  addonOwned: string[];
  /**
   * Source vars set by hand to a value holding an add-on-owned value (a copy of
   * DATABASE_URL with `?pool=25` appended): they would point the clone at the source's
   * add-on, so they are not copied either, unless `config` sets them on purpose.
   */
  addonDerived: string[];
  /** Source vars left out by `exclude-config`. */
  excluded: string[];
}

export function isExcluded(key: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? key.startsWith(p.slice(0, -1)) : key === p));
}

/** Add-on values shorter than this are not looked for inside other values (a region, `1`, `true`). */
const MIN_ADDON_VALUE_LENGTH = 16;
const MIN_PASSWORD_LENGTH = 8;

/**
 * What gives an add-on's credentials away inside another var: the value itself,
 * and for a URL with credentials its password and its `host:port/path` (the same
 * database under another scheme, `postgresql://` for `postgres://`, or split into
 * PGHOST/PGPASSWORD-style parts).
 */
export function addonFingerprints(value: string): string[] {
  const prints: string[] = [];
  if (value.length >= MIN_ADDON_VALUE_LENGTH && !isPlainValue(value)) prints.push(value);
  const url = URL.parse(value);
  if (url === null) return prints;
  const password = decodeURIComponent(url.password);
  if (password.length >= MIN_PASSWORD_LENGTH) prints.push(password);
  if (url.password !== '' && url.host !== '')
    prints.push(`${url.host}${url.pathname === '/' ? '' : url.pathname}`);
  return prints;
}

/**
 * Source config minus add-on-owned vars (and hand-set copies of their values), minus
 * `exclude-config`, minus the source's own marker (the source may itself be a clone);
 * then `config` overrides, `folder-var=folder` and our marker, each winning over what
 * came before.
 */
export function desiredConfig(
  settings: Pick<CloneSettings, 'config' | 'excludeConfig' | 'folder' | 'folderVar'>,
  source: { id: string; config: Record<string, string>; addonVars: readonly string[] },
): DesiredConfig {
  const owned = new Set(source.addonVars);
  const fingerprints = source.addonVars.flatMap((key) => {
    const value = source.config[key];
    return value === undefined ? [] : addonFingerprints(value);
  });
  const vars: Record<string, string> = {};
  const addonOwned: string[] = [];
  const addonDerived: string[] = [];
  const excluded: string[] = [];
  for (const key of Object.keys(source.config).sort()) {
    if (key === MARKER_VAR) continue;
    const value = source.config[key]!;
    if (owned.has(key)) {
      if (!(key in settings.config)) addonOwned.push(key);
    } else if (isExcluded(key, settings.excludeConfig)) excluded.push(key);
    else if (fingerprints.some((v) => value.includes(v))) {
      if (!(key in settings.config)) addonDerived.push(key);
    } else vars[key] = value;
  }
  Object.assign(vars, settings.config);
  if (settings.folder !== undefined) vars[settings.folderVar] = settings.folder;
  vars[MARKER_VAR] = source.id;
  return { vars, addonOwned, addonDerived, excluded };
}

/** Keys whose value on the clone differs from the desired one (missing included), sorted. */
export function configToSet(desired: Record<string, string>, current: Record<string, string>): string[] {
  return Object.keys(desired)
    .filter((key) => current[key] !== desired[key])
    .sort();
}
