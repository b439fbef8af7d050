// `tsvisor features`: what this runtime implements, as JSON (runc's shape).
import { Command } from 'commander';
import { runOci } from './oci.js';

export function featuresCommand(): Command {
  return new Command('features')
    .description('print the features this runtime implements, as JSON')
    .action(async (_flags: unknown, cmd: Command) => {
      await runOci(cmd, 'printing features', async () => {
        const { features } = await import('../oci/features.js');
        process.stdout.write(`${JSON.stringify(features(), null, '    ')}\n`);
      });
    });
}
