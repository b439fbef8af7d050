// `tsvisor resume ID`: continue the processes of a paused container.
import { Command } from 'commander';
import { setPaused } from '../oci/container.js';
import { runOci } from './oci.js';

export function resumeCommand(): Command {
  return new Command('resume')
    .description('resume every process of a paused container')
    .argument('<id>', 'container id')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runOci(cmd, `resuming container \`${id}\``, (g) => setPaused(g, id, false));
    });
}
