// Pure path arithmetic on sandbox paths (strings). No I/O: resolution itself is done by
// the kernel with openat2(RESOLVE_IN_ROOT) beneath the sandbox root (see sandboxfs.ts).

/** Joins a task-supplied path to the absolute directory it is relative to. Absolute paths
 * ignore the base. Nothing is normalized: `..` and symlinks stay for the kernel's walk,
 * which clamps `..` at the sandbox root. */
export function joinPath(base: string, path: string): string {
  if (path.startsWith('/')) return path;
  return base === '/' ? `/${path}` : `${base}/${path}`;
}

/** Lexical normalization (`.`, `..` clamped at `/`, repeated slashes). Only used to
 * recognize the synthetic trees (/proc, /dev/fd); never to decide what a path names. */
export function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** Splits a path into the directory that holds its last component and that component's
 * name, as the *at calls that create or remove a name need. Trailing slashes are dropped
 * and reported (they make Linux require a directory). */
export interface SplitPath {
  dir: string;
  name: string;
  trailingSlash: boolean;
}

export function splitLast(path: string): SplitPath {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end--;
  const trimmed = path.slice(0, end);
  const slash = trimmed.lastIndexOf('/');
  const trailingSlash = end !== path.length;
  if (slash < 0) return { dir: '', name: trimmed, trailingSlash };
  if (slash === 0) return { dir: '/', name: trimmed.slice(1), trailingSlash };
  return { dir: trimmed.slice(0, slash), name: trimmed.slice(slash + 1), trailingSlash };
}
