import { runPost } from '../core/action.ts';
import { SECRET_INPUTS } from './inputs.ts';
import { finishLeftovers } from './post-flow.ts';

/**
 * The `post:` step (`post-if: always()`): finishes what a cancelled or killed
 * main step could not — leftover ssh locks and Fly leases, and a GitHub
 * deployment left `in_progress` (post-flow.ts).
 */
await runPost('deploy', async (ctx) => {
  for (const name of SECRET_INPUTS) ctx.secrets.add(ctx.inputs.raw(name), 'secret');
  await finishLeftovers(ctx);
});
