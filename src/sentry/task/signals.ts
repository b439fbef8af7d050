// Signals from the sentry's side. The filter makes a task whose call the sentry has
// received wait killably (addon/launcher/confine.c, WAIT_KILLABLE_RECV), so a caught
// signal no longer abandons a call the sentry may have carried out. A call the sentry
// itself keeps waiting (a FIFO open) must then be ended by the sentry when a signal
// comes that Linux would interrupt it for: it answers ERESTARTSYS, and the kernel, on the
// way back to the task, delivers the signal and then restarts the call (SA_RESTART, a
// stop) or fails it with EINTR, exactly as for its own interrupted calls.
import { readFileSync } from 'node:fs';

const SIGSTOP = 19;
/** Signals whose default action stops the task. */
const STOPS = [SIGSTOP, 20 /* SIGTSTP */, 21 /* SIGTTIN */, 22 /* SIGTTOU */];

const bit = (sig: number): bigint => 1n << BigInt(sig - 1);

/**
 * Whether a signal is pending that would interrupt a blocking call of thread HOSTTID:
 * unblocked, and caught or stopping. Only signals certain to be delivered to this thread
 * count: its own, or its process's when it is the only thread (another thread may take a
 * process-wide one, and then this call must go on, as it may under Linux). False when the
 * thread is gone.
 */
export function interruptingSignalPending(hostTid: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${hostTid}/status`, 'latin1');
  } catch {
    return false;
  }
  const field = (name: string): bigint => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)`, 'm').exec(status);
    return m ? BigInt(`0x${m[1]}`) : 0n;
  };
  const threads = Number(/^Threads:\s*(\d+)/m.exec(status)?.[1] ?? 0);
  const pending = field('SigPnd') | (threads === 1 ? field('ShdPnd') : 0n);
  const caught = field('SigCgt'), ignored = field('SigIgn');
  let stops = bit(SIGSTOP);
  for (const sig of STOPS) if (!(caught & bit(sig)) && !(ignored & bit(sig))) stops |= bit(sig);
  return (pending & ~field('SigBlk') & (caught | stops)) !== 0n;
}
