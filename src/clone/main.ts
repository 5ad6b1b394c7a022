import { runAction } from '../core/action.ts';
import { isSecretOverride } from '../core/secrets.ts';
import { runClone } from './flow.ts';
import { parseInputs, SECRET_INPUTS } from './inputs.ts';

await runAction({
  action: 'clone',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => parseInputs(inputs),
  // Plain overrides (`INSTANCE=tati`, `ASSET_HOST=https://tati.shibari.photo`) are not secrets:
  // masking them would corrupt the outputs that name the app and its URLs.
  derivedSecrets: (settings) =>
    Object.entries(settings.config)
      .filter(([key, value]) => isSecretOverride(key, value))
      .map(([, value]) => value),
  run: runClone,
  failureTitle: (s, redact) => `clone ${redact(s.sourceApp)} → ${redact(s.appName)}`,
});
