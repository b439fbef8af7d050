// The sandbox's view of /proc. The launcher mounts a procfs of the sandbox's own pid
// namespace (read-only) at /proc, so pids there are already virtual and host processes do
// not exist. The sentry is still the gate: every open that lands on procfs is checked
// against this allow-list, because the sentry opens files with its own namespaces (a
// sysctl under /proc/sys/net would show the host's network namespace) and because procfs
// exposes files no sandboxed program needs (kcore, kallsyms, sysrq-trigger, pid/mem).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Files readable in /proc/<pid>/ and /proc/<pid>/task/<tid>/. */
const PER_TASK_FILES = new Set([
  'status', 'stat', 'statm', 'cmdline', 'comm', 'environ', 'maps', 'limits', 'cgroup',
  'oom_score', 'oom_score_adj', 'mounts', 'mountinfo', 'io', 'wchan', 'auxv', 'sched',
  'schedstat', 'loginuid', 'sessionid', 'personality', 'timerslack_ns', 'smaps', 'smaps_rollup',
  'uid_map', 'gid_map', 'setgroups', 'numa_maps', 'coredump_filter', 'cpuset', 'arch_status',
  'timers', 'autogroup', 'oom_adj', 'projid_map', 'timens_offsets', 'ksm_merging_pages', 'ksm_stat',
  // Page flags only: the PFNs need CAP_SYS_ADMIN in the opener, which the sentry drops
  // while it acts for a task.
  'pagemap',
]);

/** Links in /proc/<pid>/, for stat and readlink of the links themselves: an open that
 * follows one lands where it leads (the sentry follows the task's own through the host's
 * /proc; the walk refuses any other, RESOLVE_NO_MAGICLINKS). */
const PER_TASK_LINKS = new Set(['exe', 'cwd', 'root']);

/** Directories listable inside /proc/<pid>/. attr holds the LSM labels, map_files the
 * links to mapped files, which the kernel itself lets only CAP_SYS_ADMIN follow. */
const PER_TASK_DIRS = new Set(['fd', 'fdinfo', 'task', 'ns', 'net', 'attr', 'map_files']);

/** Top-level files, directories and links (self, thread-self, net: lstat and readlink
 * see them) besides /proc/sys: what monitoring tools and libraries read (psutil reads
 * vmstat and diskstats, PSI users pressure/), about as much as Docker shows. Left out:
 * kernel addresses and memory (kallsyms, kcore, kpage*, iomem, ioports, vmallocinfo,
 * slabinfo, pagetypeinfo, timer_list, sched_debug), the kernel log and keyrings (kmsg,
 * keys, key-users) and hardware buses Docker masks too (acpi, bus, irq, scsi, asound).
 * sysvipc's files list the IPC objects of the opener's namespace: see JOINED_NAMESPACE. */
const GLOBAL = new Set([
  'cpuinfo', 'meminfo', 'uptime', 'loadavg', 'version', 'filesystems', 'stat', 'mounts', 'swaps',
  'self', 'thread-self', 'net', 'cmdline', 'vmstat', 'cgroups', 'devices', 'diskstats',
  'partitions', 'interrupts', 'softirqs', 'locks', 'crypto', 'consoles', 'misc', 'zoneinfo',
  'buddyinfo', 'execdomains', 'config.gz', 'pressure', 'pressure/cpu', 'pressure/memory',
  'pressure/io', 'pressure/irq', 'tty', 'tty/drivers', 'tty/ldiscs', 'sysvipc',
]);

/** The sysctl trees readable beneath /proc/sys: read-only, as Docker leaves them. */
const SYSCTL_TREES = ['kernel', 'vm', 'fs'];

/**
 * Files that a namespace other than the uts one scopes: the kernel looks them up in the
 * opener's namespaces. These are the sysctls of the network and IPC namespaces and the
 * IPC objects listed in sysvipc/. The sentry opens them from a thread that has joined the
 * task's namespaces (SandboxFs.openSysctl); through the sandbox's /proc the sentry would
 * see its own, the host's. The pid namespace's (ns_last_pid) cannot be joined so: it
 * stays out. Uts sysctls (hostname, domainname) are read in the reader's namespace: the
 * app sees its own.
 */
