// Signal arguments as runc takes them: a name with or without SIG (any case), or a number.
import { constants } from 'node:os';

const byNumber = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/** The signal number for SPEC, or an error message. */
export function parseSignal(spec: string): number | string {
  if (/^\d+$/.test(spec)) {
    const n = Number(spec);
    // Real-time signals have no name in os.constants; anything in 1..64 is valid.
    if (n >= 1 && n <= 64) return n;
    return `signal \`${spec}\`: out of range`;
  }
  const name = spec.toUpperCase();
  const full = name.startsWith('SIG') ? name : `SIG${name}`;
  const n = (constants.signals as Record<string, number>)[full];
  return n ?? `signal \`${spec}\`: unknown`;
}

export function signalName(n: number): string {
  return byNumber.get(n) ?? String(n);
}
