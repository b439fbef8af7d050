// `tsvisor start ID`: let a created container's process run.
import { Command } from 'commander';
import { start } from '../oci/container.js';
import { runOci } from './oci.js';

export function startCommand(): Command {
  return new Command('start')
    .description('start the process of a created container')
    .argument('<id>', 'container id')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runOci(cmd, `starting container \`${id}\``, (g) => start(g, id));
    });
}
