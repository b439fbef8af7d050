// Linux errno values (x86_64), with the kernel's names. Handlers return these as values
// (gVisor's linuxerr style): an Errno is never thrown.

/** A failed syscall's result. One frozen instance per errno, compared by identity. */
export class Errno {
  constructor(readonly code: number, readonly name: string) {
    Object.freeze(this);
  }
}

const byCode = new Map<number, Errno>();

function def(code: number, name: string): Errno {
  const e = new Errno(code, name);
  byCode.set(code, e);
  return e;
}

export const E2BIG = def(7, 'E2BIG');
export const EACCES = def(13, 'EACCES');
export const EADDRINUSE = def(98, 'EADDRINUSE');
export const EADDRNOTAVAIL = def(99, 'EADDRNOTAVAIL');
export const EADV = def(68, 'EADV');
export const EAFNOSUPPORT = def(97, 'EAFNOSUPPORT');
export const EAGAIN = def(11, 'EAGAIN');
export const EALREADY = def(114, 'EALREADY');
export const EBADE = def(52, 'EBADE');
export const EBADF = def(9, 'EBADF');
export const EBADFD = def(77, 'EBADFD');
export const EBADMSG = def(74, 'EBADMSG');
export const EBADR = def(53, 'EBADR');
export const EBADRQC = def(56, 'EBADRQC');
export const EBADSLT = def(57, 'EBADSLT');
export const EBFONT = def(59, 'EBFONT');
export const EBUSY = def(16, 'EBUSY');
export const ECANCELED = def(125, 'ECANCELED');
export const ECHILD = def(10, 'ECHILD');
export const ECHRNG = def(44, 'ECHRNG');
export const ECOMM = def(70, 'ECOMM');
export const ECONNABORTED = def(103, 'ECONNABORTED');
export const ECONNREFUSED = def(111, 'ECONNREFUSED');
export const ECONNRESET = def(104, 'ECONNRESET');
export const EDEADLK = def(35, 'EDEADLK');
export const EDESTADDRREQ = def(89, 'EDESTADDRREQ');
export const EDOM = def(33, 'EDOM');
export const EDOTDOT = def(73, 'EDOTDOT');
export const EDQUOT = def(122, 'EDQUOT');
export const EEXIST = def(17, 'EEXIST');
export const EFAULT = def(14, 'EFAULT');
export const EFBIG = def(27, 'EFBIG');
export const EHOSTDOWN = def(112, 'EHOSTDOWN');
export const EHOSTUNREACH = def(113, 'EHOSTUNREACH');
export const EIDRM = def(43, 'EIDRM');
export const EILSEQ = def(84, 'EILSEQ');
export const EINPROGRESS = def(115, 'EINPROGRESS');
export const EINTR = def(4, 'EINTR');
export const EINVAL = def(22, 'EINVAL');
export const EIO = def(5, 'EIO');
export const EISCONN = def(106, 'EISCONN');
export const EISDIR = def(21, 'EISDIR');
export const EISNAM = def(120, 'EISNAM');
export const EKEYEXPIRED = def(127, 'EKEYEXPIRED');
export const EKEYREJECTED = def(129, 'EKEYREJECTED');
export const EKEYREVOKED = def(128, 'EKEYREVOKED');
export const EL2HLT = def(51, 'EL2HLT');
export const EL2NSYNC = def(45, 'EL2NSYNC');
export const EL3HLT = def(46, 'EL3HLT');
export const EL3RST = def(47, 'EL3RST');
export const ELIBACC = def(79, 'ELIBACC');
export const ELIBBAD = def(80, 'ELIBBAD');
export const ELIBEXEC = def(83, 'ELIBEXEC');
export const ELIBMAX = def(82, 'ELIBMAX');
export const ELIBSCN = def(81, 'ELIBSCN');
export const ELNRNG = def(48, 'ELNRNG');
export const ELOOP = def(40, 'ELOOP');
export const EMEDIUMTYPE = def(124, 'EMEDIUMTYPE');
export const EMFILE = def(24, 'EMFILE');
export const EMLINK = def(31, 'EMLINK');
export const EMSGSIZE = def(90, 'EMSGSIZE');
export const EMULTIHOP = def(72, 'EMULTIHOP');
export const ENAMETOOLONG = def(36, 'ENAMETOOLONG');
export const ENAVAIL = def(119, 'ENAVAIL');
export const ENETDOWN = def(100, 'ENETDOWN');
export const ENETRESET = def(102, 'ENETRESET');
export const ENETUNREACH = def(101, 'ENETUNREACH');
export const ENFILE = def(23, 'ENFILE');
export const ENOANO = def(55, 'ENOANO');
export const ENOBUFS = def(105, 'ENOBUFS');
export const ENOCSI = def(50, 'ENOCSI');
export const ENODATA = def(61, 'ENODATA');
export const ENODEV = def(19, 'ENODEV');
export const ENOENT = def(2, 'ENOENT');
export const ENOEXEC = def(8, 'ENOEXEC');
export const ENOKEY = def(126, 'ENOKEY');
export const ENOLCK = def(37, 'ENOLCK');
export const ENOLINK = def(67, 'ENOLINK');
export const ENOMEDIUM = def(123, 'ENOMEDIUM');
export const ENOMEM = def(12, 'ENOMEM');
export const ENOMSG = def(42, 'ENOMSG');
export const ENONET = def(64, 'ENONET');
export const ENOPKG = def(65, 'ENOPKG');
export const ENOPROTOOPT = def(92, 'ENOPROTOOPT');
export const ENOSPC = def(28, 'ENOSPC');
export const ENOSR = def(63, 'ENOSR');
export const ENOSTR = def(60, 'ENOSTR');
export const ENOSYS = def(38, 'ENOSYS');
export const ENOTBLK = def(15, 'ENOTBLK');
export const ENOTCONN = def(107, 'ENOTCONN');
export const ENOTDIR = def(20, 'ENOTDIR');
export const ENOTEMPTY = def(39, 'ENOTEMPTY');
export const ENOTNAM = def(118, 'ENOTNAM');
export const ENOTRECOVERABLE = def(131, 'ENOTRECOVERABLE');
export const ENOTSOCK = def(88, 'ENOTSOCK');
export const EOPNOTSUPP = def(95, 'EOPNOTSUPP');
export const ENOTTY = def(25, 'ENOTTY');
export const ENOTUNIQ = def(76, 'ENOTUNIQ');
export const ENXIO = def(6, 'ENXIO');
export const EOVERFLOW = def(75, 'EOVERFLOW');
export const EOWNERDEAD = def(130, 'EOWNERDEAD');
export const EPERM = def(1, 'EPERM');
export const EPFNOSUPPORT = def(96, 'EPFNOSUPPORT');
export const EPIPE = def(32, 'EPIPE');
export const EPROTO = def(71, 'EPROTO');
export const EPROTONOSUPPORT = def(93, 'EPROTONOSUPPORT');
export const EPROTOTYPE = def(91, 'EPROTOTYPE');
export const ERANGE = def(34, 'ERANGE');
export const EREMCHG = def(78, 'EREMCHG');
export const EREMOTE = def(66, 'EREMOTE');
export const EREMOTEIO = def(121, 'EREMOTEIO');
export const ERESTART = def(85, 'ERESTART');
export const ERFKILL = def(132, 'ERFKILL');
export const EROFS = def(30, 'EROFS');
export const ESHUTDOWN = def(108, 'ESHUTDOWN');
export const ESOCKTNOSUPPORT = def(94, 'ESOCKTNOSUPPORT');
export const ESPIPE = def(29, 'ESPIPE');
export const ESRCH = def(3, 'ESRCH');
export const ESRMNT = def(69, 'ESRMNT');
export const ESTALE = def(116, 'ESTALE');
export const ESTRPIPE = def(86, 'ESTRPIPE');
export const ETIME = def(62, 'ETIME');
export const ETIMEDOUT = def(110, 'ETIMEDOUT');
export const ETOOMANYREFS = def(109, 'ETOOMANYREFS');
export const ETXTBSY = def(26, 'ETXTBSY');
export const EUCLEAN = def(117, 'EUCLEAN');
export const EUNATCH = def(49, 'EUNATCH');
export const EUSERS = def(87, 'EUSERS');
export const EXDEV = def(18, 'EXDEV');
export const EXFULL = def(54, 'EXFULL');

/** Kernel-internal: a call interrupted by a signal, restarted or failed with EINTR as the
 * signal's SA_RESTART says. Answered only while that signal is pending for the caller
 * (task/signals.ts): a task never sees it. */
export const ERESTARTSYS = def(512, 'ERESTARTSYS');

/** Aliases Linux defines with the same value. */
export const EWOULDBLOCK = EAGAIN;
export const EDEADLOCK = EDEADLK;
export const ENOTSUP = EOPNOTSUPP;

/** The Errno for a positive errno number (unknown numbers get a generic name). */
export function errnoOf(code: number): Errno {
  return byCode.get(code) ?? def(code, `E${code}`);
}

/** Translates an addon return (-errno on failure) into an Errno, else null. */
export function hostError(ret: number): Errno | null {
  return ret < 0 ? errnoOf(-ret) : null;
}

/** Translates a Node fs exception (err.errno is -code) into an Errno. */
export function fromNodeError(err: unknown): Errno {
  const n = (err as { errno?: unknown }).errno;
  return typeof n === 'number' ? errnoOf(Math.abs(n)) : EIO;
}

export function isErrno(x: unknown): x is Errno {
  return x instanceof Errno;
}
