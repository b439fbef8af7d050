// Credential changes: setuid(2) and the rest of the set*id family, setgroups(2), capset(2).
// Tasks hold real ids and the capabilities the sandbox grants them (src/sandbox/creds.ts),
// so the kernel applies Linux's rules itself, per thread, as it does natively. The sentry
// only forgets what it knew of the caller's credentials: its next call re-reads them, so
// the sentry acts as what the task has become.
import type { Call } from '../call.js';
import { CONTINUE, type SyscallResult } from '../result.js';

function changesCredentials(c: Call): SyscallResult {
  c.task.creds = undefined;
  return CONTINUE;
}

export const setuid = changesCredentials;
export const setgid = changesCredentials;
export const setreuid = changesCredentials;
export const setregid = changesCredentials;
export const setresuid = changesCredentials;
export const setresgid = changesCredentials;
export const setfsuid = changesCredentials;
export const setfsgid = changesCredentials;
export const setgroups = changesCredentials;
export const capset = changesCredentials;
