// Serializes the commands acting on one container: a lock file created with
// O_CREAT|O_EXCL holding its owner's pid and start time. Node has no flock(2); this is the
// portable alternative, and the owner's identity lets a lock left by a crashed command be
// taken over instead of blocking the container forever.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, startTime } from './proc.js';
import { sleep } from './sleep.js';

export class LockTimeout extends Error {}

/** Gone: the container directory itself no longer exists (deleted meanwhile). */
export class LockGone extends Error {}

export type Release = () => void;

const me = (): string => `${process.pid} ${startTime(process.pid) ?? 0}`;

/** Whether the lock file's owner is gone (a crashed command). */
function stale(path: string): boolean {
  let owner: string;
  try {
    owner = readFileSync(path, 'utf8');
  } catch {
    return false; // released meanwhile: just retry
  }
  const [pid, start] = owner.split(' ').map(Number);
  // An empty file is a lock being written this instant: not stale.
  if (!pid || start === undefined || Number.isNaN(start)) return false;
  return !isAlive({ pid, start });
}

/**
 * Takes DIR's lock, waiting up to TIMEOUT ms. A stale lock is removed and retried; two
 * waiters that find it stale at the same instant could both remove it, a window of a few
 * microseconds that only follows a crash.
 */
export async function lock(dir: string, timeoutMs = 10_000): Promise<Release> {
  const path = join(dir, 'lock');
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, me());
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // The directory was removed with the container (delete).
        }
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new LockGone(`lock \`${path}\`: container directory is gone`);
      if (code !== 'EEXIST') throw err;
    }
    if (stale(path)) {
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first.
      }
      continue;
    }
    if (Date.now() > deadline) throw new LockTimeout(`lock \`${path}\`: still held after ${timeoutMs} ms`);
    await sleep(delay);
  }
}
