import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { msg } from '../core/message.ts';

/**
 * The two paths action-evidence takes from its inputs, checked as a user
 * would want them named: `config` (the checks file) and `output-dir` (where
 * the evidence file goes). Every file-system failure becomes one InputError
 * naming the input and saying in words what is wrong, never an errno code.
 */

/** What a failed file-system call means, in words (codes as in errno(3)). */
export function fsProblem(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left on the device';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOENT':
      return 'a part of the path does not exist';
    case 'ELOOP':
      return 'its symbolic links loop';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return 'the system refused it';
  }
}

const absolute = (workspace: string, path: string) => (isAbsolute(path) ? path : resolve(workspace, path));

/** Far above any real checks file, far below what would strain the runner. */
export const MAX_CHECKS_FILE_BYTES = 1024 * 1024;

/** The checks file's text; `configPath` is relative to the workspace or absolute. */
export function readChecksText(workspace: string, configPath: string): string {
  const path = absolute(workspace, configPath);
  const shown = JSON.stringify(configPath);
  if (!existsSync(path))
    throw new InputError('config', msg`names ${shown}, which does not exist in the workspace`);
  const stat = statSync(path);
  if (stat.isDirectory())
    throw new InputError(
      'config',
      msg`names ${shown}, which is a directory; give the path of the checks file (e.g. .github/evidence.yml)`,
    );
  // A FIFO or device would block the read or never end.
  if (!stat.isFile())
    throw new InputError(
      'config',
      msg`names ${shown}, which is not a regular file; give the path of the checks file`,
    );
  if (stat.size > MAX_CHECKS_FILE_BYTES)
    throw new InputError(
      'config',
      msg`names ${shown}, which is ${stat.size} bytes; a checks file may be at most ${MAX_CHECKS_FILE_BYTES} bytes`,
    );
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError('config', msg`names ${shown}, which cannot be read (${fsProblem(error)})`);
  }
}

/**
 * Before any check runs: `outputDir` is a directory, or can be made as one,
 * and a file can be written in it (a directory made and removed at once in
 * the nearest part that exists, so a read-only mount or missing permission
 * shows now, also for root). Returns the absolute directory.
 */
export function checkOutputDir(workspace: string, outputDir: string): string {
  const dir = absolute(workspace, outputDir);
  const shown = JSON.stringify(outputDir);
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) {
    throw new InputError(
      'output-dir',
      existing === dir
        ? `names ${shown}, which is a file; give a directory for the evidence files (default docs/evidence)`
        : `names ${shown}, but ${JSON.stringify(existing)} on its path is a file, so no directory can be made there; give a directory`,
    );
  }
  try {
    rmdirSync(mkdtempSync(join(existing, '.evidence-write-check-')));
  } catch (error) {
    throw new InputError(
      'output-dir',
      msg`names ${shown}, where no file can be written (${fsProblem(error)})`,
    );
  }
  return dir;
}

/**
 * Makes `dir` one level at a time (a recursive mkdir spins on some virtual
 * file systems such as /proc); a failure is an InputError naming `output-dir`.
 */
export function makeOutputDir(dir: string, outputDir: string): void {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at) && dirname(at) !== at; at = dirname(at)) missing.unshift(at);
  try {
    for (const part of missing) mkdirSync(part);
  } catch (error) {
    if (existsSync(dir) && statSync(dir).isDirectory()) return; // made meanwhile by another step

    throw new InputError(
      'output-dir',
      msg`names ${JSON.stringify(outputDir)}, which cannot be made (${fsProblem(error)})`,
    );
  }
}
