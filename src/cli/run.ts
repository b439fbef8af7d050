// `tsvisor run [--bundle DIR] [--detach] ID`: create, start, and (unless --detach) wait for
// the container and delete it, exiting with its status. Signals this command gets are
// passed on to the container's process, as runc does.
import { constants } from 'node:os';
import { Command } from 'commander';
import { runOci } from './oci.js';

interface RunFlags {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  detach: boolean;
  keep: boolean;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

export function runCommand(): Command {
  return new Command('run')
    .description('create and start a container, wait for it and delete it')
    .option('-b, --bundle <dir>', 'bundle directory (holding config.json)', '.')
    .option('--pid-file <file>', 'write the pid of the container daemon to FILE')
    .option('--console-socket <path>', 'unix socket to receive the pty master (process.terminal)')
    .option('-d, --detach', 'return once started, leaving the container running', false)
    .option('--keep', 'do not delete the container after it exits', false)
    .option('--no-pivot', 'accepted for runc compatibility')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .argument('<id>', 'container id')
    .action(async (id: string, flags: RunFlags, cmd: Command) => {
      await runOci(cmd, `running container \`${id}\``, async (g) => {
        const { create } = await import('../oci/create.js');
        const { kill, remove, start, wait } = await import('../oci/container.js');
        // In the foreground this process supervises the container: one node fewer to start.
        const inProcess = !flags.detach;
        await create(g, id, { bundle: flags.bundle, pidFile: flags.pidFile, consoleSocket: flags.consoleSocket, inProcess });
        // Passed on from before start: the container may run (and its caller signal us)
        // before start's answer is in. A created container takes signals too.
        const forward = (sig: NodeJS.Signals): void => void kill(g, id, constants.signals[sig], false).catch(() => {});
        if (!flags.detach) for (const sig of FORWARDED) process.on(sig, forward);
        try {
          await start(g, id);
        } catch (err) {
          await remove(g, id, true);
          throw err;
        }
        if (flags.detach) return;
        const code = await wait(g, id);
        for (const sig of FORWARDED) process.off(sig, forward);
        if (!flags.keep) await remove(g, id, true);
        process.exitCode = code;
      });
    });
}
