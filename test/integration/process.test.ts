// The process model: identity changes as Linux makes them, pid 1 with or without init, and
// job control on a pty.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { native, program, repo, scratch, tsvisor } from '../helpers.js';

it('changes identity as natively: seteuid and back, setuid for good, per thread', () => {
  const identity = program('identity', ['-pthread']);
  const outside = scratch();
  try {
    // The same path in both runs, so the output compares equal; inside, writes stay in the
    // sandbox's private layer.
    const dir = join(outside, 'run');
    chmodSync(outside, 0o755); // uid 1000 must reach DIR
    mkdirSync(dir);
    const nat = native([identity, dir]);
    expect(nat.status, nat.stderr).toBe(0);
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    const r = tsvisor(['do', '--', identity, dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(nat.stdout);
    expect(r.status).toBe(0);
    // The lines that make the comparison meaningful.
    expect(r.stdout).toContain('user: read secret: EACCES');
    expect(r.stdout).toContain('user: new file owner 1000:1000');
    expect(r.stdout).toContain('back: read secret: ok');
    expect(r.stdout).toContain('setuid(0): EPERM');
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

it('follows another process\'s /proc/<pid> links as Linux does: same ids yes, another user no', () => {
  const peerfd = program('peerfd');
  const dir = scratch();
  chmodSync(dir, 0o755);
  const nat = native([peerfd], { cwd: dir });
  expect(nat.status, nat.stderr).toBe(0);
  const r = tsvisor(['do', '--cwd', dir, '--', peerfd]);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(nat.stdout);
  expect(r.stdout).toContain('-- same user\nstat fd/3: ok\nfd/3 is a file of 9 bytes\nopen fd/3: ok\nread: peer data\n');
  expect(r.stdout).toContain('-- another user\nstat fd/3: EACCES\n');
});

it('runs the program under an init by default, and as pid 1 with --no-init', () => {
  const script = 'echo pid=$$; tr "\\0" " " < /proc/1/cmdline; echo';
  const withInit = tsvisor(['do', '--', '/bin/sh', '-c', script]);
  expect(withInit.status, withInit.stderr).toBe(0);
  // Init shows no host path (its own command line names the staging dir and cgroups).
  expect(withInit.stdout).toMatch(/^pid=2\ntsvisor-init *\n$/);
  const noInit = tsvisor(['do', '--no-init', '--', '/bin/sh', '-c', script]);
  expect(noInit.status, noInit.stderr).toBe(0);
  expect(noInit.stdout).toBe(`pid=1\n/bin/sh -c ${script} \n`);
});

it('ends with pid 1 exit status and takes the rest of the sandbox with it under --no-init', () => {
  // A background child outlives the shell: pid 1's exit must end it, and the run.
  const r = tsvisor(['do', '--no-init', '--', '/bin/sh', '-c', 'sleep 600 & exit 7'], { timeout: 20_000 });
  expect(r.status).toBe(7);
});

it('gives an interactive bash on a pty job control: Ctrl-Z, bg, jobs, kill', () => {
  const script = join(repo, 'test', 'programs', 'jobctl.py');
  const nat = native(['python3', script], { timeout: 60_000 });
  expect(nat.status, nat.stderr).toBe(0);
  const r = tsvisor(['do', '--', 'python3', script], { timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(nat.stdout);
  expect(r.stdout).toContain('Stopped True');
}, 90_000);

it('survives a storm of 2000 short processes and reaps double-forked orphans', () => {
  // Waves of 50 concurrent children, as a parallel build makes them; then daemons that
  // double-fork and exit: init must reap them, leaving no zombie behind.
  const script = [
    'for i in $(seq 40); do for j in $(seq 50); do /bin/true & done; wait; done',
    'for i in $(seq 20); do (sleep 0.1 &); done',
    'sleep 1',
    'echo zombies $(grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l)',
  ].join('; ');
  const r = tsvisor(['do', '--', '/bin/bash', '-c', script], { timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('zombies 0\n');
  expect(r.status).toBe(0);
}, 150_000);

it('opens the task\'s own terminal as /dev/tty, and ENXIO without one, as natively', () => {
  const script = "script -qc 'echo via-tty > /dev/tty; tty | sed s/[0-9]*$//' /dev/null; setsid sh -c 'echo x > /dev/tty' < /dev/null 2>&1 | sed 's/^[^:]*: [0-9]*: //'";
  const nat = native(['sh', '-c', script]);
  const r = tsvisor(['do', '--', 'sh', '-c', script]);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(nat.stdout);
  expect(r.stdout).toContain('via-tty');
});

it('shows the memory limit as the machine\'s memory: /proc/meminfo, sysinfo, free', () => {
  const r = tsvisor(['do', '--memory', '256m', '--', 'sh', '-c', 'head -1 /proc/meminfo; free -m | sed -n 2p | awk \'{print $2}\'; python3 -c "import os; print(os.sysconf(\'SC_PHYS_PAGES\') * os.sysconf(\'SC_PAGE_SIZE\') >> 20)"']);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/^MemTotal: +262144 kB\n256\n256\n$/);
});

it('shows the CPU topology and its own cgroups, read-only, in /sys', () => {
  const cpus = 'cat /sys/devices/system/cpu/online; getconf _NPROCESSORS_CONF; lscpu -p=CPU,CORE,SOCKET | grep -v "^#"';
  const nat = native(['sh', '-c', cpus]);
  expect(nat.status, nat.stderr).toBe(0);
  const topology = tsvisor(['do', '--', 'sh', '-c', cpus]);
  expect(topology.stderr).toBe('');
  expect(topology.stdout).toBe(nat.stdout);
  // v2 shows the sandbox's cgroup at the top, v1 one directory per hierarchy, as Docker.
  const limits = [
    'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
    'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max',
    'f=$(ls /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null); echo 5 2>&1 > $f | sed "s/.*: //"',
    // Every cgroup mount is rooted at the sandbox's own cgroup, as /proc/self/cgroup says.
    'awk \'$9 ~ /^cgroup/ && $4 != "/" { print "bad root: " $0 }\' /proc/self/mountinfo',
    'grep -v "^[0-9]*:[^:]*:/$" /proc/self/cgroup',
    'ls /sys',
    // The sandbox's sysfs, as mount tables and statfs show it (a tmpfs of host trees).
    'findmnt -n -o FSTYPE,SOURCE /sys; grep " /sys " /proc/mounts | cut -d" " -f1-3; stat -f -c %T /sys /sys/fs',
  ].join('; ');
  const r = tsvisor(['do', '--memory', '256m', '--pids', '100', '--', 'sh', '-c', limits]);
  // pids.max counts the launcher's own tasks besides the 100 (sandbox-cgroup.ts).
  expect(r.stdout).toMatch(/^268435456\n10\d\nRead-only file system\ndevices\nfs\nkernel\nsysfs +sysfs\nsysfs \/sys sysfs\nsysfs\nsysfs\n$/);
});

it('lets a process write its own OOM score and name through its /proc, and only its own', () => {
  const script = [
    // The shell raises its score: cat, its child, inherits it.
    'echo 500 > /proc/self/oom_score_adj && cat /proc/self/oom_score_adj',
    // Lowering it needs CAP_SYS_RESOURCE, which a container root lacks: the kernel refuses.
    'python3 -c "import os; os.write(os.open(\'/proc/self/oom_score_adj\', os.O_WRONLY), b\'-100\')" 2>&1 | tail -1 | cut -d: -f1',
    'python3 -c "import os; open(\'/proc/self/comm\', \'w\').write(\'renamed\'); print(open(\'/proc/self/comm\').read().strip()); open(f\'/proc/self/task/{os.getpid()}/comm\', \'w\').write(\'again\'); print(open(\'/proc/thread-self/comm\').read().strip())"',
    'echo 600 2>&1 > /proc/1/oom_score_adj | sed "s/.*: //"',
  ].join('; ');
  const r = tsvisor(['do', '--', 'sh', '-c', script]);
  expect(r.stdout).toBe('500\nPermissionError\nrenamed\nagain\nRead-only file system\n');
});

it('interrupts blocking calls as natively: EINTR without SA_RESTART, restarts with it', () => {
  // read, wait4, accept and nanosleep block in the kernel; a FIFO open blocks in the
  // sentry, which ends it (ERESTARTSYS) when a signal comes, without posing as the FIFO's
  // other end.
  const eintr = program('eintr');
  const nat = native([eintr]);
  expect(nat.status, nat.stderr).toBe(0);
  const r = tsvisor(['do', '--', eintr], { timeout: 30_000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(nat.stdout);
  expect(r.stdout).toContain('fifo open plain: EINTR');
  expect(r.stdout).toContain('fifo reopen plain: returned');
});

it('carries out each call once, whatever signals come meanwhile', () => {
  // A signal after the sentry took a call must neither undo its answer (EINTR for a
  // mkdir that happened) nor repeat it (SA_RESTART: EEXIST on the second try).
  const sigcalls = program('sigcalls');
  const dir = scratch();
  const nat = native([sigcalls], { cwd: dir });
  expect(nat.stdout).toBe('wrong results: 0, files created: 3000, signals: many\n');
  const r = tsvisor(['do', '--mount', `${dir}:${dir}`, '--cwd', dir, '--', sigcalls], { timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(nat.stdout);
  rmSync(dir, { recursive: true });
});
