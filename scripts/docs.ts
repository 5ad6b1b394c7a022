/**
 * The README's reference of every action (inputs with required/default/meaning, outputs), made
 * from the action.yml files, and the check that the README says what the action.yml files say.
 *
 *   node scripts/docs.ts           rewrite the section between the reference markers of README.md
 *   node scripts/docs.ts --check   exit 1 and list every disagreement
 *
 * The check does not compare with a fresh rendering only: it reads the tables back and compares
 * each row with action.yml, so a hand edit, a missing row or a stale default is named precisely.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const ACTIONS = ['clone', 'config-update', 'deploy', 'evidence'] as const;
export const START = '<!-- reference:start -->';
export const END = '<!-- reference:end -->';
const NONE = '—';

export interface ActionInput {
  description: string;
  required?: boolean;
  default?: string;
}
export interface ActionDefinition {
  name?: string;
  description?: string;
  inputs: Record<string, ActionInput>;
  outputs: Record<string, { description: string }>;
  runs?: { using: string; post?: string };
}
export interface DocumentedAction {
  inputs: Map<string, { required: boolean; default: string; meaning: string }>;
  outputs: Map<string, { meaning: string }>;
}

export function readActions(root: string): Record<string, ActionDefinition> {
  return Object.fromEntries(
    ACTIONS.map((a) => [
      a,
      parse(readFileSync(join(root, `action-${a}`, 'action.yml'), 'utf8')) as ActionDefinition,
    ]),
  );
}

function cell(text: string): string {
  // Outside code spans `<name>` would be taken for an HTML tag and vanish on GitHub.
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(/</g, '\\<')))
    .join('')
    .trim();
}
function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

export function renderReference(actions: Record<string, ActionDefinition>): string {
  const out = [
    START,
    '## Reference',
    '',
    '<!-- Generated from action-*/action.yml by `node scripts/docs.ts`; test/docs.test.ts fails when they disagree. -->',
    '',
    'Every input of every action, with its default and meaning, and every output. Inputs are',
    'strings, as in any action: booleans are `true`/`false`, lists are one item per line.',
    'Ready-made workflows that set them: [examples/](examples/); reusable workflows and pinning:',
    '[docs/workflows.md](docs/workflows.md).',
  ];
  for (const [name, def] of Object.entries(actions)) {
    out.push('', `### \`action-${name}\``, '');
    if (def.description) out.push(cell(def.description), '');
    out.push(`\`uses: acme/ops-actions/action-${name}@v1\``, '');
    out.push('| input | required | default | meaning |', '|---|---|---|---|');
    for (const [input, spec] of Object.entries(def.inputs)) {
      const dflt = spec.default === undefined || spec.default === '' ? NONE : code(String(spec.default));
      out.push(
        `| \`${input}\` | ${spec.required ? 'yes' : 'no'} | ${cell(dflt)} | ${cell(spec.description)} |`,
      );
    }
    out.push('', '| output | meaning |', '|---|---|');
    for (const [output, spec] of Object.entries(def.outputs))
      out.push(`| \`${output}\` | ${cell(spec.description)} |`);
  }
  out.push(END);
  return out.join('\n');
}

/** The text between the markers (markers included), or undefined. */
export function referenceSection(markdown: string): string | undefined {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return markdown.slice(start, end + END.length);
}

export function replaceReference(markdown: string, section: string): string {
  const current = referenceSection(markdown);
  if (current === undefined) return `${markdown.replace(/\s*$/, '')}\n\n${section}\n`;
  return markdown.replace(current, () => section);
}

