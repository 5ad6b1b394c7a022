/**
 * Loaded with `node --import` into a bundle under test: appends the URL of
 * every module the process loads to the file named by MODULE_TRACE_FILE, one a
 * line, so a test can see which of a bundle's chunks a run evaluated.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.MODULE_TRACE_FILE;
if (file)
  registerHooks({
    load(url, context, next) {
      appendFileSync(file, `${url}\n`);
      return next(url, context);
    },
  });
