// `tsvisor update [--resources FILE|-] ID`: change a running container's resource limits.
// They live in the sandbox's cgroup (src/sandbox/cgroup.ts): memory.limit, pids.limit and
// cpu.quota/period are applied there (src/oci/resources.ts); fields a cgroup here cannot
// honour (cpu.shares, blockIO...) are logged as ignored, as at create.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runOci } from './oci.js';

export function updateCommand(): Command {
  return new Command('update')
    .description('update the resource limits of a container')
    .option('-r, --resources <file>', 'linux.resources JSON, `-` for stdin')
    .argument('<id>', 'container id')
    .action(async (id: string, flags: { resources?: string }, cmd: Command) => {
      await runOci(cmd, `updating container \`${id}\``, async (g) => {
        const { state, update } = await import('../oci/container.js');
        const c = state(g, id);
        if (c.status === 'stopped') throw new Error('container is stopped');
        if (!flags.resources) return;
        const text = readFileSync(flags.resources === '-' ? 0 : flags.resources, 'utf8');
        const { validateResources } = await import('../oci/validate.js');
        const resources = JSON.parse(text) as unknown;
        const errors = validateResources(resources);
        if (errors.length > 0) throw new Error(`resources: ${errors.join('; ')}`);
        const ignored = await update(g, id, resources);
        if (ignored.length > 0 && g.log.file) new (await import('../oci/log.js')).Log(g.log).debug(`update of \`${id}\`: ignoring ${ignored.join(', ')}`);
      });
    });
}
