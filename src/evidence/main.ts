import { runAction } from '../core/action.ts';
import { parseInputs, SECRET_INPUTS } from './inputs.ts';
import { runEvidence } from './run.ts';

await runAction({
  action: 'evidence',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => parseInputs(inputs, process.env),
  run: (settings, ctx) => runEvidence(settings, ctx),
});
