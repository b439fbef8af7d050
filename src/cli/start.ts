// `tsvisor start ID`: let a created container's process run.
import { Command } from 'commander';
import { runOci } from './oci.js';

export function startCommand(): Command {
  return new Command('start')
    .description('start the process of a created container')
    .argument('<id>', 'container id')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runOci(cmd, `starting container \`${id}\``, async (g) => {
        const { start } = await import('../oci/container.js');
        await start(g, id);
      });
    });
}
