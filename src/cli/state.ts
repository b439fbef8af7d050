// `tsvisor state ID`: the container's OCI state as JSON, as runc prints it.
import { Command } from 'commander';
import { runOci } from './oci.js';

export function stateCommand(): Command {
  return new Command('state')
    .description('print the state of a container as JSON')
    .argument('<id>', 'container id')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runOci(cmd, `reading the state of container \`${id}\``, async (g) => {
        const { state } = await import('../oci/container.js');
        process.stdout.write(`${JSON.stringify(state(g, id).ociState(), null, 2)}\n`);
      });
    });
}
