// Container ids, checked before they become a directory name under --root.

const ID = /^[A-Za-z0-9_+.-]+$/;
const MAX_ID = 1024;

/** The reason ID is not a valid container id, or undefined when it is. */
export function invalidId(id: string): string | undefined {
  if (id.length === 0) return 'is empty';
  if (id.length > MAX_ID) return `is longer than ${MAX_ID} characters`;
  if (id === '.' || id === '..') return 'is `.` or `..`';
  if (!ID.test(id)) return 'may contain only letters, digits and `_+.-`';
  return undefined;
}
