import { runAction } from '../core/action.ts';
import { runClone } from './flow.ts';
import { parseInputs, SECRET_INPUTS } from './inputs.ts';

await runAction({
  action: 'clone',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => parseInputs(inputs),
  derivedSecrets: (settings) => Object.values(settings.config),
  run: runClone,
});
