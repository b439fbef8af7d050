// `tsvisor syscalls`: the compatibility table, as runsc's `help syscalls` prints its own.
import { Command } from 'commander';

export function syscallsCommand(): Command {
  return new Command('syscalls')
    .description('print which syscalls the sandbox supports, and how')
    .action(async () => {
      const { compatTable } = await import('../seccomp/compat.js');
      const { loadTable } = await import('../seccomp/table.js');
      process.stdout.write(compatTable(loadTable()));
    });
}
