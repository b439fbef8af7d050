// `tsvisor kill [--all] ID [SIGNAL]`: signal the container's process (default SIGTERM).
import { Command } from 'commander';
import { kill } from '../oci/container.js';
import { parseSignal } from '../oci/signals.js';
import { UsageError } from './errors.js';
import { runOci } from './oci.js';

export function killCommand(): Command {
  return new Command('kill')
    .description('send a signal (name or number) to the container process')
    .option('-a, --all', 'signal every process of the container', false)
    .argument('<id>', 'container id')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .action(async (id: string, sig: string, flags: { all: boolean }, cmd: Command) => {
      await runOci(cmd, `killing container \`${id}\``, (g) => {
        const n = parseSignal(sig);
        if (typeof n === 'string') throw new UsageError(n);
        return kill(g, id, n, flags.all);
      });
    });
}
