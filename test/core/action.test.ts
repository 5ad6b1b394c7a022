import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ActionDefinition, createContext, runAction } from '../../src/core/action.ts';
import { CancelledError } from '../../src/core/cancellation.ts';
import { ApiError, InputError } from '../../src/core/errors.ts';
import { summaryTable } from '../../src/core/summary.ts';
import { summaryTables } from '../helpers/summary-tables.ts';
import { recordingToolkit } from '../helpers/toolkit.ts';

/**
 * The runtime around every action, observed through a recorder in place of
 * @actions/core: what is masked, redacted, reported and in which order. The
 * last block runs the real @actions/core to check what reaches the runner's files.
 */

const SECRET = 'tok-5f2a9c1e77d04b';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'action-'));
}

function probe(
  overrides: Partial<ActionDefinition<{ target: string }>> = {},
): ActionDefinition<{ target: string }> {
  return {
    action: 'probe',
    secretInputs: ['api-token'],
    parseInputs: (inputs) => ({ target: inputs.required('target') }),
    run: async () => {},
    ...overrides,
  };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('createContext', () => {
  it('masks a secret once through setSecret (the runner derives its encodings itself)', () => {
    const toolkit = recordingToolkit();
    const ctx = createContext('probe', { RUNNER_TEMP: tempDir() }, toolkit);
    ctx.secrets.add(SECRET);
    ctx.secrets.add(SECRET);
    const masked = toolkit.said.filter((s) => s.kind === 'secret').map((s) => s.text);
    expect(masked).toEqual([SECRET]);
  });

  it.each([
    ['info', (ctx: ReturnType<typeof createContext>) => ctx.info(`sent ${SECRET}`)],
    ['warning', (ctx: ReturnType<typeof createContext>) => ctx.warning(`sent ${SECRET}`)],
    ['output', (ctx: ReturnType<typeof createContext>) => ctx.setOutput('result', { token: SECRET })],
  ] as const)('redacts known secrets from %s', (kind, say) => {
    const toolkit = recordingToolkit();
    const ctx = createContext('probe', { RUNNER_TEMP: tempDir() }, toolkit);
    ctx.secrets.add(SECRET);
    say(ctx);
    const said = toolkit.said.filter((s) => s.kind === kind);
    expect(said).toHaveLength(1);
    expect(said[0]?.text).not.toContain(SECRET);
    expect(said[0]?.text).toContain('[REDACTED:secret]');
  });

  it('writes the summary redacted, and none outside Actions (no GITHUB_STEP_SUMMARY)', async () => {
    const inActions = recordingToolkit();
    const ctx = createContext(
      'probe',
      { RUNNER_TEMP: tempDir(), GITHUB_STEP_SUMMARY: '/summary' },
      inActions,
    );
    ctx.secrets.add(SECRET);
    await ctx.writeSummary(`| token | ${SECRET} |`);
    expect(inActions.said.filter((s) => s.kind === 'summary').map((s) => s.text)).toEqual([
      '| token | [REDACTED:secret] |\n',
    ]);

    const outside = recordingToolkit();
    await createContext('probe', { RUNNER_TEMP: tempDir() }, outside).writeSummary('# plan');
    expect(outside.said.some((s) => s.kind === 'summary')).toBe(false);
  });

  it('redacts a secret with & and < from a summary table, where it travels HTML-escaped', async () => {
    const toolkit = recordingToolkit();
    const ctx = createContext('probe', { RUNNER_TEMP: tempDir(), GITHUB_STEP_SUMMARY: '/summary' }, toolkit);
    const secret = `${SECRET}/p+q=r&s<t`;
    ctx.secrets.add(secret);
    await ctx.writeSummary(summaryTable(['error'], [[`rejected ${secret}`]]));
    const [written] = toolkit.said.filter((s) => s.kind === 'summary').map((s) => s.text);
    expect(written).not.toContain(SECRET);
    expect(summaryTables(written ?? '')).toEqual([[['error'], ['rejected [REDACTED:secret]']]]);
  });

  it('saves state as given and reads what the runner hands a post step', () => {
    const toolkit = recordingToolkit({}, { locks: '["host-a"]' });
    const ctx = createContext('probe-post', { RUNNER_TEMP: tempDir() }, toolkit);
    expect(ctx.getState('locks')).toBe('["host-a"]');
    expect(ctx.getState('other')).toBe('');
    ctx.saveState('locks', '[]');
    expect(toolkit.last('state', 'locks')).toBe('[]');
  });
});

describe('runAction', () => {
  it('masks secret inputs before anything else is said, then announces log-file', async () => {
    const toolkit = recordingToolkit({ 'api-token': SECRET, target: 'web' });
    let seen: string | undefined;
    await runAction(
      probe({
        run: async (settings, ctx) => {
          seen = settings.target;
          ctx.info(`token ${SECRET}`);
        },
      }),
      { RUNNER_TEMP: tempDir() },
      toolkit,
    );
    expect(seen).toBe('web');
    expect(toolkit.said[0]).toEqual({ kind: 'secret', text: SECRET });
    const firstOther = toolkit.said.findIndex((s) => s.kind !== 'secret');
    expect(toolkit.said[firstOther]).toMatchObject({ kind: 'output', name: 'log-file' });
    expect(toolkit.printed()).toEqual(['token [REDACTED:secret]']);
    expect(toolkit.said.some((s) => s.kind === 'failed')).toBe(false);
  });

  it.each([
    ['a bad input', probe(), {}, "Input 'target' is required", false],
    [
      'a provider error',
      probe({
        run: async () => {
          throw new ApiError({
            provider: 'Fly',
            operation: 'machines.list',
            request: 'GET /v1/apps/a/machines',
            status: 500,
            retryable: true,
            attempts: 3,
          });
        },
      }),
      { target: 'web' },
      'Fly answered GET /v1/apps/a/machines with HTTP 500',
      false,
    ],
    [
      'an unexpected error carrying the secret',
      probe({
        run: async () => {
          throw new TypeError(`cannot read ${SECRET}`);
        },
      }),
      { target: 'web', 'api-token': SECRET },
      'cannot read [REDACTED:secret]',
      true,
    ],
  ] as const)('turns %s into one failure, redacted', async (_, definition, inputs, message, withStack) => {
    const toolkit = recordingToolkit(inputs);
    await runAction(definition, { RUNNER_TEMP: tempDir() }, toolkit);
    const failures = toolkit.said.filter((s) => s.kind === 'failed' || s.kind === 'error');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.kind).toBe('failed');
    expect(failures[0]?.text).toContain(message);
    const debug = toolkit.said.filter((s) => s.kind === 'debug');
    expect(debug.length).toBe(withStack ? 1 : 0);
    const everything = JSON.stringify(toolkit.said.filter((s) => s.kind !== 'secret'));
    expect(everything).not.toContain(SECRET);
  });

  it('names the input a bad value came from, and runs nothing', async () => {
    const toolkit = recordingToolkit({ target: 'web' });
    let ran = false;
    await runAction(
      probe({
        parseInputs: () => {
          throw new InputError('target', 'must be one of web, worker; got "db"');
        },
        run: async () => {
          ran = true;
        },
      }),
      { RUNNER_TEMP: tempDir() },
      toolkit,
    );
    expect(ran).toBe(false);
    expect(toolkit.printed()).toEqual([`::error::Input 'target' must be one of web, worker; got "db"`]);
  });
});

