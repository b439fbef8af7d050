// `tsvisor events [--stats] [--interval D] ID`: JSON lines as runc prints them:
// {"type":"stats","id":…,"data":{…}}, once with --stats, else every interval until the
// container stops.
import { Command } from 'commander';
import { UsageError } from './errors.js';
import type { Container } from '../oci/state.js';
import { runOci } from './oci.js';
import { sleep } from '../oci/sleep.js';

/** Go-style durations as runc takes them: 5s, 500ms, 1m. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (!m) throw new UsageError(`--interval \`${s}\`: want a duration such as 5s or 500ms`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

/** From the cgroup when the container has one, else from /proc. */
async function statsOf(c: Container): Promise<Record<string, unknown>> {
  const { cgroupOf, pids } = await import('../oci/container.js');
  const { cgroupStats, stats } = await import('../oci/stats.js');
  const cg = cgroupOf(c);
  return cg ? cgroupStats(cg) : stats(pids(c));
}

export function eventsCommand(): Command {
  return new Command('events')
    .description('print container resource usage as JSON lines')
    .option('--stats', 'print the statistics once and exit', false)
    .option('--interval <duration>', 'interval between statistics', '5s')
    .argument('<id>', 'container id')
    .action(async (id: string, flags: { stats: boolean; interval: string }, cmd: Command) => {
      await runOci(cmd, `events of container \`${id}\``, async (g) => {
        const interval = parseDuration(flags.interval);
        const { state } = await import('../oci/container.js');
        for (;;) {
          const c = state(g, id);
          if (c.status === 'stopped') throw new Error('container is stopped');
          process.stdout.write(`${JSON.stringify({ type: 'stats', id, data: await statsOf(c) })}\n`);
          if (flags.stats) return;
          await sleep(interval);
        }
      });
    });
}
