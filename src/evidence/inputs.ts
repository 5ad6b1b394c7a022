import { InputError } from '../core/errors.ts';
import { type InputReader, parseSshHost, type SshHost } from '../core/inputs.ts';
import { msg } from '../core/message.ts';
import { knownHostsText } from '../providers/ssh/known-hosts.ts';
import { normalisePrivateKey } from '../providers/ssh/private-key.ts';

export const SECRET_INPUTS = ['ssh-key', 'redact', 'github-token'] as const;

export interface EvidenceSettings {
  milestone: string;
  configPath: string;
  target: string | undefined;
  ssh: { host: SshHost; key: string | undefined; knownHosts: string | undefined } | undefined;
  /** Extra literal secrets, one per line. */
  redact: string[];
  outputDir: string;
  upload: boolean;
  retentionDays: number | undefined;
  requirePrevious: boolean;
  /** The branch whose evidence counts for `require-previous`; undefined without it. */
  previousRef: string | undefined;
  github: {
    token: string | undefined;
    apiUrl: string;
    repository: string | undefined;
    /** GITHUB_REPOSITORY_ID, when the runner gives it. */
    repositoryId: number | undefined;
  };
  timeoutMs: number;
  maxLines: number;
  dryRun: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function parseInputs(inputs: InputReader, env: NodeJS.ProcessEnv = {}): EvidenceSettings {
  const milestone = inputs.required('milestone', 'is required: the milestone this evidence is for');
  if (!NAME.test(milestone)) {
    throw new InputError(
      'milestone',
      msg`must be a name of letters, digits, . _ -; got ${JSON.stringify(milestone)}`,
    );
  }
  const target = inputs.optional('target');
  if (target !== undefined && !NAME.test(target)) {
    throw new InputError(
      'target',
      msg`must be a name of letters, digits, . _ -; got ${JSON.stringify(target)}`,
    );
  }
  const sshHost = inputs.optional('ssh-host');
  const requirePrevious = inputs.boolean('require-previous', false);
  const token = inputs.optional('github-token');
  if (requirePrevious && token === undefined) {
    throw new InputError('github-token', msg`is required when require-previous is true`);
  }
  const refInput = inputs.optional('require-previous-ref');
  // Checked even when the gate is off: a bad value is bad input either way.
  const givenRef = refInput === undefined ? undefined : branchName(refInput);
  const previousRef = requirePrevious ? (givenRef ?? ownBranch(env)) : undefined;
  const retention = inputs.optional('retention-days');
  return {
    milestone,
    configPath: inputs.raw('config') || '.github/evidence.yml',
    target,
    ssh:
      sshHost === undefined
        ? undefined
        : {
            host: parseSshHost('ssh-host', sshHost),
            key: optionalKey(inputs.optional('ssh-key')),
            knownHosts: knownHostsText(
              inputs.required('ssh-known-hosts', 'is required with ssh-host: known_hosts lines for it'),
              'ssh-known-hosts',
            ),
          },
    redact: inputs
      .raw('redact')
      .split(/\r?\n/)
      .filter((line) => line.trim() !== ''),
    outputDir: inputs.raw('output-dir') || 'docs/evidence',
    upload: inputs.boolean('upload', true),
    retentionDays:
      retention === undefined ? undefined : inputs.integer('retention-days', 0, { min: 1, max: 90 }),
    requirePrevious,
    previousRef,
    github: {
      token,
      apiUrl: inputs.url('github-api-url', { fallback: env.GITHUB_API_URL || 'https://api.github.com' })!,
      repository: env.GITHUB_REPOSITORY,
      repositoryId: /^\d+$/.test(env.GITHUB_REPOSITORY_ID ?? '')
        ? Number(env.GITHUB_REPOSITORY_ID)
        : undefined,
    },
    timeoutMs: inputs.seconds('timeout', 60, { max: 6 * 3600 }),
    maxLines: inputs.integer('max-lines', 400, { min: 1, max: 100_000 }),
    dryRun: inputs.boolean('dry-run', false),
  };
}

/** `ssh-key` as `SshSession` writes it (see `normalisePrivateKey`); absent: the runner's own ssh setup. */
function optionalKey(value: string | undefined): string | undefined {
  return value === undefined ? undefined : normalisePrivateKey(value, 'ssh-key');
}

/**
 * A branch name as `git check-ref-format --branch` allows it: components
 * separated by single `/`, none starting with `.` or ending in `.lock`, no
 * `..`, `@{`, control characters, space or `~^:?*[\\`; not `@`, `HEAD`, or
 * starting with `-`. `refs/heads/x` is taken as `x`; any other `refs/…`
 * (a tag, a pull request) is refused, since the gate works on branches.
 */
const BRANCH_COMPONENT = /^(?!\.)(?!.*\.lock$)(?!.*\.\.)(?!.*@\{)[^\s\p{Cc}~^:?*[\\]+$/u;

function branchName(input: string): string {
  const branch = input.replace(/^refs\/heads\//, '');
  const problem =
    branch === '' || branch.length > 255
      ? 'it is empty or longer than 255 characters'
      : branch === 'HEAD' || branch === '@'
        ? `${JSON.stringify(branch)} is not a branch`
        : branch.startsWith('refs/')
          ? 'it names a ref that is not a branch (gates work on branches: give e.g. main, not refs/tags/…)'
          : branch.startsWith('-') ||
              branch.endsWith('.') ||
              !branch.split('/').every((c) => BRANCH_COMPONENT.test(c))
            ? 'git does not allow it as a branch name (no leading or trailing /, no //, .., @{, space, ~^:?*[\\, no part starting with . or ending in .lock)'
            : undefined;
  if (problem)
    throw new InputError(
      'require-previous-ref',
      msg`must be a branch name (e.g. main or release/2.x): ${problem}; got ${JSON.stringify(input)}`,
    );
  return branch;
}

/**
 * The run's own branch as the runner names it (GITHUB_HEAD_REF for a pull
 * request, else GITHUB_REF_NAME). A tag run has no branch: gates work on
 * branches, so it must name one with `require-previous-ref`.
 */
function ownBranch(env: NodeJS.ProcessEnv): string {
  const head = env.GITHUB_HEAD_REF?.trim();
  if (head) return head;
  if (env.GITHUB_REF_TYPE === 'tag' || env.GITHUB_REF?.startsWith('refs/tags/'))
    throw new InputError(
      'require-previous-ref',
      msg`is required on a tag (${env.GITHUB_REF_NAME ?? env.GITHUB_REF}): require-previous works on branches; name the branch whose evidence counts`,
    );
  const own = env.GITHUB_REF_NAME?.trim();
  if (!own)
    throw new InputError(
      'require-previous-ref',
      "is required here: neither GITHUB_HEAD_REF nor GITHUB_REF_NAME names this run's branch",
    );
  return own;
}
