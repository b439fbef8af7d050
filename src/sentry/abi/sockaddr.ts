// struct sockaddr family constants and struct sockaddr_un (sys/un.h).
export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;
export const SOCK_TYPE_MASK = 0xf;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;

/** Largest sockaddr the kernel accepts (struct sockaddr_storage). */
export const SIZEOF_SOCKADDR_STORAGE = 128;
/** offsetof(struct sockaddr_un, sun_path). */
export const SUN_PATH_OFFSET = 2;
export const SUN_PATH_MAX = 108;

export function sockaddrFamily(buf: Buffer): number {
  return buf.length >= 2 ? buf.readUInt16LE(0) : AF_UNSPEC;
}
