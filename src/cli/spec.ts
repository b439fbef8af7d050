// `tsvisor spec [--bundle DIR] [--rootless]`: write a default config.json, as runc does;
// an existing one is never overwritten.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { runOci } from './oci.js';

export function specCommand(): Command {
  return new Command('spec')
    .description('write a default config.json')
    .option('-b, --bundle <dir>', 'where to write config.json', '.')
    .option('--rootless', 'a spec for a container run without root', false)
    .action(async (flags: { bundle: string; rootless: boolean }, cmd: Command) => {
      const path = join(flags.bundle, 'config.json');
      await runOci(cmd, `writing \`${path}\``, async () => {
        if (existsSync(path)) throw new Error('file exists; remove it first');
        const { defaultSpec } = await import('../oci/defaults.js');
        const spec = defaultSpec({ rootless: flags.rootless, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
        writeFileSync(path, `${JSON.stringify(spec, null, '\t')}\n`, { flag: 'wx', mode: 0o666 });
      });
    });
}
