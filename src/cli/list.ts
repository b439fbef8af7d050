// `tsvisor list [--format table|json] [-q]`: the containers under --root, as runc lists them.
import { Command, Option } from 'commander';
import { runOci } from './oci.js';

/** Columns padded like Go's tabwriter (minwidth 12, padding 1) in runc's list. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(12, ...rows.map((r) => r[i]!.length + 1)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('')).join('\n') + '\n';
}

export function listCommand(): Command {
  return new Command('list')
    .alias('ls')
    .description('list the containers')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-q, --quiet', 'print only the ids', false)
    .action(async (flags: { format: string; quiet: boolean }, cmd: Command) => {
      await runOci(cmd, 'listing containers', async (g) => {
        const { listContainers } = await import('../oci/state.js');
        const states = listContainers(g.root).map((c) => c.ociState());
        if (flags.quiet) {
          process.stdout.write(states.map((s) => `${s.id}\n`).join(''));
        } else if (flags.format === 'json') {
          process.stdout.write(`${JSON.stringify(states)}\n`);
        } else {
          const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
          for (const s of states) rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
          process.stdout.write(table(rows));
        }
      });
    });
}
