/**
 * The release check that the reusable workflows run the actions of the release being tagged.
 *
 *   TAG=v1.4.2 REPOSITORY=acme/ops-actions node scripts/action-refs.ts
 *
 * A reusable workflow (`on: workflow_call`) calls the suite's actions as `$/action-<name>`: GitHub
 * resolves `$/` to the repository of the workflow file, at the commit the caller's `uses:` resolved
 * (GitHub changelog 2026-07-30, "Reference same-repository actions with self-repository syntax";
 * runner 2.336.0 or newer, not on GitHub Enterprise Server). A `<repository>/action-<name>@v<major>`
 * reference is accepted only for this repository and the tag's major (the GHES fallback); any
 * other repository, another major, a branch or sha, or `./action-<name>` (which resolves against
 * the caller's checkout, not this repository) is refused: one `::error file=…::` line each, exit 1.
 * Workflows that are not reusable (ci.yml tests `./action-<name>` of its own checkout) are not read.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ActionUse {
  /** Path of the workflow file, relative to the repository root. */
  file: string;
  job: string;
  uses: string;
}

/** `…/action-<name>@ref`, `$/action-<name>`, `./action-<name>` → name, repository and ref. */
const ACTION_REF = /^(?:(\$|\.)\/|([\w.-]+\/[\w.-]+)\/)action-([a-z-]+)(?:@(.+))?$/;

/** Why `use` does not run the actions of release `tag` of `repository`, or undefined when it does. */
export function refusal(use: ActionUse, tag: string, repository: string): string | undefined {
  const m = ACTION_REF.exec(use.uses);
  if (!m) return undefined;
  const [, local, repo, name, ref] = m;
  const major = /^v\d+/.exec(tag)?.[0];
  const instead = `use \`$/action-${name}\` (this repository, at the commit the caller pinned)`;
  if (local === '$') return undefined;
  if (local === '.')
    return `\`${use.uses}\` resolves against the caller's checkout, not this repository: ${instead}`;
  if (repo!.toLowerCase() !== repository.toLowerCase())
    return `\`${use.uses}\` runs the actions of ${repo}, not of ${repository} being released: ${instead}`;
  if (ref !== major)
    return `\`${use.uses}\` runs the actions at ${ref ?? 'no ref'}, not at ${major ?? tag} of the tag ${tag}: ${instead}`;
  return undefined;
}

/** Every step of a reusable workflow under `root` that names one of the suite's actions. */
export function actionUses(root: string): ActionUse[] {
  const dir = join(root, '.github', 'workflows');
  const found: ActionUse[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const file = `.github/workflows/${name}`;
    const doc = parse(readFileSync(join(root, file), 'utf8')) as {
      on?: unknown;
      jobs?: Record<string, { steps?: { uses?: unknown }[] }>;
    };
    const on = doc.on;
    const reusable =
      on === 'workflow_call' ||
      (Array.isArray(on) && on.includes('workflow_call')) ||
      (typeof on === 'object' && on !== null && 'workflow_call' in on);
    if (!reusable) continue;
    for (const [job, spec] of Object.entries(doc.jobs ?? {})) {
      for (const step of spec.steps ?? []) {
        if (typeof step.uses === 'string' && ACTION_REF.test(step.uses))
          found.push({ file, job, uses: step.uses });
      }
    }
  }
  return found;
}

/** Problems of the checkout at `root` for release `tag` of `repository`, as `::error::` lines. */
export function check(root: string, tag: string, repository: string): string[] {
  const problems: string[] = [];
  for (const use of actionUses(root)) {
    const name = ACTION_REF.exec(use.uses)![3]!;
    const reason = existsSync(join(root, `action-${name}`, 'action.yml'))
      ? refusal(use, tag, repository)
      : `\`${use.uses}\` names no action of this repository (no action-${name}/action.yml)`;
    if (reason) problems.push(`::error file=${use.file}::job ${use.job}: ${reason}`);
  }
  return problems;
}

if (import.meta.filename === resolve(process.argv[1] ?? '')) {
  const tag = process.env.TAG ?? '';
  const repository = process.env.REPOSITORY ?? '';
  if (!tag || !repository) {
    console.log('::error::TAG (the release tag) and REPOSITORY (owner/name) must be set');
    process.exit(1);
  }
  const problems = check(process.cwd(), tag, repository);
  for (const line of problems) console.log(line);
  if (problems.length > 0) process.exit(1);
  console.log(`every reusable workflow runs the actions of ${repository} at ${tag}`);
}
