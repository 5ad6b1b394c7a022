import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { FakeServer, Fault } from '../../sandbox/fake-server.ts';
import { unzipEntries } from '../../sandbox/fakes/results.ts';
import { DEMO_SHA, seedDemoFleet } from '../../sandbox/fleet.ts';
import { type SANDBOX_TOKENS, type Sandbox, startSandbox } from '../../sandbox/index.ts';
import { mapConcurrent } from '../../src/core/fanout.ts';
import { type ActionName, runBundle } from '../helpers/run-bundle.ts';
import { evidenceWorkspace, validInputs } from './bad-input.ts';
import type { Cell, MatrixResult } from './matrix.ts';

/**
 * Secret leaks (issue 9): a fresh canary per cell, planted either in a secret
 * input (the value itself takes the cell's form, and the run must succeed) or
 * in what a provider sends back (an error body, build output, config values,
 * machine config, check output) in the cell's form. Every channel a user or a
 * later job can read is scanned for the canary and every encoding of the
 * planted value: stdout (without the `::add-mask::` lines the runner consumes),
 * stderr, GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV, the step summary, the JSONL
 * log, every file in the workspace and in RUNNER_TEMP, and the uploaded
 * artifacts (unzipped).
 */

export const FORMS = [
  'plain',
  'multi-line PEM',
  'base64',
  'URL-encoded',
  'JSON-escaped',
  'URL userinfo',
  'Authorization header',
  'HTML-escaped',
  'JSON \\u-escaped',
] as const;
export type Form = (typeof FORMS)[number];

/** A secret value of the given shape around the canary. */
export function shaped(form: Form, canary: string): string {
  switch (form) {
    case 'plain':
      return canary;
    case 'multi-line PEM':
      return [
        '-----BEGIN OPENSSH PRIVATE KEY-----',
        `b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE${canary}`,
        `${canary}QyNTUxOQAAACBvcHMtYWN0aW9ucy1jYW5hcnk`,
        '-----END OPENSSH PRIVATE KEY-----',
      ].join('\n');
    case 'base64':
      return Buffer.from(`deployer:${canary}`).toString('base64');
    case 'URL-encoded':
      return `${canary}/p+q=r&s`;
    case 'JSON-escaped':
      return `${canary}"q\\z`;
    case 'URL userinfo':
      return `https://ops:${canary}@vault.example.com/db`;
    case 'Authorization header':
      return `Bearer ${canary}`;
    case 'HTML-escaped':
      return `${canary}<&>"'x`;
    case 'JSON \\u-escaped':
      return `${canary}-pässwörd<&>`;
  }
}

/** As Go's html.EscapeString writes a value (an HTML error page echoing it). */
function htmlEscaped(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');
}

/**
 * A JSON string as Python's json.dumps writes it (every non-ASCII unit as `\u00e4`), or, for
 * an ASCII value, as Go's encoding/json does (`<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026`).
 */
function unicodeEscaped(value: string): string {
  const unicodeEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  const json = JSON.stringify(value);
  return /[\u0080-\uffff]/.test(value)
    ? json.replace(/[\u0080-\uffff]/g, unicodeEscape)
    : json.replace(/[<>&]/g, unicodeEscape);
}

/**
 * The Fly token inside a planted value: the Authorization-header form plants
 * `Bearer <canary>`, and Fly (fly-go tokens.go `StripAuthorizationScheme`) knows the
 * token without its scheme, so the fake must accept the bare canary.
 */
function flyTokenOf(planted: string): string {
  return planted.replace(/^(?:Bearer|FlyV1) /, '');
}

/** What a provider sends back when it echoes `value` in the given form. */
export function echoed(form: Form, value: string): string {
  switch (form) {
    case 'plain':
      return `invalid credentials: ${value}`;
    case 'multi-line PEM':
      return shaped('multi-line PEM', value);
    case 'base64':
      return `credentials were ${Buffer.from(value).toString('base64')}`;
    case 'URL-encoded':
      return `rejected token=${encodeURIComponent(value)}`;
    case 'JSON-escaped':
      return JSON.stringify({ token: value });
    case 'URL userinfo':
      return `cannot fetch https://x-access-token:${value}@git.example.com/app.git`;
    case 'Authorization header':
      return `request had Authorization: Bearer ${value}`;
    case 'HTML-escaped':
      return `<html><body><p>invalid token &#39;${htmlEscaped(value)}&#39;</p></body></html>`;
    case 'JSON \\u-escaped':
      return `{"token": ${unicodeEscaped(value)}}`;
  }
}

