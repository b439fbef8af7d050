// Constants for pidfd_open(2).

/** PIDFD_THREAD (Linux 6.9, = O_EXCL): a pidfd for one thread, readable when it exits. */
export const PIDFD_THREAD = 0o200;
