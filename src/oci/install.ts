// `tsvisor install`: registers tsvisor as a Docker runtime in daemon.json, keeping every
// other key as it is. Running it twice gives the same file.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeJsonAtomic } from './state.js';

export interface InstallOptions {
  configFile: string;
  runtime: string;
  /** Absolute path of bin/tsvisor. */
  path: string;
  runtimeArgs: string[];
}

/** Returns the new content of the file (also written). */
export function install(o: InstallOptions): Record<string, unknown> {
  let config: Record<string, unknown> = {};
  if (existsSync(o.configFile)) {
    const text = readFileSync(o.configFile, 'utf8');
    if (text.trim() !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new Error(`\`${o.configFile}\`: not JSON: ${(err as Error).message}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`\`${o.configFile}\`: not a JSON object`);
      config = parsed as Record<string, unknown>;
    }
  }
  const runtimes = config.runtimes ?? {};
  if (typeof runtimes !== 'object' || runtimes === null || Array.isArray(runtimes)) throw new Error(`\`${o.configFile}\`: \`runtimes\` is not an object`);
  const entry: Record<string, unknown> = { path: o.path };
  if (o.runtimeArgs.length > 0) entry.runtimeArgs = o.runtimeArgs;
  config.runtimes = { ...(runtimes as Record<string, unknown>), [o.runtime]: entry };
  mkdirSync(dirname(o.configFile), { recursive: true });
  writeJsonAtomic(o.configFile, config);
  return config;
}
