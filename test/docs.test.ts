import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  type ActionDefinition,
  checkReference,
  END,
  parseReference,
  readActions,
  referenceSection,
  renderReference,
  replaceReference,
  START,
} from '../scripts/docs.ts';
import { ROOT } from './helpers/run-bundle.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const actions = readActions(ROOT);
const clone = (): Record<string, ActionDefinition> => structuredClone(actions);

describe('README reference and action.yml agree', () => {
  it('the README has one reference section, at the end', () => {
    expect(readme.split(START).length).toBe(2);
    expect(readme.split(END).length).toBe(2);
    expect(readme.trimEnd().endsWith(END)).toBe(true);
  });

  it('reports no disagreement', () => {
    expect(checkReference(readme, actions)).toEqual([]);
  });

  it('is exactly what `node scripts/docs.ts` generates', () => {
    expect(referenceSection(readme), 'run: node scripts/docs.ts').toBe(renderReference(actions));
  });

  it.each(ACTIONS)('documents every input and output of action-%s, with default and required', (name) => {
    const doc = parseReference(readme).get(name)!;
    const def = actions[name]!;
    expect([...doc.inputs.keys()]).toEqual(Object.keys(def.inputs));
    expect([...doc.outputs.keys()]).toEqual(Object.keys(def.outputs));
    for (const [input, spec] of Object.entries(def.inputs)) {
      expect(doc.inputs.get(input)!.default, input).toBe(spec.default ?? '');
      expect(doc.inputs.get(input)!.required, input).toBe(Boolean(spec.required));
      expect(doc.inputs.get(input)!.meaning, input).toMatch(/\w{3,}/);
    }
  });
});

describe('the checker catches what drifts (fed a changed action.yml or README)', () => {
  it('an input added to action.yml but not documented', () => {
    const changed = clone();
    changed.deploy!.inputs['canary-weight'] = {
      description: 'Share of traffic for the canary.',
      default: '10',
    };
    expect(checkReference(readme, changed)).toEqual([
      'action-deploy: input `canary-weight` is in action.yml but not documented',
    ]);
  });

  it('an output added to action.yml but not documented', () => {
    const changed = clone();
    changed.evidence!.outputs.digest = { description: 'sha256 of the evidence file.' };
    expect(checkReference(readme, changed)).toEqual([
      'action-evidence: output `digest` is in action.yml but not documented',
    ]);
  });

  it('an input removed from action.yml but still documented', () => {
    const changed = clone();
    delete changed['config-update']!.inputs.shard;
    expect(checkReference(readme, changed)).toEqual([
      'action-config-update: documented input `shard` does not exist in action.yml',
    ]);
  });

  it('a changed default, a changed required flag and a changed description', () => {
    const changed = clone();
    changed.clone!.inputs['dns-ttl']!.default = '60';
    changed.clone!.inputs.folder!.required = true;
    changed.evidence!.inputs['max-lines']!.description = 'Something else.';
    expect(checkReference(readme, changed)).toEqual([
      'action-clone: input `folder` required is true in action.yml, the docs say false',
      'action-clone: input `dns-ttl` defaults to "60" in action.yml, the docs say "300"',
      'action-evidence: input `max-lines` has another meaning in the docs than its action.yml description',
    ]);
  });

  it('a row deleted from the README by hand', () => {
    const edited = readme.replace(/^\| `keep` \|.*\n/m, '');
    expect(edited).not.toBe(readme);
    expect(checkReference(edited, actions)).toEqual([
      'action-deploy: input `keep` is in action.yml but not documented',
    ]);
  });

  it('a README without the section, and an action without a heading', () => {
    expect(checkReference('# ops-actions\n', actions)).toEqual([`README has no ${START} … ${END} section`]);
    const without = readme.replace('### `action-evidence`', '### Evidence');
    expect(checkReference(without, actions)).toContain('action-evidence is not documented');
  });

  it('regenerating puts back what the checker wants, and keeps the rest of the README', () => {
    const changed = clone();
    changed.deploy!.inputs['canary-weight'] = {
      description: 'Share | of traffic for <the> canary.',
      default: '10',
    };
    const regenerated = replaceReference(readme, renderReference(changed));
    expect(checkReference(regenerated, changed)).toEqual([]);
    expect(regenerated.slice(0, regenerated.indexOf(START))).toBe(readme.slice(0, readme.indexOf(START)));
    expect(parseReference(regenerated).get('deploy')!.inputs.get('canary-weight')).toEqual({
      required: false,
      default: '10',
      meaning: 'Share | of traffic for \\<the> canary.',
    });
  });
});

describe('docs pages', () => {
  const migrating = readFileSync(join(ROOT, 'docs', 'migrating-from-scripts.md'), 'utf8');

  it('the migration page maps every old script habit the issue names', () => {
    for (const phrase of [
      'servers.txt',
      '--target kamal',
      '$stdout.sync',
      'Will update',
      'deploy_',
      'deployed-via-api',
      'milestone',
      'JSONL',
      'lock',
      'doctor',
    ])
      expect(migrating, phrase).toContain(phrase);
  });

  /** GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces → `-`. */
  const slug = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
  const anchorsOf = (file: string) =>
    new Set(
      [
        ...readFileSync(file, 'utf8')
          .replace(/^```[\s\S]*?^```/gm, '')
          .matchAll(/^#{1,6} (.+)$/gm),
      ].map((m) => slug(m[1]!)),
    );

  it('slugs headings as GitHub does', () => {
    expect(slug('GitHub token (`github-token`)')).toBe('github-token-github-token');
    expect(slug('Fly.io (`fly-api-token`)')).toBe('flyio-fly-api-token');
    expect(slug('known_hosts for ssh targets')).toBe('known_hosts-for-ssh-targets');
  });

  it('every relative link of README, docs/ and examples/README.md points at a file (and heading) that exists', () => {
    const pages = [
      'README.md',
      ...readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
      'examples/README.md',
    ];
    expect(pages).toEqual(expect.arrayContaining(['docs/credentials.md', 'docs/troubleshooting.md']));
    for (const page of pages) {
      const text = readFileSync(join(ROOT, page), 'utf8');
      const dir = join(ROOT, page, '..');
      for (const m of text.matchAll(/\]\(([^)#\s]*)(#[^)\s]*)?\)/g)) {
        const [, target = '', anchor] = m;
        if (/^[a-z]+:/.test(target)) continue;
        const file = target === '' ? join(ROOT, page) : join(dir, target);
        expect(existsSync(file), `${page} → ${target}`).toBe(true);
        if (anchor && file.endsWith('.md'))
          expect(anchorsOf(file), `${page} → ${target}${anchor}`).toContain(anchor.slice(1));
      }
    }
  });

  it('every action docs/workflows.md names exists', () => {
    const text = readFileSync(join(ROOT, 'docs', 'workflows.md'), 'utf8');
    expect(text).toContain('acme/ops-actions');
    for (const m of text.matchAll(/acme\/ops-actions\/action-([a-z-]+)@/g)) expect(ACTIONS).toContain(m[1]);
  });
});
