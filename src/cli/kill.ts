// `tsvisor kill [--all] ID [SIGNAL]`: signal the container's process (default SIGTERM).
import { Command } from 'commander';
import { UsageError } from './errors.js';
import { runOci } from './oci.js';

export function killCommand(): Command {
  return new Command('kill')
    .description('send a signal (name or number) to the container process')
    .option('-a, --all', 'signal every process of the container', false)
    .argument('<id>', 'container id')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .action(async (id: string, sig: string, flags: { all: boolean }, cmd: Command) => {
      await runOci(cmd, `killing container \`${id}\``, async (g) => {
        const { parseSignal } = await import('../oci/signals.js');
        const n = parseSignal(sig);
        if (typeof n === 'string') throw new UsageError(n);
        const { kill } = await import('../oci/container.js');
        await kill(g, id, n, flags.all);
      });
    });
}
