/** A malformed command line (exit code 2). Kept in its own module so that the entry point loads nothing else. */
export class UsageError extends Error {}
