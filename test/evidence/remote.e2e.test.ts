import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { createResultsFake, type ResultsFake, unzipEntries } from '../../sandbox/fakes/results.ts';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { evidenceFiles, MILESTONES, sshInputs, workspaceWith } from './helpers.ts';

let http: Server;
let httpUrl: string;
const ECHO_SECRET = 'http-echo-canary-Zq81xW';

beforeAll(async () => {
  http = createServer((req, res) => {
    if (req.url === '/up') return res.writeHead(200, { 'content-type': 'text/plain' }).end('up\n');
    if (req.url === '/down') return res.writeHead(503).end('maintenance\n');
    if (req.url === '/echo') return res.writeHead(200).end(`{"token":"${ECHO_SECRET}"}\n`);
    if (req.url === '/hang') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  httpUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

describe('http checks against a loopback server', () => {
  it('records status, passes on expect and fails otherwise, no retries, cut at the timeout', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: up
    http: ${httpUrl}/up
    expect: 200
  - id: down
    http: ${httpUrl}/down
    required: true
  - id: maintenance-ok
    http: ${httpUrl}/down
    expect: [200, 503]
  - id: hang
    http: ${httpUrl}/hang
    timeout: 1
  - id: refused
    http: http://127.0.0.1:9/nothing
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { milestone: 'm', upload: 'false', redact: ECHO_SECRET },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining('required check down did not pass')]);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toMatch(/\| up \| up \| ✅ passed \| HTTP 200 \|/);
    expect(text).toMatch(/\| down \| down \| ❌ failed \| HTTP 503 \|/);
    expect(text).toMatch(/\| maintenance-ok \| maintenance-ok \| ✅ passed \| HTTP 503 \|/);
    expect(text).toMatch(/\| hang \| hang \| ⚠️ timed out \| — \|/);
    expect(text).toMatch(
      /\| refused \| refused \| ⚠️ error \| could not connect to 127\.0\.0\.1 port 9 [^|]+ \|/,
    );
    expect(text).toContain(
      "could not connect to 127.0.0.1 port 9 (ECONNREFUSED, connection refused: nothing listens there): check the host and port in the check's URL and that the service runs and the runner can reach it",
    );
    expect(text).toContain('HTTP 503');
    expect(text).toContain('maintenance');
  });
});

describe('run checks over ssh (real sshd on loopback)', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(() => sshd?.stop());

  it('runs each command on the host with output interleaved, and http checks still from the runner', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: whoami
    run: echo "remote user $(id -un)"; echo "err line" >&2; echo "last"
    required: true
  - id: exit-code
    run: exit 4
  - id: colours
    run: printf '\\033[1;32mgreen\\033[0m \\033]8;;https://ex.example/st\\033\\\\st-link\\033]8;;\\033\\\\ \\033]8;;https://ex.example/bel\\007bel-link\\033]8;;\\007\\033]0;title\\007\\n'
  - id: up
    http: ${httpUrl}/up
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: sshInputs(sshd),
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toContain(`| run checks on | ${sshd.target} |`);
    expect(text).toContain(`remote user ${sshd.user}\nerr line\nlast`);
    expect(text).toMatch(/\| exit-code \| exit-code \| ⚠️ failed \| exit 4 \|/);
    // Colours, OSC 8 links (ended by ST and by BEL) and a title: the text stays, no escape reaches the file.
    expect(text).toContain('\ngreen st-link bel-link\n');
    expect([...text].filter((c) => c === '\x07' || c === '\x1b')).toEqual([]);
    // The links' targets appear only in the command as written, not in its output.
    for (const line of text.split('\n').filter((l) => l.includes('ex.example')))
      expect(line).toMatch(/^printf '/);
    expect(text).toMatch(/\| up \| up \| ✅ passed \| HTTP 200 \|/);
    const keyLine = sshd.privateKey.split('\n')[1]!;
    expect(run.everything).not.toContain(keyLine);
  });

  it('a timed-out check leaves nothing running on the host; a daemon does not hold the check or lose its exit code', async () => {
    // Unique durations find this test's processes in ps on the loopback host.
    const ws = workspaceWith(`
target: t1
checks:
  - id: hang
    run: sleep 97.4141; echo done
    timeout: 2
  - id: daemon
    run: setsid sleep 25.4141 & echo "started $!"
    timeout: 20
  - id: left-behind
    run: (sleep 25.4242 &); echo started; exit 4
    timeout: 20
  - id: spoof
    run: echo "OPS-EVIDENCE-EXIT-0123 0"; exit 3
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: sshInputs(sshd),
    });
    expect(run.errors).toEqual([]);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toMatch(/\| hang \| hang \| [^|]*timed out \|/);
    expect(text).toMatch(/\| daemon \| daemon \| ✅ passed \| exit 0 \|/);
    expect(text).toMatch(/\| left-behind \| left-behind \| ⚠️ failed \| exit 4 \|/);
    expect(text).toMatch(/\| spoof \| spoof \| ⚠️ failed \| exit 3 \|/);
    expect(text).toContain('OPS-EVIDENCE-EXIT-0123 0');
    expect(text).not.toMatch(/OPS-EVIDENCE-EXIT-[0-9a-f]{32}/);
    const daemonPid = Number(/started (\d+)/.exec(text)?.[1]);
    try {
      // The host's watchdog sends TERM at the timeout and KILL 2 s later: poll ps until then.
      const remaining = () =>
        execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
          .split('\n')
          .filter((line) => /sleep (97\.4141|25\.4242)/.test(line));
      for (let i = 0; i < 50 && remaining().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(remaining()).toEqual([]);
    } finally {
      // The daemon escaped on purpose (setsid); end it by its pid if it still runs.
      try {
        if (daemonPid > 0) process.kill(daemonPid, 'SIGKILL');
      } catch {}
    }
  });

  it('a cancelled step stops its checks on the host and says so in one wording for ssh and http checks', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: hang
    run: echo waiting; sleep 61.5151
  - id: web
    http: ${httpUrl}/hang
`);
    // Every process of the check (wrapper, shell, sleep; and the runner's ssh client, whose argv holds it).
    const left = () =>
      execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => /sleep 61\.5151/.test(line));
    const sleeping = () => left().some((line) => /^\s*\d+ sleep 61\.5151$/.test(line));
    let cancelledWhileRunning = false;
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: sshInputs(sshd),
      // The runner's cancel: SIGINT to node once the check runs on the host.
      onSpawn: async (child) => {
        for (let i = 0; i < 100 && !sleeping(); i++) await new Promise((r) => setTimeout(r, 100));
        cancelledWhileRunning = sleeping();
        child.kill('SIGINT');
      },
    });
    expect(cancelledWhileRunning).toBe(true);
    expect(run.errors).toEqual([
      'cancelled (SIGINT): 0 of 2 check(s) finished; no evidence file was written and nothing was uploaded',
    ]);
    const progress = run.stdout.split('\n').filter((line) => /^\[\d\/2/.test(line));
    expect(progress).toHaveLength(2);
    for (const id of ['hang', 'web'])
      expect(progress).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^\\[\\d/2 +\\d+%\\] ${id} error \\d+ms - cancelled \\(SIGINT\\): the check was stopped$`,
          ),
        ),
      );
    expect(evidenceFiles(ws)).toEqual([]);
    // The watcher on the host sends TERM as soon as ssh's stdin closes (KILL 2 s later).
    for (let i = 0; i < 50 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(left()).toEqual([]);
  });
});

describe('require-previous through the GitHub artifacts API', () => {
  let github: GitHubFake;
  beforeAll(async () => {
    github = createGitHubFake({
      token: 'ghs_requirePreviousToken0123456789abcdef',
      repositories: ['acme/fleet'],
    });
    await github.start();
  });
  afterAll(() => github.stop());

  const yaml = `
target: t1
milestones: ${MILESTONES}
checks:
  - id: marker
    run: touch ran-marker
`;
  const inputs = () => ({
    milestone: 'gates-pass',
    upload: 'false',
    'require-previous': 'true',
    'github-token': github.token,
    'github-api-url': github.server.url,
  });

  it('refuses to run any check without a passing artifact of the previous milestone', async () => {
    github.state.artifacts.length = 0;
    github.addArtifact({ name: 'evidence-t1-env-created-failed' }, 'acme/fleet');
    github.addArtifact({ name: 'evidence-t1-env-created', expired: true }, 'acme/fleet');
    github.addArtifact({ name: 'evidence-other-env-created' }, 'acme/fleet');
    const ws = workspaceWith(yaml);
    const run = await runBundle('evidence', { cwd: ws, inputs: inputs() });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining("no passing evidence of milestone 'env-created'")]);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(ws, 'ran-marker'))).toBe(false);
    expect(evidenceFiles(ws)).toEqual([]);
    const lists = github.server.requests.filter((r) => r.path === '/repos/acme/fleet/actions/artifacts');
    expect(lists).toHaveLength(1);
    expect(new URLSearchParams(lists[0]!.query).get('name')).toBe('evidence-t1-env-created');
    expect(github.server.violations).toEqual([]);
    expect(run.everything).not.toContain(github.token);
  });

  it('runs when a passing, unexpired artifact of the previous milestone exists', async () => {
    github.state.artifacts.length = 0;
    github.addArtifact({ name: 'evidence-t1-env-created' }, 'acme/fleet');
    const ws = workspaceWith(yaml);
    const run = await runBundle('evidence', { cwd: ws, inputs: inputs() });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(ws, 'ran-marker'))).toBe(true);
    expect(github.server.violations).toEqual([]);
  });

  it('the first milestone has nothing before it to require', async () => {
    github.state.artifacts.length = 0;
    const ws = workspaceWith(yaml);
    const run = await runBundle('evidence', { cwd: ws, inputs: { ...inputs(), milestone: 'source-synced' } });
    expect(run.code).toBe(0);
  });
});

describe('upload to the results service', () => {
  let results: ResultsFake;
  beforeAll(async () => {
    results = createResultsFake();
    await results.start();
  });
  afterAll(() => results.stop());

  it('uploads a passing gate as evidence-<target>-<milestone> with retention, and the zip holds the file', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: ok
    run: echo fine
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      env: results.env(),
      inputs: { milestone: 'gates-pass', 'retention-days': '7' },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const artifact = results.artifact('evidence-t1-gates-pass');
    expect(artifact?.finalized).toBe(true);
    expect(artifact?.retentionDays).toBe(7);
    expect(run.outputs['artifact-name']).toBe('evidence-t1-gates-pass');
    expect(run.outputs['artifact-id']).toBe(String(artifact!.id));
    const file = evidenceFiles(ws)[0]!;
    const entries = unzipEntries(artifact!.bytes);
    expect([...entries.keys()]).toEqual([file.name]);
    expect(entries.get(file.name)!.toString('utf8')).toBe(file.text);
    expect(run.summary).toContain(
      `[evidence-t1-gates-pass](https://github.com/acme/fleet/actions/runs/4242/artifacts/${artifact!.id})`,
    );
    expect(results.server.violations).toEqual([]);
  });

  it('uploads a failed gate as evidence-<target>-<milestone>-failed, then fails the step', async () => {
    const ws = workspaceWith(`
target: t2
checks:
  - id: disk
    run: exit 1
    required: true
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      env: results.env(),
      inputs: { milestone: 'gates-pass' },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining('and artifact evidence-t2-gates-pass-failed')]);
    expect(results.artifact('evidence-t2-gates-pass')).toBeUndefined();
    expect(results.artifact('evidence-t2-gates-pass-failed')?.finalized).toBe(true);
    expect(run.outputs['artifact-name']).toBe('evidence-t2-gates-pass-failed');
    expect(results.server.violations).toEqual([]);
  });
});

describe('canary: no secret in any form reaches the file, the artifact, the log, the summary or the outputs', () => {
  let results: ResultsFake;
  beforeAll(async () => {
    results = createResultsFake();
    await results.start();
  });
  afterAll(() => results.stop());

  const REDACT = 'cAnArY-redact-V4lue/+x=y';
  const ENV_TOKEN = 'env-token-canary-9b1f27';
  const DB_URL_SECRET = 'db-url-canary-pw77';
  const DATABASE_URL = `postgres://app:${DB_URL_SECRET}@db.internal:5432/app`;
  const PEM_BODY = 'b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBcanary';
  const PEM = `-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY}\nAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIcanaryLine2\n-----END OPENSSH PRIVATE KEY-----`;
  const URL_PASS = 'userinfo-canary-Pw';
  const AUTH = 'authheader-canary-abc123';
  const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnktdXNlciJ9.c2lnbmF0dXJlLWNhbmFyeS12YWx1ZQ';
  const PATTERN_SECRET = 'pattern-canary-hunter2';
  const SHAPES = [
    `ghp_${'C4n4ryGithubT0ken'.repeat(2)}xy`,
    `github_pat_11ABCDEFG0${'canaryPAT'.repeat(6)}`,
    'AKIACANARYEXAMPLE7Q2',
    'xoxb-123456789012-canarySlackTok',
    `FlyV1 fm2_${'lJPECAAAAAAAAcanary'.repeat(3)}`,
    `HRKU-AA${'canaryHeroku'.repeat(3)}`,
    `dop_v1_${'0123456789abcdef'.repeat(4)}`,
    `cfut_${'Canary9Cloudflare'.repeat(3)}`,
    'https://hooks.slack.com/services/T00000000/B00000000/canarywebhookXXXXXXXX',
  ];
  const SECRETS = [
    REDACT,
    ENV_TOKEN,
    DB_URL_SECRET,
    PEM_BODY,
    URL_PASS,
    AUTH,
    JWT,
    PATTERN_SECRET,
    ECHO_SECRET,
    ...SHAPES,
  ];

  it('redacts every form and reports only counts', async () => {
    const data = mkdtempSync(join(tmpdir(), 'canary-'));
    const lines = [
      `plain ${REDACT} and env ${ENV_TOKEN}`,
      `base64 ${Buffer.from(`user:${REDACT}`).toString('base64')}`,
      `base64 of env ${Buffer.from(ENV_TOKEN).toString('base64')}`,
      `url-encoded ?v=${encodeURIComponent(REDACT)}&w=1`,
      `json ${JSON.stringify({ v: REDACT, d: DATABASE_URL })}`,
      PEM,
      `dsn postgres://admin:${URL_PASS}@db.internal/app`,
      `Authorization: Bearer ${AUTH}`,
      `jwt ${JWT}`,
      `password=${PATTERN_SECRET}`,
      ...SHAPES.map((s) => `shape ${s}`),
    ];
    const file = join(data, 'output.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const ws = workspaceWith(`
target: t1
checks:
  - id: leak
    run: cat ${file}; cat ${file} >&2
  - id: echo
    http: ${httpUrl}/echo
redact:
  env: [DATABASE_URL]
  patterns: ['password=\\S+']
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      env: { ...results.env(), MY_API_TOKEN: ENV_TOKEN, DATABASE_URL },
      inputs: { milestone: 'gates-pass', redact: `${REDACT}\n${ECHO_SECRET}` },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const text = evidenceFiles(ws)[0]!.text;
    const zip = unzipEntries(results.artifact('evidence-t1-gates-pass')!.bytes);
    const zipped = [...zip.values()].map((b) => b.toString('utf8')).join('\n');
    const places = { file: text, artifact: zipped, everything: run.everything };
    for (const [where, content] of Object.entries(places)) {
      for (const secret of SECRETS) {
        expect(content.includes(secret), `${secret} found in ${where}`).toBe(false);
        expect(
          content.includes(Buffer.from(secret).toString('base64')),
          `base64 of ${secret} in ${where}`,
        ).toBe(false);
      }
      expect(content).not.toContain(Buffer.from(`user:${REDACT}`).toString('base64'));
      expect(content).not.toContain(encodeURIComponent(REDACT));
      expect(content).not.toContain('canaryLine2');
    }
    for (const kind of [
      'secret',
      'env',
      'private-key',
      'url-credentials',
      'authorization',
      'jwt',
      'pattern',
      'github-token',
      'aws-access-key',
      'slack-token',
      'slack-webhook',
      'fly-token',
      'heroku-token',
      'digitalocean-token',
      'cloudflare-token',
    ]) {
      expect(text, kind).toContain(`[REDACTED:${kind}]`);
      expect(text, kind).toMatch(new RegExp(`\\| ${kind} \\| \\d+ \\|`));
    }
    expect(Number(run.outputs.redactions)).toBeGreaterThan(30);
    expect(results.server.violations).toEqual([]);
  });
});
