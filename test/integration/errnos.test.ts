// Errno corner cases of the file calls (found by LTP), compared call by call with Linux.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { native, program, scratch, tsvisor } from '../helpers.js';

describe('file calls fail as Linux does', () => {
  it('gives the errnos of Linux for the cases in test/programs/errnos.c', () => {
    const prog = program('errnos');
    const dirNative = scratch(), dirInside = scratch();
    // Natively: root holding only the file capabilities a container root has (so no
    // CAP_SYS_ADMIN: pagemap hides page frame numbers, as for the sentry that opens it).
    const caps = '--bounding-set=-all,+chown,+dac_override,+fowner,+fsetid';
    const outside = native(['setpriv', '--inh-caps=-all', caps, prog], { cwd: dirNative });
    // The same path inside and out, so the cwd the program works in compares equal.
    const inside = tsvisor(['do', '--mount', `${dirInside}:${dirNative}`, '--cwd', dirNative, '--', prog]);
    expect(outside.stderr).toBe('');
    expect(outside.status).toBe(0);
    expect(outside.stdout).toContain('readlinkat(O_PATH symlink, ""): f\n');
    expect(inside.stderr).toBe('');
    expect(inside.stdout).toBe(outside.stdout);
    expect(inside.status).toBe(0);
    rmSync(dirNative, { recursive: true });
    rmSync(dirInside, { recursive: true });
  });
});
