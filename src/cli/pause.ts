// `tsvisor pause ID`: stop every process of the container until `resume`.
import { Command } from 'commander';
import { runOci } from './oci.js';

export function pauseCommand(): Command {
  return new Command('pause')
    .description('suspend every process of a container')
    .argument('<id>', 'container id')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runOci(cmd, `pausing container \`${id}\``, async (g) => {
        const { setPaused } = await import('../oci/container.js');
        await setPaused(g, id, true);
      });
    });
}