describe('runAction: the summary of a failure', () => {
  const summaries = (toolkit: ReturnType<typeof recordingToolkit>) =>
    toolkit.said.filter((s) => s.kind === 'summary').map((s) => s.text);

  it('writes one for a failure the action did not report, with its title, outputs and steps, redacted', async () => {
    const toolkit = recordingToolkit({ 'api-token': SECRET, target: `web-${SECRET}` });
    await runAction(
      probe({
        failureTitle: (s, redact) => `probe of ${redact(s.target)}`,
        failureOutputs: { status: 'failed' },
        run: async (_, ctx) => {
          await ctx.log.step('look', {}, async () => {});
          throw new Error(`refused ${SECRET}`);
        },
      }),
      { RUNNER_TEMP: tempDir(), GITHUB_STEP_SUMMARY: '/summary' },
      toolkit,
    );
    const [summary, ...more] = summaries(toolkit);
    expect(more).toEqual([]);
    expect(summary?.split('\n')[0]).toBe('## probe of web-[REDACTED:secret]: failed');
    expect(summaryTables(summary ?? '')).toEqual([
      [['error', 'refused [REDACTED:secret]']],
      [
        ['step', 'outcome'],
        ['look', 'ok'],
      ],
    ]);
    expect(toolkit.last('output', 'status')).toBe('failed');
  });

  it.each([
    ['set its status', 'rolled-back', 'rolled-back'],
    ['set no status (a cancel cut it short)', undefined, 'failed'],
  ])('writes none when the action wrote its own; one that %s gets %s', async (_, own, status) => {
    const toolkit = recordingToolkit({ target: 'web' });
    await runAction(
      probe({
        failureOutputs: { status: 'failed' },
        run: async (_, ctx) => {
          if (own) ctx.setOwnOutput('status', own);
          await ctx.writeSummary('## probe: 3 of 4 failed');
          throw new Error('3 of 4 failed');
        },
      }),
      { RUNNER_TEMP: tempDir(), GITHUB_STEP_SUMMARY: '/summary' },
      toolkit,
    );
    expect(summaries(toolkit)).toEqual(['## probe: 3 of 4 failed\n']);
    expect(toolkit.said.filter((s) => s.kind === 'output' && s.name === 'status').map((s) => s.text)).toEqual(
      [status],
    );
  });

  it('says a bad input changed nothing, under the action name (no settings to title it)', async () => {
    const toolkit = recordingToolkit({});
    await runAction(
      probe({ failureTitle: () => 'never' }),
      { RUNNER_TEMP: tempDir(), GITHUB_STEP_SUMMARY: '/summary' },
      toolkit,
    );
    const [summary] = summaries(toolkit);
    expect(summary?.split('\n')[0]).toBe('## probe: failed');
    expect(summary).toContain('Nothing was sent or changed');
  });

  it('says cancelled for a cancel', async () => {
    const toolkit = recordingToolkit({ target: 'web' });
    await runAction(
      probe({
        run: async () => {
          throw new Error('stopped', { cause: new CancelledError('SIGINT') });
        },
      }),
      { RUNNER_TEMP: tempDir(), GITHUB_STEP_SUMMARY: '/summary' },
      toolkit,
    );
    expect(summaries(toolkit)[0]?.split('\n')[0]).toBe('## probe: cancelled, failed');
  });
});

