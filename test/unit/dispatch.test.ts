// The syscall table and the sentry's handlers agree, and the README tells the truth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compatTable } from '../../src/seccomp/compat.js';
import { loadTable } from '../../src/seccomp/table.js';
import { handlerName, handlers } from '../../src/sentry/syscalls/index.js';
import { repo } from '../helpers.js';

const table = loadTable();

describe('dispatch table', () => {
  it('has a handler for every trapped call the table calls supported or partial', () => {
    const lacking = table
      .filter((e) => e.class === 'trapped' && e.status !== 'missing')
      .filter((e) => !handlers.has(handlerName(e.name)))
      .map((e) => e.name);
    expect(lacking).toEqual([]);
  });

  it('has no handler the table does not route to the sentry', () => {
    const trapped = new Set(table.filter((e) => e.class === 'trapped').map((e) => handlerName(e.name)));
    expect([...handlers.keys()].filter((h) => !trapped.has(h))).toEqual([]);
  });

  it('marks trapped calls without a handler as missing', () => {
    const wrong = table
      .filter((e) => e.class === 'trapped' && e.status === 'missing' && handlers.has(handlerName(e.name)))
      .map((e) => e.name);
    expect(wrong).toEqual([]);
  });

  it('names handlers in camelCase', () => {
    expect(handlerName('pivot_root')).toBe('pivotRoot');
    expect(handlerName('newfstatat')).toBe('newfstatat');
    expect(handlerName('set_tid_address')).toBe('setTidAddress');
  });
});

describe('README', () => {
  it('carries the generated compatibility table', () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const start = readme.indexOf('<!-- compat:start -->'), end = readme.indexOf('<!-- compat:end -->');
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start + '<!-- compat:start -->\n'.length, end)).toBe(compatTable(table));
  });
});