/** Every string whose presence in a channel is a leak. */
export function needles(canary: string, values: string[]): string[] {
  const out = new Set<string>([canary]);
  for (const v of values) {
    out.add(v);
    out.add(encodeURIComponent(v));
    out.add(JSON.stringify(v).slice(1, -1));
    out.add(Buffer.from(v).toString('base64').replace(/=+$/, ''));
    out.add(htmlEscaped(v));
    out.add(unicodeEscaped(v).slice(1, -1));
    for (const line of v.split('\n')) if (line.length >= 12 && !line.startsWith('-----')) out.add(line);
  }
  return [...out];
}

interface Plant {
  action: ActionName;
  inputs: Record<string, string>;
  env?: Record<string, string>;
  cwd?: string;
  /** The exit code a correct run has: 0 when the canary is an input, 1 when a fault ends the run. */
  code: 0 | 1;
  /** Planted values besides the canary itself (scanned with their encodings). */
  values: string[];
}

export interface Row {
  label: string;
  /** The provider echoes the token: it stays a single header-safe value (see echoToken). */
  echo?: true;
  forms: readonly Form[];
  /** Tokens the fakes accept, when the canary is one. */
  tokens?: (value: string) => Partial<Record<keyof typeof SANDBOX_TOKENS, string>>;
  plant(s: Sandbox, form: Form, canary: string): Plant | Promise<Plant>;
}

const TOKEN_FORMS: readonly Form[] = ['plain', 'base64', 'URL-encoded', 'JSON-escaped'];
const ECHO_FORMS: readonly Form[] = FORMS.filter((f) => f !== 'multi-line PEM');
/** A key refused at validation is never echoed by a provider: the forms of a value, not of an echo. */
const KEY_FORMS: readonly Form[] = FORMS.filter((f) => f !== 'HTML-escaped' && f !== 'JSON \\u-escaped');

/** The token a provider echoes: its characters make every encoding differ from the raw value. */
function echoToken(form: Form, canary: string): string {
  if (form === 'URL-encoded') return `${canary}/p+q=r&s`;
  if (form === 'JSON-escaped') return `${canary}"q\\z`;
  // Header-safe (ASCII): the escaped echo then differs from the raw value in every character class.
  if (form === 'HTML-escaped') return `${canary}<&>"'x`;
  if (form === 'JSON \\u-escaped') return `${canary}<&>`;
  return canary;
}

/** A non-retryable error whose body carries the echo in every field the providers use. */
function echoFault(text: string): Fault {
  return {
    status: 403,
    json: {
      id: 'forbidden',
      message: text,
      error: { code: 'forbidden', message: text },
      errors: [{ code: 10000, message: text }],
      success: false,
    },
  };
}

function inject(server: FakeServer, route: string, text: string): void {
  server.inject({ route, call: 1, times: Number.POSITIVE_INFINITY, fault: echoFault(text) });
}

function cloneInputs(s: Sandbox): Record<string, string> {
  return { ...validInputs('clone', s), 'wait-for-certificate': 'false', timeout: '120' };
}

function flyDeploy(s: Sandbox): Record<string, string> {
  // Two machines of their own app keep a full rolling deploy short.
  s.fly.addMachine({ id: 'm1', app: 'web', region: 'ams', image: 'registry.fly.io/web:deployment-01' });
  s.fly.addMachine({ id: 'm2', app: 'web', region: 'fra', image: 'registry.fly.io/web:deployment-01' });
  return {
    target: 'fly',
    image: `registry.fly.io/web@sha256:${'b'.repeat(64)}`,
    'tag-image': 'false',
    'fly-app': 'web',
    'fly-api-token': s.tokens.fly,
    'fly-api-url': s.urls.fly,
    'github-token': s.tokens.github,
    'github-api-url': s.urls.github,
    'health-timeout': '30',
  };
}

function herokuBuild(s: Sandbox): Record<string, string> {
  return {
    target: 'heroku',
    'heroku-app': 'fetlife-prod',
    'heroku-api-key': s.tokens.heroku,
    'heroku-api-url': s.urls.heroku,
    'source-url': 'https://example.test/app.tgz',
    'github-token': s.tokens.github,
    'github-api-url': s.urls.github,
    'health-timeout': '30',
  };
}

const PRINT_CHECK = `target: staging
milestones: [source-synced, gates-pass]
checks:
  - id: shown
    run: printf '%s\\n' "before" "$SHOWN" "after"
`;

