/**
 * Loaded with `node --import` into a bundle under test: the process sends
 * itself SIGNAL_NAME (SIGINT by default) at the moment SIGNAL_AT names, the
 * way the runner's cancel would land at that moment, with no clock involved:
 *
 * - `chunk`: while the bundle loads, when its first chunk (`<n>.index.js`) is read;
 * - `require`: while the bundle's code is evaluated, at its first `require` of a builtin;
 * - `before-listener` / `after-listener`: around the first listener installed for the signal;
 * - `input:<n>`: at the n-th read of an `INPUT_*` variable (inputs being read and validated).
 *
 * It installs no signal listener of its own: what the signal does is the bundle's doing.
 */
import { registerHooks } from 'node:module';

const at = process.env.SIGNAL_AT ?? '';
const name = (process.env.SIGNAL_NAME ?? 'SIGINT') as NodeJS.Signals;
let sent = false;
const send = () => {
  if (sent) return;
  sent = true;
  process.kill(process.pid, name);
};

if (at === 'chunk' || at === 'require')
  registerHooks({
    resolve(specifier, context, next) {
      if (
        at === 'require' &&
        context.parentURL?.includes('/dist/') &&
        /^(node:)?(os|fs|http|crypto|path|util|events|stream)$/.test(specifier)
      )
        send();
      return next(specifier, context);
    },
    load(url, context, next) {
      if (at === 'chunk' && /\/dist\/.+\/\d+\.index\.js$/.test(url)) send();
      return next(url, context);
    },
  });

if (at === 'before-listener' || at === 'after-listener') {
  for (const method of ['on', 'once', 'addListener'] as const) {
    const original = process[method].bind(process) as (event: string, listener: () => void) => NodeJS.Process;
    (process as unknown as Record<string, unknown>)[method] = (event: string, listener: () => void) => {
      if (event === name && at === 'before-listener') send();
      const result = original(event, listener);
      if (event === name && at === 'after-listener') send();
      return result;
    };
  }
}

const input = /^input:(\d+)$/.exec(at);
if (input) {
  let reads = 0;
  process.env = new Proxy(process.env, {
    get(target, key, receiver) {
      if (typeof key === 'string' && key.startsWith('INPUT_') && ++reads === Number(input[1])) send();
      return Reflect.get(target, key, receiver);
    },
  });
}
