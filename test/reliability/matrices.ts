import type { MatrixResult } from './matrix.ts';

/** Every matrix by name; each module registers itself here with one line. */
export const MATRICES: Record<string, () => Promise<MatrixResult>> = {};
