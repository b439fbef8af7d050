// The syscall policy as the rest of tsvisor uses it: the table, and the BPF program built from it.
export * from './table.js';
export * from './bpf.js';
export * from './compile.js';
