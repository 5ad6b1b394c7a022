/**
 * `npm run demo`: the suite end to end against the loopback sandbox, the way a
 * workflow runs it — clone an instance, fan out a config update to the fleet,
 * deploy, roll back, collect evidence — with the committed bundles. Prints the
 * log a user sees in GitHub and leaves summaries, servers file, JSONL logs,
 * evidence file and uploaded artifact in one folder named at the end.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEMO_SHA, seedDemoFleet } from '../sandbox/fleet.ts';
import { type Sandbox, startSandbox } from '../sandbox/index.ts';
import { type ActionName, runBundle } from '../test/helpers/run-bundle.ts';

const ROOT = resolve(import.meta.dirname, '..');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const OUT = join(ROOT, '.tmp', 'demo', stamp);
const WORKSPACE = join(OUT, 'workspace');

interface Step {
  title: string;
  action: ActionName;
  inputs: (s: Sandbox) => Record<string, string>;
  env?: (s: Sandbox) => Record<string, string>;
}

function writeEvidenceChecks(): void {
  writeFileSync(
    join(WORKSPACE, 'evidence.yml'),
    [
      'target: demo-staging',
      'milestones: [source-synced, env-created, gates-pass, stack-starts, health-passes]',
      'checks:',
      '  - id: node',
      '    title: Node.js version',
      '    run: node --version',
      '  - id: disk',
      '    title: Disk space',
      '    run: df -h /',
      '    required: true',
      '  - id: env',
      '    title: Environment without secret values',
      '    run: env | grep -E "^(DEMO_|HOME=)" | sort',
      'redact:',
      '  env: [DEMO_DATABASE_URL]',
      '',
    ].join('\n'),
  );
}

const STEPS: Step[] = [
  {
    title: 'Clone instance "tati" from fetlife-prod (Heroku + Hetzner DNS)',
    action: 'clone',
    inputs: (s) => ({
      name: 'tati',
      folder: '/Photos/tati',
      'source-app': 'fetlife-prod',
      domain: 'shibari.photo',
      'dns-provider': 'hetzner',
      'dns-token': s.tokens.hetzner,
      'heroku-api-key': s.tokens.heroku,
      'heroku-api-url': s.urls.heroku,
      'hetzner-api-url': s.urls.hetzner,
      'servers-file': 'scripts/servers.txt',
    }),
  },
  {
    title: 'Config update fanned out to every Fly machine of "smooth"',
    action: 'config-update',
    inputs: (s) => ({
      target: 'fly',
      url: `${s.urls.flyApp}/showcase/update_config`,
      'fly-app': 'smooth',
      'fly-api-token': s.tokens.fly,
      'fly-api-url': s.urls.fly,
      concurrency: '3',
    }),
  },
  {
    title: 'Deploy a Heroku build to fetlife-prod, recorded as a GitHub deployment',
    action: 'deploy',
    inputs: (s) => ({
      target: 'heroku',
      'heroku-app': 'fetlife-prod',
      'heroku-api-key': s.tokens.heroku,
      'heroku-api-url': s.urls.heroku,
      'source-url': 'https://example.com/fetlife-prod/source.tgz',
      'github-token': s.tokens.github,
      'github-api-url': s.urls.github,
      environment: 'production',
    }),
  },
  {
    title: 'Roll fetlife-prod back to the previous deployment',
    action: 'deploy',
    inputs: (s) => ({
      operation: 'rollback',
      target: 'heroku',
      'heroku-app': 'fetlife-prod',
      'heroku-api-key': s.tokens.heroku,
      'heroku-api-url': s.urls.heroku,
      'rollback-to': 'previous',
      'github-token': s.tokens.github,
      'github-api-url': s.urls.github,
      environment: 'production',
    }),
  },
  {
    title: 'Evidence for milestone "gates-pass", uploaded as an artifact',
    action: 'evidence',
    inputs: (s) => ({
      milestone: 'gates-pass',
      config: 'evidence.yml',
      'github-token': s.tokens.github,
      'github-api-url': s.urls.github,
      'retention-days': '7',
    }),
    env: (s) => ({
      ...s.results.env(),
      DEMO_DATABASE_URL: 'postgres://demo:demo-db-password@db.internal/app',
      DEMO_REGION: 'eu',
    }),
  },
];

/** The log as GitHub renders it: commands consumed, annotations labelled, debug hidden. */
function asGitHubShowsIt(line: string): string | undefined {
  const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
  if (!command) return line;
  const text = decodeURIComponent(command[2]!.replace(/%(?![0-9A-F]{2})/g, '%25'));
  if (command[1] === 'error') return `Error: ${text}`;
  if (command[1] === 'warning') return `Warning: ${text}`;
  if (command[1] === 'notice') return `Notice: ${text}`;
  return undefined;
}

type StepStatus = 'ok' | 'not implemented yet' | 'failed';

function statusOf(run: { code: number | null; errors: string[] }): StepStatus {
  if (run.code === 0) return 'ok';
  return run.errors.some((e) => e.includes('not implemented yet')) ? 'not implemented yet' : 'failed';
}

async function main(): Promise<void> {
  mkdirSync(WORKSPACE, { recursive: true });
  const sandbox = await startSandbox();
  const results: { title: string; code: number | null; errors: string[] }[] = [];
  try {
    seedDemoFleet(sandbox);
    writeEvidenceChecks();
    for (const [index, step] of STEPS.entries()) {
      process.stdout.write(`\n▶ Run ops-actions/action-${step.action} — ${step.title}\n`);
      const stepDir = join(OUT, `${index + 1}-${step.action}`);
      mkdirSync(stepDir, { recursive: true });
      const run = await runBundle(step.action, {
        inputs: step.inputs(sandbox),
        env: { GITHUB_SHA: DEMO_SHA, ...step.env?.(sandbox) },
        cwd: WORKSPACE,
        dir: stepDir,
        onLine: (line) => {
          const shown = asGitHubShowsIt(line);
          if (shown !== undefined) process.stdout.write(`  ${shown}\n`);
        },
      });
      writeFileSync(join(stepDir, 'stdout.txt'), run.stdout);
      writeFileSync(join(stepDir, 'outputs.json'), `${JSON.stringify(run.outputs, null, 2)}\n`);
      if (run.outputs['log-file']) cpSync(run.outputs['log-file'], join(stepDir, 'operations.jsonl'));
      process.stdout.write(
        `\n── step ${index + 1}: ${statusOf(run)}; outputs: ${Object.keys(run.outputs).join(', ')}\n`,
      );
      results.push({ title: step.title, code: run.code, errors: run.errors });
    }
    for (const artifact of sandbox.results.artifacts) {
      writeFileSync(join(OUT, `${artifact.name}.zip`), artifact.bytes);
    }
    const violations = sandbox.violations();
    process.stdout.write('\n════ demo summary\n');
    for (const r of results) {
      const status = statusOf(r);
      const why = status === 'ok' ? '' : ` — ${r.errors[0] ?? `exit ${r.code}`}`;
      process.stdout.write(`${status.padEnd(19)}  ${r.title}${why}\n`);
    }
    process.stdout.write(`contract violations seen by the sandbox: ${violations.length}\n`);
    for (const v of violations)
      process.stdout.write(`  ${v.fake} ${v.method} ${v.path}: ${v.problems.join('; ')}\n`);
    process.stdout.write(
      `\nEverything the run left (job summaries, servers file, JSONL logs, evidence file, artifacts):\n  ${OUT}\n`,
    );
    if (violations.length > 0 || results.some((r) => statusOf(r) === 'failed')) process.exitCode = 1;
  } finally {
    await sandbox.stop();
  }
}

await main();
