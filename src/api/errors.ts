// Errors the embedding API throws or rejects with. Anything about the workload itself (it
// failed, could not be exec'd, hit a limit) is a result, not an error: see RunResult.reason.

/** Base class: `err instanceof SandboxError` catches every error of this API. */
export class SandboxError extends Error {
  override readonly name: string = 'SandboxError';
}

/** The options are wrong: a missing rootfs, a bad mount, a malformed limit, an empty
 * argv. Thrown by the constructor, or by run()/spawn() for per-run options. */
export class SandboxConfigError extends SandboxError {
  override readonly name = 'SandboxConfigError';
}

/** The host could not start a sandbox: no native addon, no cgroup for the limits asked
 * for (not root?), the launcher could not be spawned. */
export class SandboxStartError extends SandboxError {
  override readonly name = 'SandboxStartError';
}
