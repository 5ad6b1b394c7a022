import { runAction } from '../core/action.ts';
import { InputError } from '../core/errors.ts';
import { msg } from '../core/message.ts';
import { runConfigUpdate } from './flow.ts';
import { type ConfigUpdateSettings, parseInputs, SECRET_INPUTS } from './inputs.ts';
import { credentialHeaderValues, hasHeader } from './plan.ts';

await runAction<ConfigUpdateSettings>({
  action: 'config-update',
  secretInputs: SECRET_INPUTS,
  parseInputs: (inputs) => {
    const settings = parseInputs(inputs);
    if (settings.request.authToken && hasHeader(settings.request.headers, 'authorization')) {
      throw new InputError('headers', msg`sets Authorization while auth-token is given too; use one of them`);
    }
    return settings;
  },
  derivedSecrets: (settings) => credentialHeaderValues(settings.request.headers),
  run: runConfigUpdate,
});
