// The compatibility table (README and `tsvisor syscalls`), generated from the syscall
// table so that what we claim and what the filter and sentry do never drift apart.
import type { SyscallEntry } from './table.js';

function count(entries: readonly SyscallEntry[], pred: (e: SyscallEntry) => boolean): number {
  return entries.filter(pred).length;
}

/** Markdown: a summary by class and status, then every entry that is not plainly
 * supported or passed through, with its note, errno or reason. */
export function compatTable(table: readonly SyscallEntry[]): string {
  const trapped = table.filter((e) => e.class === 'trapped');
  const lines = [
    '| class | syscalls | what happens |',
    '|---|---|---|',
    `| trapped, supported | ${count(trapped, (e) => e.status === 'supported')} | answered by the sentry |`,
    `| trapped, partial | ${count(trapped, (e) => e.status === 'partial')} | answered by the sentry, with the limits listed below |`,
    `| trapped, missing | ${count(trapped, (e) => e.status === 'missing')} | ENOSYS and one log line naming the call |`,
    `| passthrough | ${count(table, (e) => e.class === 'passthrough')} | run by the host kernel on fds the sentry granted (some only for argument values BPF can check) |`,
    `| denied | ${count(table, (e) => e.class === 'denied')} | a fixed errno, decided in the filter |`,
    '',
    '| syscall | nr | status | notes |',
    '|---|---|---|---|',
  ];
  for (const e of table) {
    if (e.class === 'trapped' && e.status !== 'supported') {
      lines.push(`| ${e.name} | ${e.nr} | ${e.status} | ${e.note ?? 'no handler yet'} |`);
    } else if (e.class === 'denied') {
      lines.push(`| ${e.name} | ${e.nr} | denied: ${e.errno} | ${e.why ?? ''} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
