// The mounts tasks made in their sandbox. The launcher's (the root, /proc, /dev, the
// --mount binds) are the sandbox's frame and stay; these a task may change or remove.
// Known by unique mount id (statx STATX_MNT_ID_UNIQUE, never reused).
export class MountTable {
  private readonly made = new Set<bigint>();

  add(id: bigint): void {
    this.made.add(id);
  }

  has(id: bigint): boolean {
    return this.made.has(id);
  }

  delete(id: bigint): void {
    this.made.delete(id);
  }
}
