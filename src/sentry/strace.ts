// --strace: one line per trapped call with its decoded arguments and its answer, like
// strace(1). Arguments are decoded from the syscall table's argument kinds; paths and
// strings are read before the call is answered, while they are still the task's.
import { native } from '../native.js';
import { isErrno } from './abi/errno.js';
import { AT_FDCWD } from './abi/fcntl.js';
import type { SyscallEntry } from '../seccomp/table.js';
import type { Call } from './call.js';
import { CONTINUE, InjectFd, type Immediate } from './result.js';

const MAX_STRING = 64;

export class Strace {
  constructor(private readonly write: (line: string) => void) {}

  /** Decodes the call now; the returned function prints it with its answer. */
  begin(c: Call, entry: SyscallEntry): (result: Immediate, fd?: number) => void {
    const args = entry.args.map((kind, i) => formatArg(c, kind, i)).join(', ');
    const head = `[pid ${c.task.vtid}] ${entry.name}(${args})`;
    return (result, fd) => this.write(`${head} = ${formatResult(result, fd)}\n`);
  }
}

function formatArg(c: Call, kind: string, i: number): string {
  const a = c.args;
  if (kind === 'path' || kind === 'str') {
    const addr = a.ptr(i);
    if (addr === 0) return 'NULL';
    const s = native().readString(c.task.hostTid, addr, 4095);
    if (typeof s === 'number') return `0x${addr.toString(16)}`;
    // Bytes above ASCII as \xNN, as strace -x prints them: names are bytes (native.ts).
    return JSON.stringify(s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}...` : s).replace(/[\x80-\xff]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16)}`);
  }
  if (kind === 'fd:dir' && a.i32(i) === AT_FDCWD) return 'AT_FDCWD';
  if (kind.startsWith('fd') || kind === 'int' || kind === 'pid' || kind === 'sig') return String(a.i32(i));
  if (kind.startsWith('flags') || kind === 'mode') return a.u32(i) === 0 ? '0' : `0${a.u32(i).toString(8)}`;
  if (kind.startsWith('out:') || kind.startsWith('in:') || kind === 'ptr' || kind === 'argv' || kind === 'envp') {
    const p = a.ptr(i);
    return p === 0 ? 'NULL' : `0x${p.toString(16)}`;
  }
  return String(a.u64(i));
}

function formatResult(result: Immediate, fd?: number): string {
  if (typeof result === 'number') return String(result);
  if (result instanceof InjectFd) return fd !== undefined && fd >= 0 ? `${fd} (fd installed)` : `-1 (addfd failed: ${fd})`;
  if (result === CONTINUE) return '? (continued in the kernel)';
  return isErrno(result) ? `-1 ${result.name}` : String(result);
}
