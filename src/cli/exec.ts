// `tsvisor exec [--process F] [--detach] [--pid-file P] [--cwd D] [--env K=V]... [--tty]
// [--console-socket S] ID [ARGS...]`: run one more process in a running container
// (src/oci/exec.ts).
import { Command } from 'commander';
import { UsageError } from './errors.js';
import { runOci } from './oci.js';

interface ExecFlags {
  process?: string;
  detach: boolean;
  pidFile?: string;
  cwd?: string;
  env: string[];
  tty: boolean;
  consoleSocket?: string;
}

export function execCommand(): Command {
  return new Command('exec')
    .description('run a new process in a running container')
    .option('-p, --process <file>', 'JSON of the process (OCI `process`), instead of ARGS')
    .option('-d, --detach', 'return once the process runs; its exit status is the pid file process\'s', false)
    .option('--pid-file <file>', 'with --detach: write the pid of the process that exits with its status')
    .option('--cwd <dir>', 'working directory inside the container')
    .option('-e, --env <k=v>', 'set an environment variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-t, --tty', 'allocate a pseudo-TTY (without --process; detached, needs --console-socket)', false)
    .option('--console-socket <path>', 'with --detach and a terminal: unix socket to receive the pty master')
    .argument('<id>', 'container id')
    .argument('[args...]', 'program and arguments')
    .action(async (id: string, args: string[], flags: ExecFlags, cmd: Command) => {
      await runOci(cmd, `exec in container \`${id}\``, async (g) => {
        if (!flags.process && args.length === 0) throw new UsageError('give ARGS or --process FILE');
        const { exec } = await import('../oci/exec.js');
        process.exitCode = await exec(g, id, { process: flags.process, args, cwd: flags.cwd, env: flags.env, detach: flags.detach, pidFile: flags.pidFile, tty: flags.tty, consoleSocket: flags.consoleSocket });
      });
    });
}
