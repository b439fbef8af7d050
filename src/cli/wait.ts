// `tsvisor wait ID`: block until the container's process exits; print its status as runsc
// does ({"id":…,"exitStatus":N}).
import { Command } from 'commander';
import { runOci } from './oci.js';

export function waitCommand(): Command {
  return new Command('wait')
    .description('wait for the container process to exit and print its exit status')
    .argument('<id>', 'container id')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runOci(cmd, `waiting for container \`${id}\``, async (g) => {
        const { wait } = await import('../oci/container.js');
        const exitStatus = await wait(g, id);
        process.stdout.write(`${JSON.stringify({ id, exitStatus })}\n`);
      });
    });
}
