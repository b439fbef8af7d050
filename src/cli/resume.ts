// `tsvisor resume ID`: continue the processes of a paused container.
import { Command } from 'commander';
import { runOci } from './oci.js';

export function resumeCommand(): Command {
  return new Command('resume')
    .description('resume every process of a paused container')
    .argument('<id>', 'container id')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runOci(cmd, `resuming container \`${id}\``, async (g) => {
        const { setPaused } = await import('../oci/container.js');
        await setPaused(g, id, false);
      });
    });
}
