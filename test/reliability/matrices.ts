import type { MatrixResult } from './matrix.ts';

/** Every matrix by name; each module registers itself here with one line. */
export const MATRICES: Record<string, () => Promise<MatrixResult>> = {
  secrets: async () => (await import('./secrets.ts')).run(),
  'bad-input': async () => (await import('./bad-input.ts')).run(),
  'dry-run': async () => (await import('./dry-run.ts')).run(),
  faults: async () => (await import('./faults.ts')).run(),
  cancellation: async () => (await import('./cancellation.ts')).run(),
};
