// `tsvisor features`: what this runtime implements, in the shape of runc's `features`
// (runtime-spec features.md). Fixed content, kept true to convert.ts and the launcher.
import { OCI_VERSION } from './state.js';

export function features(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['bind', 'rbind', 'ro', 'rw', 'nosuid', 'nodev', 'noexec', 'mode'],
    linux: {
      namespaces: ['mount', 'pid', 'network', 'uts', 'ipc', 'cgroup'],
      capabilities: [],
      cgroup: { v1: false, v2: false, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      'org.opencontainers.runtime-spec.features.tsvisor.sentry': 'seccomp-unotify',
      'org.opencontainers.runtime-spec.features.tsvisor.version': process.env.npm_package_version ?? '0.1.0',
    },
  };
}
