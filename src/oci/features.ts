// `tsvisor features`: what this runtime implements, in the shape of runc's `features`
// (runtime-spec features.md). Fixed content, kept true to convert.ts and the launcher.
import { GRANTABLE_CAPABILITIES } from '../sandbox/creds.js';
import { CAPABILITY_NAMES } from '../sentry/abi/capability.js';
import { OCI_VERSION } from './state.js';

export function features(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['bind', 'rbind', 'ro', 'rw', 'nosuid', 'nodev', 'noexec', 'mode'],
    linux: {
      namespaces: ['mount', 'pid', 'network', 'uts', 'ipc', 'cgroup'],
      // The ones a task really holds; the others are refused (logged as ignored).
      capabilities: CAPABILITY_NAMES.filter((_, bit) => GRANTABLE_CAPABILITIES & (1n << BigInt(bit))),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      // linux.seccomp is stacked above tsvisor's own policy (src/oci/seccomp-profile.ts).
      seccomp: {
        enabled: true,
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        archs: ['SCMP_ARCH_X86_64'],
        knownFlags: [],
        supportedFlags: [],
      },
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
