// The sandbox's view of /proc. The launcher mounts a procfs of the sandbox's own pid
// namespace (read-only) at /proc, so pids there are already virtual and host processes do
// not exist. The sentry is still the gate: every open that lands on procfs is checked
// against this allow-list, because the sentry opens files with its own namespaces (a
// sysctl under /proc/sys/net would show the host's network namespace) and because procfs
// exposes files no sandboxed program needs (kcore, kallsyms, sysrq-trigger, pid/mem).

/** Files readable in /proc/<pid>/ and /proc/<pid>/task/<tid>/. */
const PER_TASK_FILES = new Set([
  'status', 'stat', 'statm', 'cmdline', 'comm', 'environ', 'maps', 'limits', 'cgroup',
  'oom_score', 'oom_score_adj', 'mounts', 'mountinfo', 'io', 'wchan', 'auxv', 'sched',
  'schedstat', 'loginuid', 'sessionid', 'personality', 'timerslack_ns',
]);

/** Directories listable inside /proc/<pid>/. */
const PER_TASK_DIRS = new Set(['fd', 'fdinfo', 'task', 'ns', 'net']);

/** Top-level files and directories. /proc/sys entries are uts-namespaced or global
 * read-only values: uts sysctls are read in the reader's namespace, so the app sees its
 * own hostname. (Net and IPC sysctls are looked up in the opener's namespaces, the
 * sentry's, so they are left out.) */
const GLOBAL = new Set([
  'cpuinfo', 'meminfo', 'uptime', 'loadavg', 'version', 'filesystems', 'stat', 'mounts',
  'swaps', 'sys', 'sys/kernel', 'sys/kernel/hostname', 'sys/kernel/domainname',
  'sys/kernel/osrelease', 'sys/kernel/ostype', 'sys/kernel/version', 'sys/kernel/pid_max',
  'sys/kernel/ngroups_max', 'sys/kernel/cap_last_cap', 'sys/kernel/random',
  'sys/kernel/random/uuid', 'sys/kernel/random/boot_id', 'sys/kernel/random/entropy_avail',
  'sys/kernel/threads-max', 'sys/kernel/overflowuid', 'sys/kernel/overflowgid',
  'sys/vm', 'sys/vm/overcommit_memory', 'sys/vm/max_map_count', 'sys/fs',
  'sys/fs/file-max', 'sys/fs/nr_open', 'sys/fs/pipe-max-size',
]);

/** Whether the app may open this procfs path (relative to the proc root, no leading
 * slash; '' is /proc itself). Opens are read-only: the mount is read-only. */
export function procAllowed(rel: string): boolean {
  if (rel === '' || GLOBAL.has(rel)) return true;
  const parts = rel.split('/');
  if (!/^\d+$/.test(parts[0]!)) return false;
  let rest = parts.slice(1);
  if (rest[0] === 'task' && rest.length >= 2 && /^\d+$/.test(rest[1]!)) rest = rest.slice(2);
  if (rest.length === 0) return true;
  if (rest.length === 1) return PER_TASK_FILES.has(rest[0]!) || PER_TASK_DIRS.has(rest[0]!);
  // /proc/<pid>/fdinfo/<n> is plain text about the task's own fds.
  if (rest.length === 2 && rest[0] === 'fdinfo') return /^\d+$/.test(rest[1]!);
  // /proc/<pid>/net/... describes the task's own network namespace (netstat, ss, ip).
  return rest[0] === 'net' && rest.length <= 3;
}

/** Host /sys files a sandbox may read: what runtimes probe to size thread pools. */
export const SYS_FILES = new Set([
  '/sys/devices/system/cpu/online',
  '/sys/devices/system/cpu/possible',
  '/sys/devices/system/cpu/present',
  '/sys/devices/system/cpu/kernel_max',
]);
