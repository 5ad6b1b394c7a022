/**
 * Step state naming the GitHub deployment the main step created or continues, saved before its
 * `in_progress` status and cleared once a final status is recorded: the post step gives a
 * deployment the main step could not finish (cancelled, killed) its final status.
 */
export const DEPLOYMENT_STATE = 'deployment';
