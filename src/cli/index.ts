// The tsvisor command line: every command registered from one list. A command's file only
// declares its flags; its action imports what does the work (the sandbox, the OCI layer)
// when it runs, so that starting one command does not load the others' modules.
import { Command } from 'commander';
import { doCommand } from './do.js';
import { fail } from './errors.js';
import { createCommand } from './create.js';
import { startCommand } from './start.js';
import { runCommand } from './run.js';
import { stateCommand } from './state.js';
import { killCommand } from './kill.js';
import { deleteCommand } from './delete.js';
import { listCommand } from './list.js';
import { psCommand } from './ps.js';
import { pauseCommand } from './pause.js';
import { resumeCommand } from './resume.js';
import { eventsCommand } from './events.js';
import { updateCommand } from './update.js';
import { specCommand } from './spec.js';
import { featuresCommand } from './features.js';
import { waitCommand } from './wait.js';
import { execCommand } from './exec.js';
import { installCommand } from './install.js';
import { addGlobalOptions } from './oci.js';
import { syscallsCommand } from './syscalls.js';

const commands = [doCommand, syscallsCommand, createCommand, startCommand, runCommand, stateCommand, killCommand, deleteCommand, listCommand, psCommand, pauseCommand, resumeCommand, eventsCommand, updateCommand, specCommand, featuresCommand, waitCommand, execCommand, installCommand];

export function program(): Command {
  const p = new Command('tsvisor')
    .description('an application kernel in user space: run Linux programs in a sandbox')
    .version(process.env.npm_package_version ?? '0.1.0', '-v, --version')
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  addGlobalOptions(p);
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
