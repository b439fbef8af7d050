// Regenerates the README's compatibility table from syscalls/x86_64.json (run after
// `npm run build` whenever the table changes; test/unit/dispatch.test.ts checks it).
import { readFileSync, writeFileSync } from 'node:fs';
import { compatTable } from '../dist/seccomp/compat.js';
import { loadTable } from '../dist/seccomp/table.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = '<!-- compat:start -->\n', end = '<!-- compat:end -->';
const i = readme.indexOf(start), j = readme.indexOf(end);
if (i < 0 || j < 0) throw new Error('README.md lacks the compat markers');
writeFileSync(path, readme.slice(0, i + start.length) + compatTable(loadTable()) + readme.slice(j));
