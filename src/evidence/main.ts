import { runAction } from '../core/action.ts';
import { runEvidence } from './flow.ts';
import { parseInputs, SECRET_INPUTS } from './inputs.ts';

await runAction({
  action: 'evidence',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => parseInputs(inputs, process.env),
  run: (settings, ctx) => runEvidence(settings, ctx),
});
