// `tsvisor do` in a user namespace of the caller's own: as an unprivileged user (always so),
// and as root with --rootless (launcher `--userns`, addon/launcher/userns.c); and the OCI
// runtime without root, on a bundle from `tsvisor spec --rootless`.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyboxRoot, scratch, skipBecause, tsvisor, tsvisorBin } from '../helpers.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

/** Runs ARGV as uid/gid 65534 (setpriv), from / so the cwd is one nobody may enter. */
function asNobody(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('setpriv', [...NOBODY, ...argv], { encoding: 'utf8', cwd: '/', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Why an unprivileged sandbox cannot be tried here, or undefined when it can. */
function whyNotUnprivileged(): string | undefined {
  if (process.getuid?.() !== 0) return 'the tests do not run as root, so cannot switch to uid 65534';
  const probe = asNobody(['unshare', '--user', '--map-root-user', 'true']);
  if (probe.status !== 0) {
    return `the kernel refuses unprivileged user namespaces (unshare as uid 65534: ${probe.stderr.trim() || `exit ${probe.status}`})`;
  }
  const read = asNobody([process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(tsvisorBin)}, 4)`]);
  if (read.status !== 0) return `node or ${tsvisorBin} is not readable by uid 65534`;
  return undefined;
}

const unprivileged = skipBecause('rootless.test.ts (as an unprivileged user)', whyNotUnprivileged());

describe('tsvisor do without root', () => {
  it.skipIf(unprivileged !== undefined)('runs as an unprivileged user, as root of its own user namespace', () => {
    const r = asNobody([process.execPath, tsvisorBin, 'do', '--', '/bin/sh', '-c', 'id -u; f=$(mktemp) && echo hi > $f && cat $f']);
    expect(r.stdout).toBe('0\nhi\n');
    expect(r.status).toBe(0);
    // The default limits need a cgroup this user cannot make: one warning, not a failure.
    expect(r.stderr).toMatch(/^tsvisor: warning: resource limits unsupported here .*\n$/);
  });

  it.skipIf(unprivileged !== undefined)('shows owners as its user namespace maps them, as unshare -r does', () => {
    // A host file of root's is nobody's inside; what the sandbox's root makes is its own;
    // an id the namespace does not map cannot be given away.
    const script = 'grep -E "^(Uid|Gid):" /proc/self/status; stat -c "%u %g" /etc/passwd; echo > /tmp/mine; stat -c "%u %g" /tmp/mine; chown 0:0 /tmp/mine && echo chown-root; chown 5 /tmp/mine 2>/dev/null || echo chown-5 refused';
    const nat = asNobody(['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', `mount -t tmpfs none /tmp && ${script}`]);
    expect(nat.stdout).toBe('Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n65534 65534\n0 0\nchown-root\nchown-5 refused\n');
    const r = asNobody([process.execPath, tsvisorBin, 'do', '--', '/bin/sh', '-c', script]);
    expect(r.stdout).toBe(nat.stdout);
  });

  it.skipIf(unprivileged !== undefined)('fails clearly when a limit is asked for that needs a cgroup', () => {
    const r = asNobody([process.execPath, tsvisorBin, 'do', '--memory', '64m', '--', '/bin/true']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cgroup/);
  });

  it.skipIf(unprivileged !== undefined)('runs an OCI bundle from `spec --rootless`, as runc does without root', () => {
    const base = scratch('tsvisor-rootless-oci-');
    const rootfs = busyboxRoot();
    try {
      expect(rootfs).not.toBeNull();
      const bundle = join(base, 'bundle');
      mkdirSync(bundle);
      spawnSync('chown', ['-R', '65534:65534', base, rootfs!]);
      chmodSync(base, 0o755);
      expect(asNobody([process.execPath, tsvisorBin, 'spec', '--rootless', '--bundle', bundle]).status).toBe(0);
      const config = join(bundle, 'config.json');
      const spec = JSON.parse(readFileSync(config, 'utf8'));
      spec.root = { path: rootfs, readonly: false };
      spec.process.terminal = false;
      spec.process.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map; touch /made && stat -c "%u %g" /made'];
      writeFileSync(config, JSON.stringify(spec));
      const r = asNobody([process.execPath, tsvisorBin, '--root', join(base, 'state'), 'run', '--bundle', bundle, 'rootless']);
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0', '0 65534 1', '0 0', '']);
      expect(r.status).toBe(0);
      expect(statSync(join(rootfs!, 'made')).uid).toBe(65534);
      // Maps other than its own ids need root.
      spec.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      writeFileSync(config, JSON.stringify(spec));
      const other = asNobody([process.execPath, tsvisorBin, '--root', join(base, 'state'), 'run', '--bundle', bundle, 'rootless2']);
      expect(other.stderr).toMatch(/`linux.uidMappings`: not root, the runtime can map only its own ids/);
      expect(other.status).not.toBe(0);
    } finally {
      rmSync(base, { recursive: true, force: true });
      if (rootfs) rmSync(rootfs, { recursive: true, force: true });
    }
  });

  it('runs in a user namespace as root with --rootless', () => {
    const r = tsvisor(['do', '--rootless', '--', '/bin/sh', '-c', 'id -u; f=$(mktemp) && echo hi > $f && cat $f'], { cwd: '/' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0\nhi\n');
    expect(r.status).toBe(0);
  });
});
