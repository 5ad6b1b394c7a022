import { describe, expect, it } from 'vitest';
import {
  appliesAt,
  parseChecksFile,
  previousMilestone,
  validateChecksFile,
} from '../../src/evidence/checks-file.ts';

const F = 'ops/evidence.yml';
const ok = { id: 'disk', run: 'df -h /' };

describe('checks file validation names the file, the check and the field', () => {
  const cases: [string, unknown, string][] = [
    ['not a mapping', ['x'], 'the file must be a mapping'],
    ['unknown top field', { checks: [ok], extra: 1 }, 'field `extra` is unknown'],
    ['no checks', { target: 't' }, 'field `checks` must be a non-empty list'],
    ['empty checks', { checks: [] }, 'field `checks` must be a non-empty list'],
    ['bad target', { target: 'a b', checks: [ok] }, 'field `target` must be a name'],
    ['milestones not a list', { milestones: 'a', checks: [ok] }, 'field `milestones` must be a list'],
    [
      'milestone twice',
      { milestones: ['a', 'a'], checks: [ok] },
      'field `milestones` lists a milestone twice',
    ],
    ['check not a mapping', { checks: ['df'] }, 'check #1 must be a mapping'],
    ['check without id', { checks: [{ run: 'x' }] }, 'check #1 field `id` must be a name'],
    ['duplicate id', { checks: [ok, ok] }, "check 'disk' is listed twice"],
    ['unknown check field', { checks: [{ ...ok, retries: 2 }] }, "check 'disk' field `retries` is unknown"],
    [
      'run and http',
      { checks: [{ ...ok, http: 'https://x' }] },
      "check 'disk' must have exactly one of `run` and `http`",
    ],
    [
      'neither run nor http',
      { checks: [{ id: 'x' }] },
      "check 'x' must have exactly one of `run` and `http`",
    ],
    ['empty run', { checks: [{ id: 'x', run: ' ' }] }, "check 'x' field `run` must be a shell command"],
    ['title not text', { checks: [{ ...ok, title: 3 }] }, "check 'disk' field `title` must be text"],
    [
      'timeout text',
      { checks: [{ ...ok, timeout: 'soon' }] },
      "check 'disk' field `timeout` must be a number of seconds",
    ],
    [
      'timeout zero',
      { checks: [{ ...ok, timeout: 0 }] },
      "check 'disk' field `timeout` must be a number of seconds",
    ],
    [
      'required text',
      { checks: [{ ...ok, required: 'yes' }] },
      "check 'disk' field `required` must be true or false",
    ],
    [
      'http not url',
      { checks: [{ id: 'h', http: 'not a url' }] },
      "check 'h' field `http` must be an http(s) URL",
    ],
    [
      'http ftp',
      { checks: [{ id: 'h', http: 'ftp://x/y' }] },
      "check 'h' field `http` must be an http(s) URL",
    ],
    [
      'expect text',
      { checks: [{ id: 'h', http: 'https://x', expect: 'ok' }] },
      "check 'h' field `expect` must be an HTTP status",
    ],
    [
      'expect 99',
      { checks: [{ id: 'h', http: 'https://x', expect: [200, 99] }] },
      "check 'h' field `expect` must be an HTTP status",
    ],
    [
      'expect on run',
      { checks: [{ ...ok, expect: 200 }] },
      "check 'disk' field `expect` applies to `http` checks only",
    ],
    [
      'unknown check milestone',
      { milestones: ['a', 'b'], checks: [{ ...ok, milestones: ['c'] }] },
      "check 'disk' field `milestones` names 'c', which is not in the file's milestones: a, b",
    ],
    [
      'empty check milestones',
      { checks: [{ ...ok, milestones: [] }] },
      "check 'disk' field `milestones` must list at least one",
    ],
    ['redact not a mapping', { checks: [ok], redact: ['x'] }, 'field `redact` must be a mapping'],
    ['redact unknown', { checks: [ok], redact: { values: [] } }, 'field `redact.values` is unknown'],
    [
      'redact env name',
      { checks: [ok], redact: { env: ['NOT-A-NAME'] } },
      'field `redact.env[0]` must be an environment variable name',
    ],
    [
      'bad pattern',
      { checks: [ok], redact: { patterns: ['('] } },
      'field `redact.patterns[0]` is not a valid regular expression',
    ],
    [
      'empty-matching pattern',
      { checks: [ok], redact: { patterns: ['a*'] } },
      'field `redact.patterns[0]` matches empty text',
    ],
  ];
  it.each(cases)('%s', (_name, doc, message) => {
    expect(() => validateChecksFile(doc, F)).toThrow(`Checks file ${F}: ${message}`);
  });

  it('reports YAML syntax errors with the file name', async () => {
    await expect(parseChecksFile('checks: [\n', F)).rejects.toThrow(
      `Checks file ${F}: the file is not valid YAML`,
    );
  });

  it('errors are input errors on `config`', () => {
    try {
      validateChecksFile({}, F);
    } catch (error) {
      expect((error as { input: string }).input).toBe('config');
    }
  });

  it('parses the spec example', async () => {
    const file = await parseChecksFile(
      `
target: hetzner-staging
milestones: [source-synced, env-created, gates-pass, images-built, stack-starts,
             health-passes, proxy-tls, backup-runs, restore-rehearsed]
checks:
  - id: docker
    title: Docker and Compose versions
    run: docker --version && docker compose version
  - id: disk
    run: df -h /
    required: true
  - id: health
    http: https://staging.example.com/up
    expect: 200
    timeout: 10
    milestones: [health-passes, proxy-tls]
redact:
  env: [DATABASE_URL, SECRET_KEY_BASE]
  patterns: ['password=\\S+']
`,
      F,
    );
    expect(file.target).toBe('hetzner-staging');
    expect(file.checks.map((c) => c.id)).toEqual(['docker', 'disk', 'health']);
    expect(file.checks[1]).toMatchObject({ kind: 'run', required: true, timeoutMs: undefined });
    expect(file.checks[2]).toMatchObject({ kind: 'http', expect: [200], timeoutMs: 10_000, title: 'health' });
    expect(file.redact.env).toEqual(['DATABASE_URL', 'SECRET_KEY_BASE']);
    expect(file.redact.patterns[0]!.source).toBe('password=\\S+');
  });
});

describe('which checks run at a milestone', () => {
  const order = ['a', 'b', 'c', 'd'];
  const check = (milestones?: string[]) => ({
    kind: 'run' as const,
    id: 'x',
    title: 'x',
    command: 'true',
    timeoutMs: undefined,
    required: false,
    milestones,
  });
  const cases: [string, string[] | undefined, string[] | undefined, string, boolean][] = [
    ['no list on the check: always', undefined, order, 'a', true],
    ['before the first listed', ['b', 'c'], order, 'a', false],
    ['at the first listed', ['b', 'c'], order, 'b', true],
    ['at the second listed', ['b', 'c'], order, 'c', true],
    ['after the listed ones: from these on', ['b', 'c'], order, 'd', true],
    ['order is the file order, not the check order', ['c', 'b'], order, 'b', true],
    ['no file order: exactly the listed', ['b'], undefined, 'b', true],
    ['no file order: others do not run', ['b'], undefined, 'c', false],
  ];
  it.each(cases)('%s', (_name, only, milestones, at, expected) => {
    expect(appliesAt(check(only), at, milestones)).toBe(expected);
  });

  it('knows the previous milestone', () => {
    expect(previousMilestone('c', order)).toBe('b');
    expect(previousMilestone('a', order)).toBeUndefined();
  });
});