function splitRow(line: string): string[] {
  const cells: string[] = [];
  let current = '';
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && body[i + 1] === '|') {
      current += '|';
      i++;
    } else if (body[i] === '|') {
      cells.push(current.trim());
      current = '';
    } else current += body[i];
  }
  cells.push(current.trim());
  return cells;
}
function uncode(text: string): string {
  const m = /^(`+)\s?([\s\S]*?)\s?\1$/.exec(text);
  return m ? m[2]! : text;
}

/** Reads the tables of the reference section back. */
export function parseReference(markdown: string): Map<string, DocumentedAction> {
  const section = referenceSection(markdown) ?? '';
  const documented = new Map<string, DocumentedAction>();
  let current: DocumentedAction | undefined;
  let table: 'inputs' | 'outputs' | undefined;
  for (const line of section.split('\n')) {
    const heading = /^###\s+`?action-([a-z-]+)`?\s*$/.exec(line);
    if (heading) {
      current = { inputs: new Map(), outputs: new Map() };
      documented.set(heading[1]!, current);
      table = undefined;
      continue;
    }
    if (!current || !line.startsWith('|')) continue;
    const cells = splitRow(line);
    if (cells[0] === 'input') table = 'inputs';
    else if (cells[0] === 'output') table = 'outputs';
    else if (/^-+$/.test(cells[0]!.replace(/:/g, ''))) continue;
    else if (table === 'inputs') {
      const dflt = cells[2] === NONE ? '' : uncode(cells[2] ?? '');
      current.inputs.set(uncode(cells[0]!), {
        required: cells[1] === 'yes',
        default: dflt,
        meaning: cells[3] ?? '',
      });
    } else if (table === 'outputs') current.outputs.set(uncode(cells[0]!), { meaning: cells[1] ?? '' });
  }
  return documented;
}

/** Every disagreement between the README's reference and the action.yml files, in words. */
export function checkReference(markdown: string, actions: Record<string, ActionDefinition>): string[] {
  if (referenceSection(markdown) === undefined) return [`README has no ${START} … ${END} section`];
  const documented = parseReference(markdown);
  const problems: string[] = [];
  for (const [name, def] of Object.entries(actions)) {
    const doc = documented.get(name);
    if (!doc) {
      problems.push(`action-${name} is not documented`);
      continue;
    }
    for (const [input, spec] of Object.entries(def.inputs)) {
      const row = doc.inputs.get(input);
      if (!row) {
        problems.push(`action-${name}: input \`${input}\` is in action.yml but not documented`);
        continue;
      }
      const dflt = spec.default === undefined ? '' : String(spec.default);
      if (row.default !== dflt)
        problems.push(
          `action-${name}: input \`${input}\` defaults to "${dflt}" in action.yml, the docs say "${row.default}"`,
        );
      if (row.required !== Boolean(spec.required))
        problems.push(
          `action-${name}: input \`${input}\` required is ${Boolean(spec.required)} in action.yml, the docs say ${row.required}`,
        );
      if (row.meaning !== cell(spec.description).replace(/\\\|/g, '|'))
        problems.push(
          `action-${name}: input \`${input}\` has another meaning in the docs than its action.yml description`,
        );
    }
    for (const input of doc.inputs.keys())
      if (!(input in def.inputs))
        problems.push(`action-${name}: documented input \`${input}\` does not exist in action.yml`);
    for (const [output, spec] of Object.entries(def.outputs)) {
      const row = doc.outputs.get(output);
      if (!row) problems.push(`action-${name}: output \`${output}\` is in action.yml but not documented`);
      else if (row.meaning !== cell(spec.description).replace(/\\\|/g, '|'))
        problems.push(
          `action-${name}: output \`${output}\` has another meaning in the docs than its action.yml description`,
        );
    }
    for (const output of doc.outputs.keys())
      if (!(output in def.outputs))
        problems.push(`action-${name}: documented output \`${output}\` does not exist in action.yml`);
  }
  for (const name of documented.keys())
    if (!(name in actions)) problems.push(`action-${name} is documented but has no action.yml`);
  return problems;
}

function main(): void {
  const root = resolve(import.meta.dirname, '..');
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const actions = readActions(root);
  if (process.argv.includes('--check')) {
    const problems = checkReference(readme, actions);
    for (const p of problems) process.stderr.write(`${p}\n`);
    if (problems.length > 0) {
      process.stderr.write('run: node scripts/docs.ts\n');
      process.exit(1);
    }
    process.stdout.write('README reference agrees with every action.yml\n');
    return;
  }
  writeFileSync(readmePath, replaceReference(readme, renderReference(actions)));
  process.stdout.write('README.md reference rewritten from action.yml\n');
}

if (import.meta.filename === resolve(process.argv[1] ?? '')) main();
