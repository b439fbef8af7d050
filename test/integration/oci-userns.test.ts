// OCI user namespaces (linux.uidMappings/gidMappings), as Docker's userns-remap uses them:
// the container's ids are a range of host ids, and what its root may do is what Linux
// allows root in such a namespace. The sentry's file calls for it run inside the namespace
// (addon/actor.cc), so capabilities count only over files whose owners the namespace maps.
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch } from '../helpers.js';
import { OciHarness } from '../oci-harness.js';

const h = new OciHarness();
let rootfs: string;
let volume: string;
const BASE = 100000;
const map = [{ containerID: 0, hostID: BASE, size: 65536 }];

/** Every file beneath DIR owned by BASE + its owner, as userns-remap leaves an image. */
function remap(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    lchownSync(path, BASE + st.uid, BASE + st.gid);
    if (st.isDirectory()) remap(path);
  }
}

beforeAll(() => {
  ({ rootfs } = h.setUp('tsvisor-oci-userns-'));
  remap(rootfs);
  chownSync(rootfs, BASE, BASE);
  // Files of an owner the namespace does not map: host root's.
  writeFileSync(join(rootfs, 'hostsecret'), 'secret\n', { mode: 0o600 });
  writeFileSync(join(rootfs, 'hostpublic'), 'public\n', { mode: 0o644 });
  mkdirSync(join(rootfs, 'work'));
  chownSync(join(rootfs, 'work'), BASE + 1000, BASE + 1000);
  volume = scratch('tsvisor-userns-vol-');
  h.made.push(volume);
  writeFileSync(join(volume, 'users'), 'users\n', { mode: 0o660 });
  chownSync(volume, BASE, BASE);
  chmodSync(volume, 0o755);
  chownSync(join(volume, 'users'), BASE + 1000, BASE + 100);
});
afterAll(() => h.tearDown());

function mapped(edit: (spec: any) => void = () => undefined): string {
  return h.bundle((s) => {
    s.root.readonly = false;
    s.linux.namespaces.push({ type: 'user' });
    s.linux.uidMappings = map;
    s.linux.gidMappings = map;
    s.mounts.push({ destination: '/vol', type: 'bind', source: volume, options: ['rbind', 'rw'] });
    // Docker's default set has these; `tsvisor spec`'s, like runc's, does not.
    const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL'];
    for (const set of ['bounding', 'effective', 'permitted']) s.process.capabilities[set] = caps;
    edit(s);
  });
}

describe('OCI user namespaces', () => {
  it('maps the container\'s ids to the host\'s range; its root is root over mapped files only', () => {
    const script = [
      'cat /proc/self/uid_map /proc/self/gid_map',
      'id -u; id -g',
      'stat -c "%n %u:%g" / /bin/busybox /hostsecret /work /vol/users',
      // CAP_DAC_OVERRIDE does not reach host root's file...
      'cat /hostsecret || echo denied-secret',
      'echo x >> /hostpublic || echo denied-public',
      'cat /hostpublic',
      // ...but does reach a mapped user's.
      'cat /vol/users && echo more >> /vol/users && echo wrote-users',
      'touch /made && chown 1000:100 /made && stat -c "%n %u:%g" /made',
      'chown 70000 /made || echo unmapped-chown',
      'chown 0 /hostpublic || echo foreign-chown',
      'ls -ln /hostsecret | cut -c1-40',
      // Names relative to the cwd: the sentry follows the task's /proc/<pid>/cwd.
      'cd /vol && touch rel && ls rel && readlink /proc/self/cwd',
    ].join('; ');
    const r = h.oci(['run', '--bundle', mapped((s) => (s.process.args = ['sh', '-c', script])), 'userns-root']);
    expect(r.stderr).not.toMatch(/tsvisor:/);
    const out = r.stdout.split('\n');
    expect(out.slice(0, 2).map((l) => l.trim().split(/\s+/))).toEqual([['0', String(BASE), '65536'], ['0', String(BASE), '65536']]);
    expect(out.slice(2, 4)).toEqual(['0', '0']);
    expect(out.slice(4, 9)).toEqual(['/ 0:0', '/bin/busybox 0:0', '/hostsecret 65534:65534', '/work 1000:1000', '/vol/users 1000:100']);
    expect(r.stdout).toContain('denied-secret');
    expect(r.stdout).toContain('denied-public');
    expect(r.stdout).toContain('public\n');
    expect(r.stdout).toContain('users\nwrote-users');
    expect(r.stdout).toContain('/made 1000:100');
    expect(r.stdout).toContain('unmapped-chown');
    expect(r.stdout).toContain('foreign-chown');
    expect(r.stdout).toContain('rel\n/vol\n');
    expect(r.stderr).toMatch(/'\/hostsecret': Permission denied/);
    expect(r.stderr).toMatch(/chown: \/made: Invalid argument/);
    expect(r.stderr).toMatch(/chown: \/hostpublic: Operation not permitted/);
    expect(r.status).toBe(0);
    // On the host, the container's files belong to the range.
    const made = statSync(join(rootfs, 'made'));
    expect([made.uid, made.gid]).toEqual([BASE + 1000, BASE + 100]);
    expect(statSync(join(rootfs, 'hostpublic')).size).toBe('public\n'.length);
  });

  it('runs process.user as an id inside the namespace, and exec joins the namespace', () => {
    const id = 'userns-user';
    const bundle = mapped((s) => {
      s.process.user = { uid: 1000, gid: 1000, additionalGids: [100] };
      s.process.args = ['sleep', '30'];
    });
    expect(h.oci(['create', '--bundle', bundle, id]).status).toBe(0);
    expect(h.oci(['start', id]).status).toBe(0);
    const state = JSON.parse(h.oci(['state', id]).stdout);
    const status = readFileSync(`/proc/${state.pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(BASE + 1000));
    const script = 'cat /proc/self/uid_map; id -u; id -G; touch /work/mine && stat -c %u:%g /work/mine; head -1 /vol/users; cat /hostsecret || echo denied';
    const e = h.oci(['exec', id, 'sh', '-c', script]);
    expect(e.stdout.split('\n')[0]!.trim().split(/\s+/)).toEqual(['0', String(BASE), '65536']);
    expect(e.stdout.split('\n').slice(1)).toEqual(['1000', '1000 100', '1000:1000', 'users', 'denied', '']);
    expect(e.status).toBe(0);
    expect(h.oci(['kill', id, 'KILL']).status).toBe(0);
    h.oci(['delete', '--force', id]);
    expect(statSync(join(rootfs, 'work', 'mine')).uid).toBe(BASE + 1000);
  });

  it('refuses maps without a user namespace, and a user namespace without maps', () => {
    const noNs = h.bundle((s) => (s.linux.uidMappings = s.linux.gidMappings = map));
    expect(h.oci(['create', '--bundle', noNs, 'userns-bad1']).stderr).toMatch(/`linux.uidMappings`: id maps need a `user` namespace/);
    const noMaps = h.bundle((s) => s.linux.namespaces.push({ type: 'user' }));
    expect(h.oci(['create', '--bundle', noMaps, 'userns-bad2']).stderr).toMatch(/`linux.uidMappings`: a new user namespace needs a uid map/);
  });
});
