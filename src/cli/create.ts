// `tsvisor create [--bundle DIR] [--pid-file F] [--console-socket S] ID`: set up the
// container and leave its process waiting for `start`.
import { Command } from 'commander';
import { runOci } from './oci.js';

interface CreateFlags {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
}

export function createCommand(): Command {
  return new Command('create')
    .description('create a container whose process waits for `start`')
    .option('-b, --bundle <dir>', 'bundle directory (holding config.json)', '.')
    .option('--pid-file <file>', 'write the pid of the container daemon to FILE')
    .option('--console-socket <path>', 'unix socket to receive the pty master (process.terminal)')
    .option('--no-pivot', 'accepted for runc compatibility')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .option('--preserve-fds <n>', 'accepted for runc compatibility (only 0 is supported)', '0')
    .argument('<id>', 'container id')
    .action(async (id: string, flags: CreateFlags, cmd: Command) => {
      await runOci(cmd, `creating container \`${id}\``, async (g) => {
        const { create } = await import('../oci/create.js');
        await create(g, id, { bundle: flags.bundle, pidFile: flags.pidFile, consoleSocket: flags.consoleSocket });
      });
    });
}
