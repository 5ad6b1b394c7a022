import { runAction } from '../core/action.ts';
import { runEvidence } from './flow.ts';
import { parseInputs, SECRET_INPUTS } from './inputs.ts';

await runAction({
  action: 'evidence',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => parseInputs(inputs, process.env),
  run: (settings, ctx) => runEvidence(settings, ctx),
  failureTitle: (s, redact) =>
    `evidence for ${redact(s.milestone)}${s.target ? ` on ${redact(s.target)}` : ''}`,
  failureOutputs: { status: 'failed' },
});

// A daemon started by a local check may still hold that check's output pipe: @actions/exec stopped
// waiting for it (run-local.ts), but Node would wait for as long as the daemon lives. All is written.
process.stdout.write('', () => process.exit());
