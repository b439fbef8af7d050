// What the OCI test files share: a busybox rootfs, a private state root, `tsvisor --root R`
// as a separate process for every command (as containerd runs them), and bundles made
// with `tsvisor spec`, all removed at the end with whatever containers a failed test left.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { busyboxRoot, list, scratch, tsvisorBin } from './helpers.js';

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class OciHarness {
  rootfs = '';
  stateRoot = '';
  /** Directories removed at the end (bundles, io files). */
  readonly made: string[] = [];

  /** For beforeAll: the rootfs and the state root. */
  setUp(statePrefix: string): { rootfs: string; stateRoot: string } {
    const r = busyboxRoot();
    if (!r) throw new Error('busybox-static is needed for the OCI tests (apt-get install busybox-static)');
    // scratch() directories are 0700: a container running as another user could not enter.
    chmodSync(r, 0o755);
    this.rootfs = r;
    this.stateRoot = scratch(statePrefix);
    return { rootfs: this.rootfs, stateRoot: this.stateRoot };
  }

  /** For afterAll: every container deleted, everything made removed. */
  tearDown(): void {
    if (!this.stateRoot) return;
    for (const id of list(this.stateRoot)) this.oci(['delete', '--force', id]);
    for (const dir of this.made) rmSync(dir, { recursive: true, force: true });
    rmSync(this.stateRoot, { recursive: true, force: true });
    rmSync(this.rootfs, { recursive: true, force: true });
  }

  /**
   * Runs `tsvisor --root R ARGS`. Its stdout and stderr are files, not pipes: `create`
   * hands them to the daemon, which keeps them open for the container's lifetime.
   */
  oci(args: string[], opts: { global?: string[]; input?: string } = {}): Result {
    const dir = scratch('tsvisor-oci-out-');
    const out = openSync(join(dir, 'out'), 'w+');
    const err = openSync(join(dir, 'err'), 'w+');
    const r = spawnSync(process.execPath, [tsvisorBin, '--root', this.stateRoot, ...(opts.global ?? []), ...args], {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', out, err],
      input: opts.input,
      timeout: 30_000,
    });
    closeSync(out);
    closeSync(err);
    const res = { status: r.status, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
    rmSync(dir, { recursive: true });
    return res;
  }

  /** A bundle from `tsvisor spec`, adjusted by EDIT, with the shared busybox rootfs. */
  bundle(edit: (spec: any) => void): string {
    const dir = scratch('tsvisor-bundle-');
    this.made.push(dir);
    const r = spawnSync(process.execPath, [tsvisorBin, 'spec', '--bundle', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    spec.root.path = this.rootfs;
    spec.process.terminal = false;
    edit(spec);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    return dir;
  }

  /** The daemon's runtime record of container ID (src/oci/state.ts). */
  runtimeOf(id: string): any {
    return JSON.parse(readFileSync(join(this.stateRoot, id, 'runtime.json'), 'utf8'));
  }
}
