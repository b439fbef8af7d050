// Errors the CLI reports: one line, lowercase, `tsvisor: <step>: <cause>`, printed once
// at the top level with a distinct exit code.

/** Bad flags or arguments: exit 2, as commander's own usage errors. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** Exit code for a sandbox that could not be set up (as Docker's 125). */
export const EXIT_SETUP = 125;

/** Prints an error and returns its exit code. */
export function fail(err: unknown): number {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`tsvisor: ${msg}\n`);
  return err instanceof UsageError ? err.exitCode : EXIT_SETUP;
}
