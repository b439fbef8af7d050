// The tsvisor command line: every command registered from one list.
import { Command } from 'commander';
import { doCommand } from './do.js';
import { fail } from './errors.js';
import { syscallsCommand } from './syscalls.js';

const commands = [doCommand, syscallsCommand];

export function program(): Command {
  const p = new Command('tsvisor')
    .description('an application kernel in user space: run Linux programs in a sandbox')
    .version(process.env.npm_package_version ?? '0.1.0', '-v, --version')
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  for (const make of commands) p.addCommand(make().passThroughOptions().exitOverride());
  return p;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    const code = (err as { exitCode?: unknown }).exitCode;
    // commander already printed its own usage errors; help and version exit 0.
    if ((err as { code?: string }).code?.startsWith('commander.')) process.exitCode = typeof code === 'number' ? (code === 1 ? 2 : code) : 2;
    else process.exitCode = fail(err);
  }
}
