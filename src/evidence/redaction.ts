import { Redactor, TOKEN_SHAPES } from '../core/redact.ts';
import { isTrivialValue, SECRET_NAME, type SecretValue, urlSecrets } from '../core/secrets.ts';

/**
 * What the evidence redactor knows before any check runs: the secret inputs,
 * the `redact` lines, the values of the variables named under `redact.env`,
 * the credentials in `http` check URLs (`urlSecrets`), the values of every
 * variable whose name says it holds a secret, and the file's own patterns.
 * What the user named (all but the guessed variables) is a secret whatever its
 * length; a guessed value is dropped when it is trivial (`isTrivialValue`). Variables are read from the runner's environment only:
 * for checks run over ssh, the remote host's variables are not known here,
 * and their values are caught only by the shapes and the patterns.
 */

export interface RedactionSources {
  secretInputs: (string | undefined)[];
  redactLines: string[];
  env: NodeJS.ProcessEnv;
  redactEnv: string[];
  patterns: RegExp[];
  /** URLs of the `http` checks. */
  urls?: string[];
}

export function secretValues(sources: RedactionSources): (SecretValue & { kind: string })[] {
  const out: (SecretValue & { kind: string })[] = [];
  for (const value of sources.secretInputs) if (value) out.push({ value, kind: 'secret' });
  for (const line of sources.redactLines) if (line.trim()) out.push({ value: line.trim(), kind: 'secret' });
  for (const url of sources.urls ?? [])
    for (const secret of urlSecrets(url)) out.push({ ...secret, kind: 'url' });
  const named = new Set(sources.redactEnv);
  for (const [name, value] of Object.entries(sources.env)) {
    if (!value) continue;
    if (named.has(name)) out.push({ value, kind: 'env' });
    else if (SECRET_NAME.test(name) && !name.startsWith('INPUT_') && !isTrivialValue(value))
      // The secret inputs are above; other inputs are not secrets.
      out.push({ value, kind: 'env' });
  }
  return out;
}

export function buildRedactor(sources: RedactionSources): Redactor {
  const redactor = new Redactor(TOKEN_SHAPES);
  for (const { value, kind, spellings } of secretValues(sources)) redactor.addLiteral(value, kind, spellings);
  for (const pattern of sources.patterns) redactor.addShape({ kind: 'pattern', pattern });
  return redactor;
}
