// The state directory: status derivation (the OCI state machine as tsvisor reads it),
// pid identity by start time, ids, the lock, and runc's state JSON.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { invalidId } from '../../src/oci/id.js';
import { lock, LockGone, LockTimeout } from '../../src/oci/lock.js';
import { isAlive, procRef, startTime, tree } from '../../src/oci/proc.js';
import { parseSignal } from '../../src/oci/signals.js';
import { Container, listContainers, writeJsonAtomic, type RuntimeRecord, type StateRecord } from '../../src/oci/state.js';
import { scratch } from '../helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = (): string => {
  const d = scratch();
  dirs.push(d);
  return d;
};

const record = (over: Partial<StateRecord> = {}): StateRecord => ({
  id: 'c',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2024-01-01T00:00:00.000Z',
  owner: 'root',
  daemon: procRef(process.pid),
  ...over,
});

describe('container status', () => {
  const me = procRef(process.pid)!;
  const dead = { pid: process.pid, start: me.start + 1 }; // same pid, another start: recycled

  it('follows creating → created → running → stopped as the daemon records it', () => {
    const status = (rt: RuntimeRecord | undefined, r = record()): string => new Container('/x', r, rt).status;
    expect(status(undefined)).toBe('creating');
    expect(status({ phase: 'created', init: me })).toBe('created');
    expect(status({ phase: 'running', init: me })).toBe('running');
    expect(status({ phase: 'running', init: me }, record({ paused: true }))).toBe('paused');
    expect(status({ phase: 'stopped', exitCode: 0 })).toBe('stopped');
  });

  it('is stopped when the daemon is gone or its pid was recycled', () => {
    expect(new Container('/x', record({ daemon: dead }), { phase: 'running', init: me }).status).toBe('stopped');
    expect(new Container('/x', record({ daemon: undefined }), { phase: 'created' }).status).toBe('stopped');
  });

  it('prints runc\'s state: pid 0 unless alive, annotations only when present', () => {
    const running = new Container('/x', record({ annotations: { a: 'b' } }), { phase: 'running', init: me }).ociState();
    expect(Object.keys(running)).toEqual(['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner', 'annotations']);
    expect(running.pid).toBe(process.pid);
    const recycled = new Container('/x', record({ annotations: {} }), { phase: 'running', init: dead }).ociState();
    expect(recycled.pid).toBe(0);
    expect('annotations' in recycled).toBe(false);
  });

  it('lists containers by id, skipping half-made directories', () => {
    const root = tmp();
    for (const id of ['b', 'a']) {
      mkdirSync(join(root, id));
      writeJsonAtomic(join(root, id, 'state.json'), record({ id }));
    }
    mkdirSync(join(root, 'half'));
    expect(listContainers(root).map((c) => c.id)).toEqual(['a', 'b']);
    expect(readdirSync(join(root, 'a'))).toEqual(['state.json']); // no temporary left
  });
});

describe('processes', () => {
  it('tells a live process from a recycled pid by its start time', async () => {
    const child = spawn('sleep', ['30']);
    await sleep(50);
    const ref = procRef(child.pid!)!;
    expect(ref.start).toBe(startTime(child.pid!));
    expect(isAlive(ref)).toBe(true);
    expect(isAlive({ ...ref, start: ref.start - 1 })).toBe(false);
    expect(tree(process.pid)).toContain(child.pid);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(isAlive(ref)).toBe(false);
    expect(startTime(child.pid!)).toBeUndefined();
  });
});

describe('container ids', () => {
  it('accepts runc\'s ids and refuses path tricks', () => {
    for (const id of ['a', 'web-1', 'x_y.z+1', 'f'.repeat(64)]) expect(invalidId(id)).toBeUndefined();
    expect(invalidId('')).toBe('is empty');
    expect(invalidId('.')).toBe('is `.` or `..`');
    expect(invalidId('..')).toBe('is `.` or `..`');
    expect(invalidId('a/b')).toMatch(/may contain only/);
    expect(invalidId('a b')).toMatch(/may contain only/);
    expect(invalidId('x'.repeat(1025))).toMatch(/longer than 1024/);
  });
});

describe('signals', () => {
  it('takes names with or without SIG, any case, and numbers', () => {
    expect(parseSignal('SIGTERM')).toBe(15);
    expect(parseSignal('term')).toBe(15);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('34')).toBe(34);
    expect(parseSignal('0')).toMatch(/out of range/);
    expect(parseSignal('SIGNOPE')).toMatch(/unknown/);
  });
});

describe('the lock', () => {
  it('serializes holders, takes over a stale lock, and notices a deleted container', async () => {
    const dir = tmp();
    const release = await lock(dir);
    await expect(lock(dir, 100)).rejects.toBeInstanceOf(LockTimeout);
    release();
    const again = await lock(dir, 100);
    again();
    // A holder that died without releasing: its lock is taken over at once.
    writeFileSync(join(dir, 'lock'), `${process.pid} ${procRef(process.pid)!.start + 1}`);
    const t0 = Date.now();
    (await lock(dir, 5000))();
    expect(Date.now() - t0).toBeLessThan(1000);
    rmSync(dir, { recursive: true });
    await expect(lock(dir)).rejects.toBeInstanceOf(LockGone);
    expect(existsSync(dir)).toBe(false);
  });

  it('lets waiters in one at a time', async () => {
    const dir = tmp();
    let inside = 0, maxInside = 0;
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        const release = await lock(dir);
        inside++;
        maxInside = Math.max(maxInside, inside);
        await sleep(10);
        inside--;
        release();
      }),
    );
    expect(maxInside).toBe(1);
  });
});
