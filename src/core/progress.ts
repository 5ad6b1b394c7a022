/**
 * One line per finished unit, written the moment it finishes. Writes to stdout
 * are synchronous for pipes and files on Linux, so the runner (or a job reading
 * our stdout) sees each line as it happens, never batched at the end.
 */

export interface UnitResult {
  id: string;
  /** Shown after the id, e.g. a region: `e784 (ams)`. */
  where?: string | undefined;
  outcome: string;
  status?: number | string | undefined;
  attempts?: number | undefined;
  ms: number;
  note?: string | undefined;
}

export class Progress {
  private finished = 0;
  private readonly total: number;
  private readonly write: (line: string) => void;
  private readonly width: number;

  constructor(total: number, write: (line: string) => void) {
    this.total = total;
    this.write = write;
    this.width = String(total).length;
  }

  done(unit: UnitResult): void {
    this.finished++;
    this.write(formatProgressLine(this.finished, this.total, unit, this.width));
  }
}

export function formatProgressLine(
  position: number,
  total: number,
  unit: UnitResult,
  width = String(total).length,
) {
  const percent = total === 0 ? 100 : Math.floor((position / total) * 100);
  const where = unit.where ? ` (${unit.where})` : '';
  const parts = [
    `[${String(position).padStart(width)}/${total} ${String(percent).padStart(3)}%]`,
    `${unit.id}${where}`,
    unit.outcome,
  ];
  if (unit.status !== undefined) parts.push(`status=${unit.status}`);
  if (unit.attempts !== undefined) parts.push(`attempts=${unit.attempts}`);
  parts.push(`${Math.round(unit.ms)}ms`);
  if (unit.note) parts.push(`- ${unit.note}`);
  return parts.join(' ');
}
