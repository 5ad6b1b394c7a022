import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NoOperationTraceWriter } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './helpers/run-bundle.ts';

const ACTIONS = ['clone', 'config-update', 'deploy', 'evidence'] as const;
const SPEC_DIR = resolve(ROOT, '..', 'shared', 'spec');

/** Inputs we add beyond the spec table, each for a reason the spec states elsewhere. */
const EXTRA_INPUTS: Record<string, string[]> = {
  // "Base URLs of every provider API are inputs with the real default" (spec README).
  evidence: ['github-api-url'],
  // Issue 13 §4: an update keeps what flyctl's keeps, including the minimum secrets version.
  deploy: ['fly-min-secrets-version'],
};

interface ActionYml {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post?: string };
}

function specNames(action: string): { inputs: string[]; outputs: string[] } {
  const text = readFileSync(join(SPEC_DIR, `action-${action}.md`), 'utf8');
  const inputsSection = text.split('## Inputs')[1]!.split('\n## ')[0]!;
  const inputs = inputsSection
    .split('\n')
    .filter((l) => l.startsWith('| ') && !/^\| name \| default \|/.test(l))
    .flatMap((l) => l.split('|')[1]!.split(','))
    .map((n) => n.trim());
  let outputsText = text.split('## Outputs')[1]!.split('\n## ')[0]!;
  while (/\([^()]*\)/.test(outputsText)) outputsText = outputsText.replace(/\([^()]*\)/g, '');
  const outputs = [...outputsText.matchAll(/`([a-z][a-z-]*)`/g)].map((m) => m[1]!);
  return { inputs, outputs };
}

describe.each(ACTIONS)('action-%s/action.yml', (action) => {
  const file = join(ROOT, `action-${action}`, 'action.yml');
  const content = readFileSync(file, 'utf8');
  const yml = parse(content) as ActionYml;

  it('is valid for the Actions runner (workflow-parser)', () => {
    const result = parseAction({ name: file, content }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    const template = convertActionTemplate(result.context, result.value!);
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    expect(template.runs).toMatchObject({ using: 'node24' });
  });

  it('runs its committed node24 bundle', () => {
    expect(yml.runs.using).toBe('node24');
    const expected = `../dist/${action}/index.js`;
    expect(yml.runs.main).toBe(expected);
    expect(existsSync(resolve(ROOT, `action-${action}`, yml.runs.main))).toBe(true);
    if (action === 'deploy') {
      expect(yml.runs.post).toBe('../dist/deploy/post/index.js');
      expect(existsSync(resolve(ROOT, 'action-deploy', yml.runs.post!))).toBe(true);
    }
  });

  it('declares every input and output of its spec, each described, and nothing else', () => {
    const spec = specNames(action);
    expect(spec.inputs.length).toBeGreaterThan(5);
    expect(Object.keys(yml.inputs).sort()).toEqual([...spec.inputs, ...(EXTRA_INPUTS[action] ?? [])].sort());
    expect(Object.keys(yml.outputs).sort()).toEqual([...new Set(spec.outputs)].sort());
    for (const [name, input] of Object.entries(yml.inputs)) {
      expect(input.description, name).toMatch(/\w{3,}/);
      expect('default' in input || input.required, `${name} has a default or is required`).toBe(true);
    }
    for (const output of Object.values(yml.outputs)) expect(output.description).toMatch(/\w{3,}/);
  });
});
