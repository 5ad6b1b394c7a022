import { NotImplementedError, runAction } from '../core/action.ts';
import { parseInputs, SECRET_INPUTS } from './inputs.ts';

await runAction({
  action: 'evidence',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => parseInputs(inputs, process.env),
  run: async () => {
    throw new NotImplementedError('evidence');
  },
});
