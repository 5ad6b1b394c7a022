/** What one check saw, before redaction: the raw output and how it ended. */
export interface RawOutcome {
  /** stdout and stderr interleaved as produced, or the HTTP response as received. */
  output: string;
  exitCode?: number | undefined;
  httpStatus?: number | undefined;
  timedOut: boolean;
  /** Why the check could not run or finish (spawn failure, connection refused...). */
  error?: string | undefined;
}