function evidence(s: Sandbox, env: Record<string, string>, extra: Record<string, string> = {}) {
  return {
    action: 'evidence' as const,
    inputs: { ...validInputs('evidence', s), ...extra },
    env: { ...s.results.env(), ...env },
    cwd: evidenceWorkspace(s, PRINT_CHECK),
  };
}

const ROWS: Row[] = [
  {
    label: 'clone · config var values of the source app',
    forms: FORMS,
    plant: (s, form, canary) => {
      const value = shaped(form, canary);
      Object.assign(s.heroku.config('fetlife-prod'), { PARTNER_SECRET: value, PARTNER_SETTING: value });
      return { action: 'clone', inputs: cloneInputs(s), code: 0, values: [value] };
    },
  },
  {
    label: 'clone · heroku-api-key input',
    forms: TOKEN_FORMS,
    tokens: (v) => ({ heroku: v }),
    plant: (s, _f, _c) => ({ action: 'clone', inputs: cloneInputs(s), code: 0, values: [s.tokens.heroku] }),
  },
  {
    label: 'clone · dns-token input (Hetzner)',
    forms: TOKEN_FORMS,
    tokens: (v) => ({ hetzner: v }),
    plant: (s) => ({ action: 'clone', inputs: cloneInputs(s), code: 0, values: [s.tokens.hetzner] }),
  },
  {
    label: 'clone · Heroku error body echoes heroku-api-key',
    echo: true,
    forms: ECHO_FORMS,
    tokens: (v) => ({ heroku: v }),
    plant: (s, form) => {
      inject(s.heroku.server, 'GET /account', echoed(form, s.tokens.heroku));
      return { action: 'clone', inputs: cloneInputs(s), code: 1, values: [s.tokens.heroku] };
    },
  },
  {
    label: 'clone · Hetzner error body echoes dns-token',
    echo: true,
    forms: ECHO_FORMS,
    tokens: (v) => ({ hetzner: v }),
    plant: (s, form) => {
      inject(s.hetzner.server, 'GET /v1/zones/:zone', echoed(form, s.tokens.hetzner));
      return { action: 'clone', inputs: cloneInputs(s), code: 1, values: [s.tokens.hetzner] };
    },
  },
  {
    label: 'clone · Heroku error body echoes heroku-api-key past its 280th character',
    echo: true,
    forms: ['plain'],
    tokens: (v) => ({ heroku: v }),
    plant: (s) => {
      // The excerpt is cut at 300 characters: cut before redaction, part of the key would remain.
      inject(s.heroku.server, 'GET /account', `${'x'.repeat(285)} key=${s.tokens.heroku} refused`);
      return { action: 'clone', inputs: cloneInputs(s), code: 1, values: [s.tokens.heroku] };
    },
  },
  {
    label: 'config-update · fly-api-token input',
    forms: [...TOKEN_FORMS, 'Authorization header'],
    tokens: (v) => ({ fly: flyTokenOf(v) }),
    plant: (s, form) => ({
      action: 'config-update',
      inputs: {
        ...validInputs('config-update', s),
        'fly-api-token': form === 'Authorization header' ? `FlyV1 ${s.tokens.fly}` : s.tokens.fly,
      },
      code: 0,
      values: [s.tokens.fly],
    }),
  },
  {
    label: 'config-update · auth-token input (echoed by the app on success)',
    forms: TOKEN_FORMS,
    plant: (s, form, canary) => {
      const token = shaped(form, canary);
      return {
        action: 'config-update',
        inputs: { ...validInputs('config-update', s), 'auth-token': token },
        code: 0,
        values: [token],
      };
    },
  },
  {
    label: 'config-update · headers input with an Authorization line',
    forms: ['Authorization header'],
    plant: (s, _form, canary) => ({
      action: 'config-update',
      inputs: {
        ...validInputs('config-update', s),
        target: 'kamal',
        'auth-token': '',
        headers: `X-Trace: 1\nAuthorization: Bearer ${canary}`,
      },
      code: 0,
      values: [],
    }),
  },
  {
    label: 'config-update · Fly Machines error body echoes fly-api-token',
    echo: true,
    forms: ECHO_FORMS,
    tokens: (v) => ({ fly: v }),
    plant: (s, form) => {
      inject(s.fly.server, 'GET /v1/apps/:app/machines', echoed(form, s.tokens.fly));
      return {
        action: 'config-update',
        inputs: validInputs('config-update', s),
        code: 1,
        values: [s.tokens.fly],
      };
    },
  },
  {
    label: 'config-update · endpoint error body echoes auth-token',
    forms: ECHO_FORMS,
    plant: (s, form, canary) => {
      const token = echoToken(form, canary);
      for (const host of s.kamal.hosts) inject(host.server, 'update', echoed(form, token));
      return {
        action: 'config-update',
        inputs: { ...validInputs('config-update', s), target: 'kamal', 'auth-token': token, retries: '0' },
        code: 1,
        values: [token],
      };
    },
  },
  {
    label: 'deploy · fly-api-token input (Fly rolling deploy)',
    forms: [...TOKEN_FORMS, 'Authorization header'],
    tokens: (v) => ({ fly: flyTokenOf(v) }),
    plant: (s, form) => ({
      action: 'deploy',
      inputs: {
        ...flyDeploy(s),
        'fly-api-token': form === 'Authorization header' ? `FlyV1 ${s.tokens.fly}` : s.tokens.fly,
      },
      code: 0,
      values: [s.tokens.fly],
    }),
  },
  {
    label: 'deploy · github-token input (deployment recorded)',
    forms: TOKEN_FORMS,
    tokens: (v) => ({ github: v }),
    plant: (s) => ({ action: 'deploy', inputs: flyDeploy(s), code: 0, values: [s.tokens.github] }),
  },
  {
    label: 'deploy · Fly machine config (env and metadata)',
    forms: FORMS,
    plant: (s, form, canary) => {
      const value = shaped(form, canary);
      const inputs = flyDeploy(s);
      for (const m of s.fly.machines.filter((x) => x.app === 'web')) {
        m.config.env = { ...m.config.env, SECRET_KEY_BASE: value, PARTNER_SETTING: value };
        m.config.metadata = { ...m.config.metadata, partner: value };
      }
      return { action: 'deploy', inputs, code: 0, values: [value] };
    },
  },
  {
    label: 'deploy · heroku-api-key input (Heroku build)',
    forms: TOKEN_FORMS,
    tokens: (v) => ({ heroku: v }),
    plant: (s) => ({ action: 'deploy', inputs: herokuBuild(s), code: 0, values: [s.tokens.heroku] }),
  },
  {
    label: 'deploy · Heroku build output echoes heroku-api-key',
    echo: true,
    forms: FORMS,
    tokens: (v) => ({ heroku: v }),
    plant: (s, form) => {
      const echo = echoed(form, s.tokens.heroku);
      s.heroku.knobs.buildLines = ['-----> Building', ...echo.split('\n'), '-----> Build succeeded!'];
      return { action: 'deploy', inputs: herokuBuild(s), code: 0, values: [s.tokens.heroku] };
    },
  },
  {
    label: 'deploy · GitHub error body echoes github-token',
    echo: true,
    forms: ECHO_FORMS,
    tokens: (v) => ({ github: v }),
    plant: (s, form) => {
      inject(s.github.server, 'POST /repos/:owner/:repo/deployments', echoed(form, s.tokens.github));
      return { action: 'deploy', inputs: herokuBuild(s), code: 1, values: [s.tokens.github] };
    },
  },
  {
    label: 'deploy · DigitalOcean error body echoes digitalocean-token',
    forms: ECHO_FORMS,
    plant: (s, form, canary) => {
      const token = echoToken(form, canary);
      inject(s.digitalocean.server, 'GET /v2/droplets', echoed(form, token));
      return {
        action: 'deploy',
        inputs: {
          ...validInputs('deploy', s),
          target: 'ssh',
          image: `registry.fly.io/smooth@sha256:${'b'.repeat(64)}`,
          'tag-image': 'false',
          hosts: '',
          'digitalocean-token': token,
        },
        code: 1,
        values: [token],
      };
    },
  },
  {
    label: 'deploy · ssh-key input no ssh can load (refused at validation)',
    forms: KEY_FORMS,
    plant: (s, form, canary) => {
      const key = shaped(form, canary);
      return {
        action: 'deploy',
        inputs: { ...validInputs('deploy', s), target: 'ssh', 'ssh-key': key },
        code: 1,
        values: [key],
      };
    },
  },
  {
    label: 'evidence · ssh-key input no ssh can load (refused at validation)',
    forms: KEY_FORMS,
    plant: (s, form, canary) => {
      const key = shaped(form, canary);
      const ssh = {
        'ssh-host': 'ops@127.0.0.1:2222',
        'ssh-known-hosts':
          '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
      };
      return {
        ...evidence(s, { SHOWN: 'nothing secret' }, { ...ssh, 'ssh-key': key }),
        code: 1,
        values: [key],
      };
    },
  },
  {
    label: 'evidence · redact input, printed by a check',
    forms: FORMS,
    plant: (s, form, canary) => {
      const value = shaped(form, canary);
      return { ...evidence(s, { SHOWN: value }, { redact: value }), code: 0, values: [value] };
    },
  },
  {
    label: 'evidence · secret-named variable, printed by a check in the form',
    forms: FORMS,
    plant: (s, form, canary) => {
      const value =
        form === 'multi-line PEM' || form === 'URL userinfo' ? shaped(form, canary) : echoToken(form, canary);
      const shown = form === 'multi-line PEM' || form === 'URL userinfo' ? value : echoed(form, value);
      return { ...evidence(s, { DEPLOY_TOKEN: value, SHOWN: shown }), code: 0, values: [value] };
    },
  },
  {
    label:
      'evidence · short secrets the user named (3 and 2 characters: redact input, redact.env), printed by a check',
    forms: ['plain'],
    plant: (s) => {
      // Non-ASCII, so no text of our own holds them: each is redacted wherever it stands.
      const named = 'ßü€';
      const listed = 'Ωж';
      const checks = `${PRINT_CHECK.replace('checks:', 'redact:\n  env: [DB_PASSWORD]\nchecks:')}`;
      return {
        action: 'evidence',
        inputs: { ...validInputs('evidence', s), redact: named },
        env: { ...s.results.env(), DB_PASSWORD: listed, SHOWN: `pw=${named} db=${listed}` },
        cwd: evidenceWorkspace(s, checks),
        code: 0,
        values: [named, listed],
      };
    },
  },
  {
    label:
      'evidence · unnamed secrets in the shapes of issue 12 (Go and JSON Authorization, HTTP_AUTHORIZATION, URL password with @, presigned signatures, query tokens), printed by a check',
    forms: ['plain'],
    plant: (s, _form, canary) => {
      const shown = [
        `map[Authorization:[Bearer ${canary}] Accept:[*/*]]`,
        `{"authorization":["Bearer ${canary}"]}`,
        `HTTP_AUTHORIZATION: Bearer ${canary}`,
        `postgres://app:p@${canary}@db/app`,
        `https://b.s3.amazonaws.com/k?X-Amz-Date=1&X-Amz-Signature=${canary}&x=1`,
        `https://d.cloudfront.net/a?Expires=1&Signature=${canary}`,
        `https://a.blob.core.windows.net/c?sv=1&sig=${canary}`,
        `https://h.example/x?token=${canary}`,
        `https://h.example/x?a=1&access_token=${canary}#f`,
        `https://h.example/x?api_key=${canary}`,
      ].join('\n');
      return { ...evidence(s, { SHOWN: shown }), code: 0, values: [canary] };
    },
  },
  {
    label: 'evidence · a check splits a multi-byte character of a named secret across two writes',
    forms: ['plain'],
    plant: (s, _form, canary) => {
      const value = `pässwörd-${canary}`;
      // `ä` is 0xC3 0xA4: the first write ends inside it.
      const checks = `target: staging
milestones: [source-synced, gates-pass]
checks:
  - id: split
    run: printf 'p\\303'; sleep 0.3; printf '\\244sswörd-%s\\n' "$CANARY"
`;
      return {
        action: 'evidence',
        inputs: { ...validInputs('evidence', s), redact: value },
        env: { ...s.results.env(), CANARY: canary },
        cwd: evidenceWorkspace(s, checks),
        code: 0,
        values: [value],
      };
    },
  },
  {
    label: 'evidence · github-token input (require-previous)',
    forms: TOKEN_FORMS,
    tokens: (v) => ({ github: v }),
    plant: (s) => {
      s.github.addArtifact({ name: 'evidence-staging-source-synced' });
      return {
        ...evidence(s, { SHOWN: 'nothing secret' }, { 'require-previous': 'true' }),
        code: 0,
        values: [s.tokens.github],
      };
    },
  },
  {
    label: 'evidence · GitHub artifacts error body echoes github-token',
    echo: true,
    forms: ECHO_FORMS,
    tokens: (v) => ({ github: v }),
    plant: (s, form) => {
      inject(s.github.server, 'GET /repos/:owner/:repo/actions/artifacts', echoed(form, s.tokens.github));
      return {
        ...evidence(s, { SHOWN: 'nothing secret' }, { 'require-previous': 'true' }),
        code: 1,
        values: [s.tokens.github],
      };
    },
  },
];

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

