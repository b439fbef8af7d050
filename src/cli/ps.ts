// `tsvisor ps [--format table|json] ID [PS_ARGS...]`: the container's processes. With
// --format json, the host pids of every one of them, which `docker top` needs.
import { Command, Option } from 'commander';
import { runOci } from './oci.js';

export function psCommand(): Command {
  return new Command('ps')
    .description('list the processes of a container')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .argument('<id>', 'container id')
    .argument('[ps-args...]', 'arguments for ps(1) (default: -ef)')
    .action(async (id: string, psArgs: string[], flags: { format: string }, cmd: Command) => {
      await runOci(cmd, `listing the processes of container \`${id}\``, async (g) => {
        const { pids, psTable, state } = await import('../oci/container.js');
        const c = state(g, id);
        if (flags.format === 'json') process.stdout.write(`${JSON.stringify(pids(c))}\n`);
        else process.stdout.write(psTable(c, psArgs));
      });
    });
}
