#!/usr/bin/env node
// Compiles the seccomp program of syscalls/x86_64.json into dist/seccomp-policy.bin (see
// src/seccomp/policy.ts). Run after tsc by `npm run build`, `prepare` and `pretest`.
import { readFileSync, writeFileSync } from 'node:fs';
import { compilePolicy } from '../dist/seccomp/compile.js';
import { encodePolicyArtifact, POLICY_PATH } from '../dist/seccomp/policy.js';
import { loadTable, TABLE_PATH } from '../dist/seccomp/table.js';

writeFileSync(POLICY_PATH, encodePolicyArtifact(readFileSync(TABLE_PATH), compilePolicy(loadTable())));
