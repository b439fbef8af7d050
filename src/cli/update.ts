// `tsvisor update [--resources FILE|-] ID`: change a container's resource limits. The
// limits live in a cgroup, which tsvisor does not create yet: the request is validated
// and then refused with that reason, rather than pretending to apply it.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { state } from '../oci/container.js';
import { runOci } from './oci.js';

export function updateCommand(): Command {
  return new Command('update')
    .description('update the resource limits of a container')
    .option('-r, --resources <file>', 'linux.resources JSON, `-` for stdin')
    .argument('<id>', 'container id')
    .action(async (id: string, flags: { resources?: string }, cmd: Command) => {
      await runOci(cmd, `updating container \`${id}\``, async (g) => {
        const c = state(g, id);
        if (c.status === 'stopped') throw new Error('container is stopped');
        if (flags.resources) {
          const text = readFileSync(flags.resources === '-' ? 0 : flags.resources, 'utf8');
          const { validateResources } = await import('../oci/validate.js');
          const errors = validateResources(JSON.parse(text));
          if (errors.length > 0) throw new Error(`resources: ${errors.join('; ')}`);
        }
        throw new Error('resource limits need a cgroup, and tsvisor does not place containers in one yet');
      });
    });
}
