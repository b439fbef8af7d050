// Real programs (gcc, make, git, tar, python with sqlite and venv, node, perl, coreutils)
// run the same workflow natively and under tsvisor: the outputs must match.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { native, repo, scratch, tsvisor } from '../helpers.js';

it('runs a build-and-archive workflow exactly as natively', () => {
  const script = join(repo, 'test', 'programs', 'workflow.sh');
  const outsideDir = scratch(), insideDir = scratch();
  // Generous timeouts: on a loaded 2-core machine the workflow alone takes tens of seconds.
  const outside = native(['bash', script, outsideDir], { timeout: 120_000 });
  expect(outside.status, outside.stderr).toBe(0);
  // Same path inside and out (mounted at the native run's path), so output compares equal.
  const inside = tsvisor(['do', '--mount', `${insideDir}:${outsideDir}`, '--', '/bin/bash', script, outsideDir], { timeout: 120_000 });
  expect(inside.stderr).toBe(outside.stderr);
  expect(inside.stdout).toBe(outside.stdout);
  expect(inside.status).toBe(0);
  rmSync(outsideDir, { recursive: true, force: true });
  rmSync(insideDir, { recursive: true, force: true });
}, 180_000);