export async function runCell(row: Row, form: Form, index: number): Promise<Cell> {
  const canary = `cnry${index.toString(36)}x${randomBytes(8).toString('hex')}`;
  // A token canary takes the cell's form; the echo rows keep their tokens free of spaces.
  const tokenValue = row.echo ? echoToken(form, canary) : shaped(form, canary);
  const s = await startSandbox({
    flyStartDelayMs: 60,
    ...(row.tokens ? { tokens: row.tokens(tokenValue) } : {}),
  });
  try {
    seedDemoFleet(s);
    const plant = await row.plant(s, form, canary);
    const cwd = plant.cwd ?? mkdtempSync(join(tmpdir(), 'reliability-secrets-ws-'));
    const run = await runBundle(plant.action, {
      inputs: plant.inputs,
      env: { GITHUB_SHA: DEMO_SHA, ...plant.env },
      cwd,
      timeoutMs: 90_000,
    });
    const channels: [string, string][] = [
      [
        'stdout',
        run.stdout
          .split('\n')
          .filter((l) => !l.startsWith('::add-mask::'))
          .join('\n'),
      ],
      ['stderr', run.stderr],
      ['GITHUB_OUTPUT', read(join(run.dir, 'output'))],
      ['GITHUB_STATE', read(join(run.dir, 'state'))],
      ['GITHUB_ENV', read(join(run.dir, 'env'))],
      ['step summary', run.summary],
      ['JSONL log', read(run.outputs['log-file'] ?? '')],
      ...filesUnder(cwd).map((f): [string, string] => [`file ${relative(cwd, f)}`, read(f)]),
      ...filesUnder(join(run.dir, 'runner-temp'))
        .filter((f) => f !== run.outputs['log-file'])
        .map((f): [string, string] => [`RUNNER_TEMP file ${relative(run.dir, f)}`, read(f)]),
      ...s.results.artifacts.flatMap((a) =>
        [...unzipEntries(a.bytes)].map(([name, bytes]): [string, string] => [
          `artifact ${a.name}/${name}`,
          bytes.toString('utf8'),
        ]),
      ),
    ];
    const search = needles(canary, plant.values);
    const leaked = channels.filter(([, text]) => search.some((n) => text.includes(n))).map(([name]) => name);
    const violations = s.violations();
    const codeOk = run.code === plant.code;
    const problems = [
      ...(codeOk
        ? []
        : [`exit ${run.code} (expected ${plant.code}): ${(run.errors[0] ?? '').slice(0, 120)}`]),
      ...(violations.length ? [`${violations.length} contract violations`] : []),
    ];
    const leaks = leaked.length === 0 ? '0 leaks' : `${leaked.length} leaks in ${leaked.join(', ')}`;
    return {
      row: row.label,
      column: form,
      result: problems.length ? `${leaks}; ${problems.join('; ')}` : leaks,
      ok: leaked.length === 0 && problems.length === 0,
    };
  } finally {
    await s.stop();
  }
}

