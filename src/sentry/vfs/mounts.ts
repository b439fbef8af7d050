// The mounts tasks made in their sandbox. The launcher's (the root, /proc, /dev, the
// --mount binds) are the sandbox's frame and stay; these a task may change or remove.
// Known by unique mount id (statx STATX_MNT_ID_UNIQUE, never reused).
export class MountTable {
  /** Made mounts, by id: whether they are binds of a read-only mount, which stay so. */
  private readonly made = new Map<bigint, { readOnlyBind: boolean }>();

  add(id: bigint, readOnlyBind: boolean): void {
    this.made.set(id, { readOnlyBind });
  }

  has(id: bigint): boolean {
    return this.made.has(id);
  }

  /** Whether the mount is a bind of a read-only one: made writable, it would open a way
   * around a read-only --mount or root. */
  readOnlyBind(id: bigint): boolean {
    return this.made.get(id)?.readOnlyBind ?? false;
  }

  delete(id: bigint): void {
    this.made.delete(id);
  }
}
