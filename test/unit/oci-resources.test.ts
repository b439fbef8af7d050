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
