// System identity, terminals and the calls the kernel still decides for now.
import { EPERM } from '../abi/errno.js';
import { encodeUtsname } from '../abi/utsname.js';
import type { Call } from '../call.js';
import { CONTINUE, type SyscallResult } from '../result.js';

/** uname(2): the sandbox's identity, not the host's nodename. */
export function uname(c: Call): SyscallResult {
  return c.copyOut(c.args.ptr(0), encodeUtsname(c.kernel.uts)) ?? 0;
}

/** sethostname(2): sandbox tasks hold no CAP_SYS_ADMIN, so Linux answers EPERM. */
export function sethostname(_c: Call): SyscallResult {
  return EPERM;
}

/** setdomainname(2): as sethostname. */
export function setdomainname(_c: Call): SyscallResult {
  return EPERM;
}

// ioctl requests never allowed, whatever the fd: they inject input into a terminal or
// redirect the console (TIOCSTI, TIOCLINUX, TIOCCONS).
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
const TIOCCONS = 0x541d;

/** ioctl(2) requests outside the BPF fast list. The fd was granted by the sentry, and
 * what a request does depends on the fd's driver, not on memory the sentry reads, so the
 * kernel runs the rest. */
export function ioctl(c: Call): SyscallResult {
  const request = c.args.u32(1);
  if (request === TIOCSTI || request === TIOCLINUX || request === TIOCCONS) return EPERM;
  return CONTINUE;
}

// Identity and limits: the sandbox's tasks hold no capabilities, so the kernel enforces
// Linux's own rules for these; the sentry's identity model (#4) will answer them itself.
const kernelEnforced = (_c: Call): SyscallResult => CONTINUE;

/** setuid(2) and the rest of the set*id family: kernel-enforced for now. */
export const setuid = kernelEnforced;
export const setgid = kernelEnforced;
export const setreuid = kernelEnforced;
export const setregid = kernelEnforced;
export const setresuid = kernelEnforced;
export const setresgid = kernelEnforced;
export const setfsuid = kernelEnforced;
export const setfsgid = kernelEnforced;
export const setgroups = kernelEnforced;
export const capset = kernelEnforced;
export const setrlimit = kernelEnforced;
export const prlimit64 = kernelEnforced;
export const sysinfo = kernelEnforced;
