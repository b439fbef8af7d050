// `tsvisor install [--config-file F] [--runtime NAME] [-- RUNTIME_ARGS...]`: register
// tsvisor as a Docker runtime (daemon.json `runtimes`), as `runsc install` does.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { PACKAGE_ROOT } from '../package-root.js';
import { runOci } from './oci.js';

const bin = join(PACKAGE_ROOT, 'bin', 'tsvisor');

export function installCommand(): Command {
  return new Command('install')
    .description('add tsvisor to the runtimes of Docker\'s daemon.json (restart dockerd afterwards)')
    .option('--config-file <file>', 'daemon.json to edit', '/etc/docker/daemon.json')
    .option('--runtime <name>', 'name of the runtime in Docker', 'tsvisor')
    .option('--runtime-args <args>', 'global flags Docker passes to tsvisor, space-separated (e.g. "--debug --strace=/tmp/s")')
    .action(async (flags: { configFile: string; runtime: string; runtimeArgs?: string }, cmd: Command) => {
      await runOci(cmd, `installing into \`${flags.configFile}\``, async () => {
        const { install } = await import('../oci/install.js');
        install({ configFile: flags.configFile, runtime: flags.runtime, path: realpathSync(bin), runtimeArgs: flags.runtimeArgs?.split(/\s+/).filter(Boolean) ?? [] });
        process.stdout.write(`runtime \`${flags.runtime}\` added to ${flags.configFile}; restart dockerd to use it\n`);
      });
    });
}
