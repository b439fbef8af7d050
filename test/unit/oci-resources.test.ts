// linux.resources → the sandbox's cgroup resources: what is honoured, what is reported ignored.
import { expect, it } from 'vitest';
import { cgroupUpdateOf, limitsOf, translateResources } from '../../src/oci/resources.js';

it('honours cpu quota with its period, shares, cpus and mems, and reports realtime cpu ignored', () => {
  const cpu = { quota: 20_000, period: 50_000, shares: 512, cpus: '0-1', mems: '0', realtimeRuntime: 950, realtimePeriod: 1000 };
  expect(translateResources({ cpu })).toEqual({
    cpus: 0.4,
    tuning: { periodUs: 50_000, shares: 512, cpusetCpus: '0-1', cpusetMems: '0' },
    ignored: ['linux.resources.cpu.realtimeRuntime', 'linux.resources.cpu.realtimePeriod'],
  });
  expect(limitsOf({ cpu }).limits.cpuTuning).toEqual({ periodUs: 50_000, shares: 512, cpusetCpus: '0-1', cpusetMems: '0' });
  expect(cgroupUpdateOf({ cpu: { shares: 1024 } }).resources).toEqual({ tuning: { shares: 1024 } });
});

it('leaves what runc leaves alone: zero shares, empty cpus, no quota', () => {
  expect(translateResources({ cpu: { shares: 0, cpus: '', mems: '' } })).toEqual({ ignored: [] });
  expect(cgroupUpdateOf({ memory: { limit: 0 }, pids: { limit: 0 } }).resources).toEqual({});
});

it('honours the memory reservation, swappiness and a disabled OOM killer; not the kernel limits Linux dropped', () => {
  const memory = { limit: 100, reservation: 50, swappiness: 30, disableOOMKiller: true, kernel: 10, kernelTCP: 10, swap: 200 };
  expect(translateResources({ memory })).toEqual({
    memoryBytes: 100,
    memoryTuning: { reservation: 50, swappiness: 30, disableOOMKiller: true },
    ignored: ['linux.resources.memory.kernel', 'linux.resources.memory.kernelTCP'],
  });
  // runc's "leave alone": reservation 0, swappiness -1 (or beyond 100), the OOM killer not disabled.
  expect(translateResources({ memory: { reservation: 0, swappiness: -1, disableOOMKiller: false } })).toEqual({ ignored: [] });
  expect(cgroupUpdateOf({ memory: { reservation: -1 } }).resources).toEqual({ memoryTuning: { reservation: -1 } });
});

it('honours blockIO weights and throttles, leaves zero weights alone, reports leafWeight ignored', () => {
  const t = translateResources({
    blockIO: {
      weight: 300,
      leafWeight: 200,
      weightDevice: [{ major: 8, minor: 0, weight: 500 }, { major: 8, minor: 16, weight: 0 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 0 }],
    },
  });
  expect(t).toEqual({
    blockIO: {
      weight: 300,
      weightDevices: [{ major: 8, minor: 0, weight: 500 }],
      throttles: [{ major: 8, minor: 0, kind: 'rbps', rate: 1048576 }, { major: 8, minor: 0, kind: 'wiops', rate: 0 }],
    },
    ignored: ['linux.resources.blockIO.leafWeight'],
  });
  // What Docker sends when nothing is asked.
  expect(translateResources({ blockIO: { weight: 0 } })).toEqual({ ignored: [] });
});

it('honours hugepageLimits by page size', () => {
  expect(translateResources({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }, { pageSize: '1GB', limit: 0 }] })).toEqual({
    hugepages: [{ pageSize: '2MB', bytes: 4194304 }, { pageSize: '1GB', bytes: 0 }],
    ignored: [],
  });
});