describe('runAction through @actions/core', () => {
  it('writes outputs and state to the runner files, masks and fails on stdout', async () => {
    const dir = tempDir();
    const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STATE: join(dir, 'state') };
    for (const file of Object.values(files)) writeFileSync(file, '');
    const saved = { ...process.env };
    Object.assign(process.env, files, { RUNNER_TEMP: dir, INPUT_TARGET: 'web', 'INPUT_API-TOKEN': SECRET });
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    try {
      await runAction(
        probe({
          run: async (settings, ctx) => {
            ctx.setOutput('target', settings.target);
            ctx.saveState('held', 'host-a\nhost-b');
            throw new Error('gave up');
          },
        }),
      );
    } finally {
      spy.mockRestore();
      process.env = saved;
    }
    expect(process.exitCode).toBe(1);
    const stdout = chunks.join('');
    expect(stdout).toContain(`::add-mask::${SECRET}`);
    expect(stdout.split('\n').filter((line) => line.startsWith('::error::'))).toEqual(['::error::gave up']);
    const output = readFileSync(files.GITHUB_OUTPUT, 'utf8');
    expect(output).toMatch(/^log-file<<ghadelimiter_[0-9a-f-]+\n/);
    expect(output).toMatch(/\ntarget<<(ghadelimiter_[0-9a-f-]+)\nweb\n\1\n$/);
    expect(readFileSync(files.GITHUB_STATE, 'utf8')).toMatch(
      /^held<<(ghadelimiter_[0-9a-f-]+)\nhost-a\nhost-b\n\1\n$/,
    );
  });
});
