import { runPost } from '../core/action.ts';

await runPost('deploy', async (ctx) => {
  const held = ctx.getState('locks');
  if (held === '') {
    ctx.info('No deploy locks were taken by this job; nothing to release.');
    return;
  }
  ctx.warning(`Lock release is not implemented yet; these locks may remain: ${held}`);
});
