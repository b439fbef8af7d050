// `tsvisor syscalls`: the compatibility table, as runsc's `help syscalls` prints its own.
import { Command } from 'commander';
import { compatTable } from '../seccomp/compat.js';
import { loadTable } from '../seccomp/table.js';

export function syscallsCommand(): Command {
  return new Command('syscalls')
    .description('print which syscalls the sandbox supports, and how')
    .action(() => {
      process.stdout.write(compatTable(loadTable()));
    });
}
