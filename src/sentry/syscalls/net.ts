// Socket syscalls the sentry decides. Which sockets may exist is decided on register
// values (domain, type, protocol), so an allowed socket() continues in the kernel; the
// socket then lives in the sandbox's network namespace. Calls that name a peer (connect,
// bind, sendto/sendmsg with an address) are checked on a copy of the address.
//
// Known gap, kept narrow: with --network host the check and the kernel's own read of the
// address are two reads, so a racing thread could swap a checked address for an abstract
// unix one; under the default --network none the sandbox's own network namespace holds
// every abstract socket and address it could swap in. Emulating the connect in the sentry
// (pidfd_getfd + connect on its copy) closes it and comes with the network work.
import { EAFNOSUPPORT, EINVAL, EPERM, EPROTONOSUPPORT, isErrno, type Errno } from '../abi/errno.js';
import {
  AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX, NETLINK_ROUTE, NETLINK_SOCK_DIAG, SIZEOF_SOCKADDR_STORAGE,
  SUN_PATH_OFFSET, sockaddrFamily,
} from '../abi/sockaddr.js';
import type { Call } from '../call.js';
import { CONTINUE, type SyscallResult } from '../result.js';

/** socket(2): unix, inet, inet6, rtnetlink (getaddrinfo asks it for addresses),
 * sock_diag (ss, netstat: the sockets of the task's own network namespace, as its
 * /proc/net/tcp already shows them) and packet sockets in a network of the sandbox's own. */
export function socket(c: Call): SyscallResult {
  const domain = c.args.i32(0), protocol = c.args.i32(2);
  switch (domain) {
    case AF_UNIX:
    case AF_INET:
    case AF_INET6:
      return CONTINUE;
    case AF_NETLINK:
      return protocol === NETLINK_ROUTE || protocol === NETLINK_SOCK_DIAG ? CONTINUE : EPROTONOSUPPORT;
    case AF_PACKET:
      // Link-layer access, for a holder of CAP_NET_RAW (the kernel checks), to the
      // sandbox's own interfaces only: never to the host's.
      return c.kernel.network === 'host' ? EPERM : CONTINUE;
    default:
      return EAFNOSUPPORT;
  }
}

/** Whether a task may name this peer address. */
function checkAddress(c: Call, addr: number, len: number): Errno | null {
  if (addr === 0) return null;
  if (len < 0 || len > SIZEOF_SOCKADDR_STORAGE) return EINVAL;
  const sa = c.copyIn(addr, len);
  if (isErrno(sa)) return sa;
  const abstract = sockaddrFamily(sa) === AF_UNIX && len > SUN_PATH_OFFSET && sa[SUN_PATH_OFFSET] === 0;
  // The host's abstract unix namespace (dbus, containerd shims, X11) is never reachable.
  if (abstract && c.kernel.network === 'host') return EPERM;
  return null;
}

function addressed(c: Call, addrArg: number, lenArg: number): SyscallResult {
  return checkAddress(c, c.args.ptr(addrArg), c.args.i32(lenArg)) ?? CONTINUE;
}

/** connect(2). */
export function connect(c: Call): SyscallResult {
  return addressed(c, 1, 2);
}

/** bind(2). */
export function bind(c: Call): SyscallResult {
  return addressed(c, 1, 2);
}

/** sendto(2), trapped only when it names a destination. */
export function sendto(c: Call): SyscallResult {
  return addressed(c, 4, 5);
}

const SIZEOF_MSGHDR = 56;
const SIZEOF_MMSGHDR = 64;
const UIO_MAXIOV = 1024;

/** Checks the msg_name of one struct msghdr at addr. */
function checkMsghdr(c: Call, hdr: Buffer, off: number): Errno | null {
  const name = Number(hdr.readBigUInt64LE(off));
  return checkAddress(c, name, hdr.readInt32LE(off + 8));
}

/** sendmsg(2). */
export function sendmsg(c: Call): SyscallResult {
  const hdr = c.copyIn(c.args.ptr(1), SIZEOF_MSGHDR);
  if (isErrno(hdr)) return hdr;
  return checkMsghdr(c, hdr, 0) ?? CONTINUE;
}

/** sendmmsg(2). */
export function sendmmsg(c: Call): SyscallResult {
  const vlen = Math.min(c.args.u32(2), UIO_MAXIOV);
  const hdrs = c.copyIn(c.args.ptr(1), vlen * SIZEOF_MMSGHDR);
  if (isErrno(hdrs)) return hdrs;
  for (let i = 0; i < vlen; i++) {
    const bad = checkMsghdr(c, hdrs, i * SIZEOF_MMSGHDR);
    if (bad) return bad;
  }
  return CONTINUE;
}
