/**
 * Runs the ssh target in a process of its own, as the main step would, so a
 * test can kill it with SIGKILL mid-deploy and hand its saved state to the post
 * step. Settings and request come as JSON in SSH_TARGET_CASE; GITHUB_STATE and
 * RUNNER_TEMP come from the environment, as the runner gives them.
 */
import { createContext } from '../../src/core/action.ts';
import type { SshDeploySettings } from '../../src/deploy/inputs.ts';
import { createSshTarget } from '../../src/deploy/ssh/index.ts';

const input = JSON.parse(process.env.SSH_TARGET_CASE ?? '{}') as {
  settings: SshDeploySettings;
  deployId: string;
  image: string;
};
const ctx = createContext('deploy', process.env);
ctx.secrets.add(input.settings.sshKey);
const outcome = await createSshTarget(input.settings, ctx, { healthIntervalMs: 300 }).run({
  operation: 'deploy',
  deployId: input.deployId,
  deployTag: `deploy_${input.deployId.replace(/-/g, '').slice(0, 8)}`,
  image: input.image,
  dryRun: false,
  healthTimeoutMs: 120_000,
  autoRollback: true,
  log: (line) => ctx.info(line),
});
ctx.info(`status ${outcome.status}`);
