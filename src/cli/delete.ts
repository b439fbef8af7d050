// `tsvisor delete [--force] ID`: remove a stopped container (or kill it first with --force).
import { Command } from 'commander';
import { runOci } from './oci.js';

export function deleteCommand(): Command {
  return new Command('delete')
    .description('delete a container and everything it holds')
    .option('-f, --force', 'kill the container first if it still runs', false)
    .argument('<id>', 'container id')
    .action(async (id: string, flags: { force: boolean }, cmd: Command) => {
      await runOci(cmd, `deleting container \`${id}\``, async (g) => {
        const { remove } = await import('../oci/container.js');
        await remove(g, id, flags.force);
      });
    });
}