export async function run(): Promise<MatrixResult> {
  const cells: { row: Row; form: Form }[] = ROWS.flatMap((row) => row.forms.map((form) => ({ row, form })));
  const results = await mapConcurrent(cells, ({ row, form }, i) => runCell(row, form, i), { concurrency: 4 });
  const leaks = results.reduce((n, c) => n + (Number.parseInt(c.result, 10) || 0), 0);
  return {
    name: 'secrets',
    title: 'Secret leaks: canaries in every input and every echo',
    description:
      "Each cell plants a fresh canary, either as the value of a secret input (shaped as the column says; the fakes accept it, so the run goes through its whole flow and must succeed) or in what a provider sends back (an error body echoing the token, Heroku config var values, build output, Fly machine config, check output) in the column's form, HTML-escaped as an error page writes it and JSON-escaped with `\\u` as Python's json.dumps or Go's encoding/json writes it included. Scanned for the canary and every encoding of the planted value: stdout without the `::add-mask::` lines the runner consumes, stderr, GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV, the step summary, the JSONL log, every file in the workspace (servers file, evidence file) and in RUNNER_TEMP, and the uploaded artifacts, unzipped. A dash marks a form the place cannot carry (a token header cannot hold a multi-line PEM). Goal: 0 leaks, the expected exit code and no contract violation in every cell.",
    cells: results,
    totals: { cells: results.length, leaks },
  };
}