const JOINED_NAMESPACE = /^(sys\/(net(\/|$)|kernel\/(shm|msg|sem|auto_msgmni)|fs\/mqueue(\/|$))|sysvipc\/(msg|sem|shm)$)/;
const OPENER_NAMESPACED = /^sys\/kernel\/ns_last_pid$/;

/** Whether REL (a path in /proc) is a file of the task's network or IPC namespace. */
export function namespacedProcFile(rel: string): boolean {
  return JOINED_NAMESPACE.test(rel);
}

function sysctlAllowed(rel: string): boolean {
  if (rel === 'sys') return true;
  const tree = rel.split('/')[1]!;
  return SYSCTL_TREES.includes(tree) && !OPENER_NAMESPACED.test(rel) && !JOINED_NAMESPACE.test(rel);
}

/**
 * The entries of /proc and /proc/sys that the sandbox does not see, as this kernel has
 * them. The launcher masks each (`--mask`: an empty read-only file or directory, as Docker
 * masks kcore and its like), so that what a listing of /proc shows can be looked at too:
 * `ls -l /proc` and `find /proc/sys` run without errors. Opens of them then reach the
 * mask, no procfs file.
 */
export function maskedProcPaths(proc = '/proc'): string[] {
  const names = (dir: string): string[] => {
    try {
      return readdirSync(join(proc, dir));
    } catch {
      return [];
    }
  };
  const hidden = (rel: string): boolean => !procAllowed(rel) && !JOINED_NAMESPACE.test(rel);
  const out: string[] = [];
  for (const name of names('')) if (!/^\d+$/.test(name) && hidden(name)) out.push(name);
  for (const name of names('sys')) {
    const rel = `sys/${name}`;
    if (hidden(rel)) out.push(rel);
    else for (const leaf of names(rel)) if (hidden(`${rel}/${leaf}`)) out.push(`${rel}/${leaf}`);
  }
  return out.map((rel) => `/proc/${rel}`);
}

/**
 * Whether the app may look at this procfs path without reading it (stat, lstat: an
 * O_PATH open, which runs none of the file's own code): what procAllowed allows, and
 * every entry of a task's directory, so that `ls -l /proc/<pid>` lists what it shows, as
 * natively. Opening one (mem, stack, syscall...) gives an empty file, as the masked
 * entries of /proc are (SandboxFs.maskedProcFile).
 */
export function procLookAllowed(rel: string): boolean {
  return procAllowed(rel) || /^\d+(\/task\/\d+)?\/[^/]+$/.test(rel);
}

/** Whether the app may open this procfs path (relative to the proc root, no leading
 * slash; '' is /proc itself). Opens are read-only: the mount is read-only. */
export function procAllowed(rel: string): boolean {
  if (rel === '' || GLOBAL.has(rel)) return true;
  if (rel.startsWith('sysvipc/')) return JOINED_NAMESPACE.test(rel);
  if (rel === 'sys' || rel.startsWith('sys/')) return sysctlAllowed(rel);
  const parts = rel.split('/');
  if (!/^\d+$/.test(parts[0]!)) return false;
  let rest = parts.slice(1);
  if (rest[0] === 'task' && rest.length >= 2 && /^\d+$/.test(rest[1]!)) rest = rest.slice(2);
  if (rest.length === 0) return true;
  if (rest.length === 1) return PER_TASK_FILES.has(rest[0]!) || PER_TASK_DIRS.has(rest[0]!) || PER_TASK_LINKS.has(rest[0]!);
  // /proc/<pid>/fdinfo/<n> is plain text about the task's own fds; fd/<n> and ns/<name>
  // are links, as above.
  if (rest.length === 2 && (rest[0] === 'fdinfo' || rest[0] === 'fd')) return /^\d+$/.test(rest[1]!);
  if (rest.length === 2 && (rest[0] === 'attr' || rest[0] === 'map_files')) return true;
  if (rest.length === 2 && rest[0] === 'ns') return true;
  // /proc/<pid>/net/... describes the task's own network namespace (netstat, ss, ip).
  return rest[0] === 'net' && rest.length <= 3;
}

