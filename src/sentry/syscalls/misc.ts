// System identity, terminals and the calls the kernel still decides for now.
import { loadavg, uptime } from 'node:os';
import { EPERM } from '../abi/errno.js';
import { encodeSysinfo } from '../abi/sysinfo.js';
import { encodeUtsname } from '../abi/utsname.js';
import type { Call } from '../call.js';
import { CONTINUE, type SyscallResult } from '../result.js';

/** uname(2): the sandbox's identity, not the host's nodename (in a UTS namespace the
 * sandbox joined, the kernel's is that namespace's own). */
export function uname(c: Call): SyscallResult {
  if (!c.kernel.uts) return CONTINUE;
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

/** sysinfo(2): the machine's memory is the sandbox's limit when it has one, as in
 * /proc/meminfo (vfs/procfiles.ts); otherwise the kernel answers. */
export function sysinfo(c: Call): SyscallResult {
  const mem = c.kernel.hooks.memory?.();
  if (!mem) return CONTINUE;
  const total = BigInt(mem.limitBytes), used = BigInt(mem.usedBytes);
  const [l1, l5, l15] = loadavg() as [number, number, number];
  const info = encodeSysinfo({
    uptimeSeconds: uptime(),
    loads: [l1, l5, l15],
    totalram: total,
    freeram: total > used ? total - used : 0n,
    sharedram: 0n,
    bufferram: 0n,
    totalswap: 0n,
    freeswap: 0n,
    procs: mem.tasks ?? 0,
  });
  return c.copyOut(c.args.ptr(0), info) ?? 0;
}
