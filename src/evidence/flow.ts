import { linkSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import type { ActionContext } from '../core/action.ts';
import { CancelledError, cancelSignalName, isCancelled } from '../core/cancellation.ts';
import { InputError, StepError } from '../core/errors.ts';
import { requestTimeoutFromEnv } from '../core/http.ts';
import { ComposedError, joinMessages, lineText, msg, own } from '../core/message.ts';
import { Progress } from '../core/progress.ts';
import { redactedData } from '../core/redacted-data.ts';
import { formatMs } from '../core/summary.ts';
import { createArtifactsApi } from '../providers/github/artifacts.ts';
import { createGitHubClient } from '../providers/github/client.ts';
import { SshSession } from '../providers/ssh/session.ts';
import { appliesAt, type Check, type ChecksFile, parseChecksFile, previousMilestone } from './checks-file.ts';
import { collect } from './collect.ts';
import { type EvidenceMeta, evidenceFileName, renderEvidence } from './evidence-file.ts';
import {
  artifactName,
  describeRefusals,
  type EvidenceScope,
  findPassingEvidence,
  gateOf,
  toleratedChecks,
} from './gate.ts';
import { type EvidenceSettings, SECRET_INPUTS } from './inputs.ts';
import { buildRedactor, secretValues } from './redaction.ts';
import { type ArtifactRef, artifactUrl, describeCheck, renderPlan, renderSummary } from './report.ts';
import { runHttp } from './run-http.ts';
import { runLocal } from './run-local.ts';
import { runSsh } from './run-ssh.ts';
import { blobTimeoutMs, expiryOf, type Uploaded, uploadBoundMs } from './upload.ts';
import { UploadFailed, uploadInProcess } from './upload-process.ts';
import { checkOutputDir, fsProblem, makeOutputDir, readChecksText } from './workspace-paths.ts';

/** observe (checks file, previous evidence) → plan (checks for this milestone) → execute → report. */
export async function runEvidence(settings: EvidenceSettings, ctx: ActionContext): Promise<void> {
  const env = ctx.env;
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const file = await ctx.log.step('checks-file', { file: settings.configPath }, () =>
    readChecksFile(workspace, settings.configPath),
  );

  if (file.milestones && !file.milestones.includes(settings.milestone)) {
    throw new InputError(
      'milestone',
      msg`must be one of the milestones of ${settings.configPath}: ${file.milestones.join(', ')}; got ${JSON.stringify(settings.milestone)}`,
    );
  }
  // Our wording is written as is; what came from outside is redacted field by field (redacted-data.ts).
  // A check's status and kind are our words, compared and counted by the rendering.
  const outside = <T>(data: T) => redactedData(data, ctx.secrets.redactor, ['status', 'kind']);
  const target = settings.target ?? file.target;
  if (!target) throw new InputError('target', msg`is required: ${settings.configPath} has no \`target\``);
  const dir = checkOutputDir(workspace, settings.outputDir);

  // Everything the redactor knows is also masked by the runner, before any line is printed.
  const sources = {
    secretInputs: SECRET_INPUTS.filter((name) => name !== 'redact').map((name) => ctx.inputs.raw(name)),
    redactLines: settings.redact,
    env,
    redactEnv: file.redact.env,
    patterns: file.redact.patterns,
    urls: file.checks.flatMap((c) => (c.kind === 'http' ? [c.url] : [])),
  };
  for (const { value, kind, spellings } of secretValues(sources)) ctx.secrets.add(value, kind, spellings);
  for (const pattern of file.redact.patterns)
    ctx.secrets.redactor.addShape({ kind: 'pattern', pattern: new RegExp(pattern.source, 'g') });
  const redactor = buildRedactor(sources);

  const selected = file.checks.filter((c) => appliesAt(c, settings.milestone, file.milestones));
  const skipped = file.checks.filter((c) => !selected.includes(c));
  const sshLabel = settings.ssh
    ? `${settings.ssh.host.user ? `${settings.ssh.host.user}@` : ''}${settings.ssh.host.host}:${settings.ssh.host.port}`
    : undefined;

  let previous: string | undefined;
  if (settings.requirePrevious) {
    if (!file.milestones)
      throw new InputError(
        'require-previous',
        msg`needs a \`milestones\` list in ${settings.configPath} to know the previous milestone`,
      );
    previous = previousMilestone(settings.milestone, file.milestones);
  }

  if (settings.dryRun) {
    for (const check of selected)
      ctx.info(msg`would run ${describeCheck(check, settings.timeoutMs, sshLabel)}`);
    for (const check of skipped) ctx.info(msg`not for ${settings.milestone}: ${check.id}`);
    const gateNote = settings.requirePrevious
      ? previous
        ? `would require a passing artifact ${artifactName(target, previous, true)} of branch ${settings.previousRef}`
        : `${settings.milestone} is the first milestone: nothing before it to require`
      : undefined;
    if (gateNote) ctx.info(gateNote);
    ctx.log.write({
      step: 'plan',
      outcome: 'planned',
      ids: { target, milestone: settings.milestone, checks: selected.length },
    });
    await ctx.writeSummary(
      renderPlan(target, settings.milestone, selected, skipped, settings.timeoutMs, sshLabel, gateNote),
    );
    return;
  }

  if (settings.requirePrevious && previous) await requirePassingEvidence(settings, ctx, target, previous);

  const started = new Date();
  const progress = new Progress(selected.length, (line) => ctx.info(line));
  const session =
    settings.ssh && selected.some((c) => c.kind === 'run')
      ? await SshSession.open(
          { key: settings.ssh.key, knownHosts: settings.ssh.knownHosts ?? '' },
          env.RUNNER_TEMP || '/tmp',
        )
      : undefined;
  const checkEnv = childEnv(env);
  const cancel = ctx.cancellation.signal;
  let finishedBeforeCancel = 0;
  let results: Awaited<ReturnType<typeof collect>>;
  try {
    cancel.throwIfAborted();
    results = await collect(selected, {
      redactor,
      defaultTimeoutMs: settings.timeoutMs,
      maxLines: settings.maxLines,
      run: async (check: Check, timeoutMs: number) => {
        const signal = cancel;
        const raw =
          check.kind === 'http'
            ? await runHttp(check.url, { timeoutMs, signal })
            : session && settings.ssh
              ? await runSsh(session, settings.ssh.host, check.command, { timeoutMs, signal })
              : await runLocal(check.command, { timeoutMs, cwd: workspace, env: checkEnv, signal });
        // One wording for every kind of check the cancel cut, as the step's own `cancelled (SIGINT): …`.
        if (!cancel.aborted) return raw;
        return {
          output: raw.output,
          timedOut: false,
          error: `cancelled (${cancelSignalName(cancel)}): the check was stopped`,
        };
      },
      onDone: (r) => {
        if (!cancel.aborted) finishedBeforeCancel++;
        ctx.log.write({
          step: 'check',
          outcome: r.status === 'passed' ? 'ok' : 'failed',
          durationMs: Math.round(r.durationMs),
          ids: { check: r.id, status: r.status, exit: r.exitCode, http: r.httpStatus },
        });
        progress.done({
          id: r.id,
          outcome: r.status,
          status: r.kind === 'http' ? r.httpStatus : r.exitCode,
          ms: r.durationMs,
          note: lineText(r.note),
        });
      },
    });
  } finally {
    await session?.close();
  }
  if (cancel.aborted) {
    // Checks cut by the signal say nothing about the target: no evidence file, nothing uploaded.
    const detail = `${finishedBeforeCancel} of ${selected.length} check(s) finished; no evidence file was written and nothing was uploaded`;
    await ctx.writeSummary(
      `### Evidence ${outside(target)} / ${outside(settings.milestone)}: cancelled\n\n**Cancelled:** ${detail}.\n`,
      { fromRedactedData: true },
    );
    throw new CancelledError(cancelSignalName(cancel), detail);
  }

  const gate = gateOf(results);
  const meta: EvidenceMeta = {
    target,
    milestone: settings.milestone,
    time: started,
    repository: env.GITHUB_REPOSITORY,
    commit: env.GITHUB_SHA,
    ref: env.GITHUB_REF,
    runUrl:
      env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${(env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined,
    checksFile: settings.configPath,
    ranOn: sshLabel ?? 'the runner',
    gate,
  };

  let path = join(dir, evidenceFileName(meta));
  await ctx.log.step('evidence.write', { file: shownPath(workspace, path) }, async () => {
    // The counts are final once every output and command went through the redactor.
    const markdown = renderEvidence(outside(meta), outside(results), { ...redactor.counts });
    makeOutputDir(dir, settings.outputDir);
    // Written beside and linked into place: a step stopped mid-write leaves no half file,
    // and link never replaces a file, so two runs in the same second keep both (-2, -3 …).
    const partial = `${path}.${process.pid}.partial`;
    try {
      writeFileSync(partial, markdown, 'utf8');
      path = linkUnique(partial, path);
    } catch (error) {
      throw new InputError(
        'output-dir',
        msg`names ${JSON.stringify(settings.outputDir)}, where the evidence file cannot be written (${fsProblem(error)})`,
      );
    } finally {
      rmSync(partial, { force: true });
    }
  });
  const shown = shownPath(workspace, path);
  const redactions = redactor.total;
  ctx.info(msg`evidence written to ${shown} (${redactions} redactions)`);

  const passed = results.filter((r) => r.status === 'passed').length;
  // Set before the upload: a failed upload still leaves the written evidence for later steps.
  ctx.setOwnOutput('file', shown);
  ctx.setOwnOutput('passed', String(passed));
  ctx.setOwnOutput('failed', String(results.length - passed));
  ctx.setOwnOutput('status', gate.passed ? 'passed' : 'failed');
  ctx.setOwnOutput('redactions', String(redactions));

  let artifact: ArtifactRef | undefined;
  let uploadFailure: StepError | undefined;
  if (settings.upload) {
    const name = artifactName(target, settings.milestone, gate.passed);
    try {
      const uploaded = await ctx.log.step('artifact.upload', { artifact: name }, () =>
        uploadArtifact(ctx, path, name, dir, settings.retentionDays),
      );
      artifact = {
        id: uploaded.id,
        name,
        url: artifactUrl(meta, uploaded.id),
        files: uploaded.files.length,
        replacedId: uploaded.replaced?.id,
        leftovers: uploaded.leftovers.map(({ name, id, deleted }) => ({ name, id, deleted })),
      };
      const from = joinMessages(
        [
          ...(uploaded.replaced ? [msg`artifact ${uploaded.replaced.id}`] : []),
          ...uploaded.leftovers.map((l) => msg`leftover artifact ${l.name} (id ${l.id})`),
        ],
        ' and ',
      );
      ctx.info(
        msg`uploaded artifact ${name} (id ${uploaded.id}, ${uploaded.size} bytes, ${uploaded.files.length === 1 ? own('1 file') : msg`${uploaded.files.length} files: this attempt's and ${uploaded.files.length - 1} carried from ${from}`})`,
      );
      for (const leftover of uploaded.leftovers) {
        if (leftover.deleted)
          ctx.info(
            `deleted leftover artifact ${leftover.name} (id ${leftover.id}), left by an earlier attempt of this run: its ${leftover.files.length === 1 ? 'file is' : `${leftover.files.length} files are`} in ${name} (id ${uploaded.id})`,
          );
        ctx.log.write({
          step: 'artifact.leftover',
          outcome: leftover.deleted ? 'ok' : 'failed',
          ids: { artifact: leftover.name, id: leftover.id, into: uploaded.id, files: leftover.files.length },
        });
      }
      ctx.setOwnOutput('artifact-id', String(uploaded.id));
      // Our wording as is, the user's target and milestone redacted (a name with a secret in it).
      ctx.setOwnOutput(
        'artifact-name',
        artifactName(outside(target), outside(settings.milestone), gate.passed),
      );
    } catch (error) {
      if (isCancelled(error)) {
        const failed = { id: undefined, name, url: undefined, failed: true };
        const [n, s] = outside([name, shown]);
        await ctx.writeSummary(
          `${renderSummary(outside(meta), outside(results), s, outside(failed), redactions)}\n**Cancelled** during the upload of ${n}: ${s} is written; a re-run uploads it.\n`,
          { fromRedactedData: true },
        );
        throw error;
      }
      uploadFailure =
        error instanceof StepError
          ? error
          : new StepError('artifact.upload', msg`upload artifact ${name}`, error);
      artifact = { id: undefined, name, url: undefined, failed: true };
    }
  }
  await ctx.writeSummary(
    renderSummary(outside(meta), outside(results), outside(shown), outside(artifact), redactions),
    { fromRedactedData: true },
  );

  const tolerated = toleratedChecks(results);
  if (tolerated) ctx.warning(tolerated);
  if (!gate.passed) {
    const required = `required check${gate.failedRequired.length === 1 ? '' : 's'} ${gate.failedRequired.join(', ')} did not pass`;
    throw new StepError(
      'gate',
      msg`pass milestone ${settings.milestone} of ${target}`,
      new Error(
        uploadFailure
          ? `${required}; the evidence is in ${shown}, and its upload failed: ${uploadFailure.message}`
          : `${required}; the evidence is in ${shown}${artifact ? ` and artifact ${artifact.name}` : ''}`,
      ),
    );
  }
  if (uploadFailure) throw uploadFailure;
}

/**
 * The upload, in its own process killed at the bound (see `uploadBoundMs`):
 * past it the step fails naming the artifact, with the evidence file written.
 */
async function uploadArtifact(
  ctx: ActionContext,
  file: string,
  name: string,
  outputDir: string,
  retentionDays: number | undefined,
): Promise<Uploaded> {
  const env = ctx.env;
  const runtimeToken = env.ACTIONS_RUNTIME_TOKEN;
  if (!env.ACTIONS_RESULTS_URL || !runtimeToken) {
    throw new StepError(
      'artifact.upload',
      msg`upload artifact ${name}`,
      new Error(
        'ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set: artifacts can be uploaded only from a GitHub Actions job (set upload: false elsewhere)',
      ),
    );
  }
  ctx.secrets.add(runtimeToken, 'secret');
  const { cappedTo } = expiryOf(retentionDays, env);
  if (cappedTo !== undefined)
    ctx.warning(
      msg`retention-days ${retentionDays} is above the repository's maximum; the artifact is kept ${cappedTo} days`,
    );
  const requestTimeoutMs = requestTimeoutFromEnv(env);
  const bytes = statSync(file).size;
  const attempt = env.GITHUB_RUN_ATTEMPT || '1';
  const deadlineMs = uploadBoundMs(bytes, requestTimeoutMs, attempt !== '1');
  const tempDir = mkdtempSync(join(env.RUNNER_TEMP || tmpdir(), 'evidence-upload-'));
  try {
    return await uploadInProcess({
      request: { file, name, retentionDays, outputDir, tempDir, attempt },
      deadlineMs,
      blobTimeoutMs: blobTimeoutMs(bytes, requestTimeoutMs),
      env,
      signal: ctx.cancellation.signal,
      onLine: (line) => ctx.info(msg`  ${line}`),
      // @actions/artifact masks a signed URL's `sig` and its URI encoding (maskSigUrl in
      // internal/shared/util.ts): the runner derives the encoding itself, so only the value goes on.
      onSecret: (value) => {
        const decoded = uriDecoded(value);
        ctx.secrets.add(decoded, 'signature', decoded === value ? [] : [value]);
      },
      onNote: (line) => {
        ctx.warning(line);
        ctx.log.write({
          step: 'artifact.conflict',
          outcome: 'retried',
          ids: { artifact: name },
          detail: line,
        });
      },
    });
  } catch (error) {
    if (isCancelled(error)) throw error;
    if (error instanceof UploadFailed && error.timedOut) {
      throw new StepError(
        'artifact.upload',
        msg`upload artifact ${name}`,
        new ComposedError(
          msg`not done within ${formatMs(deadlineMs)}, the bound of an upload of ${bytes} bytes with ${formatMs(requestTimeoutMs)} per request: the upload process was stopped; the evidence file is written, a re-run uploads it`,
        ),
      );
    }
    if (error instanceof UploadFailed && error.nameTaken)
      throw new StepError(
        'artifact.upload',
        msg`upload artifact ${name}`,
        new ComposedError(msg`name conflict: ${error.message}`),
      );
    throw new StepError('artifact.upload', msg`upload artifact ${name}`, error);
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

/**
 * The gate of `require-previous`: a passing artifact of `previous` from a run of
 * this repository on the branch in scope, else the step fails before any check
 * runs, naming each artifact found and why it did not count. GitHub rate limits
 * are waited out up to `timeout` per request.
 */
async function requirePassingEvidence(
  settings: EvidenceSettings,
  ctx: ActionContext,
  target: string,
  previous: string,
): Promise<void> {
  const repository = requireRepository(settings);
  const api = createArtifactsApi(
    createGitHubClient({
      apiUrl: settings.github.apiUrl,
      token: settings.github.token!,
      redact: (t) => ctx.secrets.redact(t),
      rateLimitBudget: { ms: settings.timeoutMs, bound: 'the input timeout' },
      signal: ctx.cancellation.signal,
      log: (line) => ctx.info(line),
      env: ctx.env,
    }),
    repository,
  );
  const scope: EvidenceScope = {
    repositoryId: settings.github.repositoryId,
    branch: settings.previousRef!,
    now: Date.now(),
  };
  const name = artifactName(target, previous, true);
  const doing = `find the passing evidence of milestone '${previous}' (require-previous)`;
  const found = await ctx.log.step('gate.previous', { artifact: name, branch: scope.branch }, () =>
    findPassingEvidence(api, target, previous, scope).catch((error: unknown) => {
      throw isCancelled(error) ? error : new StepError('gate.previous', doing, error);
    }),
  );
  for (const { artifact, refused } of found.judged)
    if (refused && artifact !== found.chosen) ctx.info(msg`not counted: artifact ${artifact.id} ${refused}`);
  if (!found.chosen) {
    throw new StepError(
      'gate.previous',
      doing,
      new ComposedError(
        msg`no passing evidence of milestone '${previous}' from branch ${scope.branch} of ${repository}: ${describeRefusals(found, scope)}; no check was run`,
      ),
    );
  }
  const run = found.chosen.workflow_run;
  ctx.info(
    msg`previous milestone ${previous}: passing evidence artifact ${found.chosen.id} from ${found.chosen.created_at ?? own('an earlier run')} (run ${run?.id ?? own('?')} on ${scope.branch})`,
  );
}

async function readChecksFile(workspace: string, configPath: string): Promise<ChecksFile> {
  return parseChecksFile(readChecksText(workspace, configPath), configPath);
}

function requireRepository(settings: EvidenceSettings): string {
  if (!settings.github.repository)
    throw new InputError('require-previous', msg`needs GITHUB_REPOSITORY (owner/repo)`);
  return settings.github.repository;
}

/** The checks' environment: the runner's, without the action's inputs and the runner's own tokens. */
export function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (
      name.startsWith('INPUT_') ||
      name === 'ACTIONS_RUNTIME_TOKEN' ||
      name.startsWith('ACTIONS_ID_TOKEN_REQUEST')
    )
      continue;
    out[name] = value;
  }
  return out;
}

/** Links `partial` to `path`, or to `path` with -2, -3 … before `.md` when a file is there. */
function linkUnique(partial: string, path: string): string {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? path : path.replace(/\.md$/, `-${n}.md`);
    try {
      linkSync(partial, candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 1000) throw error;
    }
  }
}

/** Workspace-relative inside the workspace, absolute outside it (never a `../` path the user did not give). */
function shownPath(workspace: string, path: string): string {
  const inside = relative(workspace, path);
  return inside === '..' || inside.startsWith('../') || isAbsolute(inside) ? path : inside;
}

/** A value the client may have sent URI-encoded, decoded; as it is when it is no URI encoding. */
function uriDecoded(value: string): string {
  if (!/%[0-9A-Fa-f]{2}/.test(value)) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
