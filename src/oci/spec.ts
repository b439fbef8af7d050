// The parts of an OCI runtime-spec config.json (1.0 to 1.2) that tsvisor reads. The schema
// in schema/config.schema.json is the authority on shape; these types only name what has
// been validated against it.
import type { OciSeccomp } from './seccomp-profile.js';

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface Mount {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds. */
  timeout?: number;
}

export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export interface Rlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface User {
  uid?: number;
  gid?: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  cwd: string;
  env?: string[];
  args?: string[];
  user?: User;
  capabilities?: Record<string, string[]>;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
}

export interface Namespace {
  type: 'mount' | 'pid' | 'network' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';
  path?: string;
}

export interface Linux {
  namespaces?: Namespace[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  cgroupsPath?: string;
  resources?: Record<string, unknown>;
  seccomp?: OciSeccomp;
  devices?: { path: string; type: string; major?: number; minor?: number; fileMode?: number; uid?: number; gid?: number }[];
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

export interface Spec {
  ociVersion: string;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  process?: Process;
  hooks?: Partial<Record<HookName, Hook[]>>;
  annotations?: Record<string, string>;
  linux?: Linux;
}
