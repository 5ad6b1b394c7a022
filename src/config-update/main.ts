import { NotImplementedError, runAction } from '../core/action.ts';
import { parseInputs, SECRET_INPUTS } from './inputs.ts';

await runAction({
  action: 'config-update',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => parseInputs(inputs),
  run: async () => {
    throw new NotImplementedError('config-update');
  },
});
