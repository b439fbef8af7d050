// config.json validation: good configs pass, bad ones name the field, and no mutation of
// a valid config can make the validator (or the bundle loader) throw.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/oci/bundle.js';
import { defaultSpec } from '../../src/oci/defaults.js';
import { validateSpec, validateResources } from '../../src/oci/validate.js';

const valid = (): any => JSON.parse(JSON.stringify(defaultSpec({ rootless: false, uid: 0, gid: 0 })));

function errorsOf(edit: (s: any) => void): string[] {
  const s = valid();
  edit(s);
  const v = validateSpec(s);
  return v.ok ? [] : v.errors;
}

describe('config.json schema', () => {
  it('accepts the default and rootless specs, and a minimal one', () => {
    expect(validateSpec(valid()).ok).toBe(true);
    expect(validateSpec(defaultSpec({ rootless: true, uid: 1000, gid: 1000 })).ok).toBe(true);
    expect(validateSpec({ ociVersion: '1.0.0', root: { path: 'rootfs' } }).ok).toBe(true);
    // Docker 20.10's version string, and properties the spec says to ignore.
    expect(validateSpec({ ociVersion: '1.0.2-dev', root: { path: '/r' }, vendorThing: { x: 1 } }).ok).toBe(true);
  });

  it('names each bad field and says why', () => {
    expect(errorsOf((s) => delete s.ociVersion)).toEqual(['`ociVersion`: is required']);
    expect(errorsOf((s) => (s.ociVersion = '2.0.0'))).toEqual(['`ociVersion`: must match pattern "^1\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.+-]+)?$"']);
    expect(errorsOf((s) => delete s.root.path)).toEqual(['`root.path`: is required']);
    expect(errorsOf((s) => (s.process.cwd = 'tmp'))).toEqual(['`process.cwd`: must be an absolute path']);
    expect(errorsOf((s) => (s.process.args = 'sh'))).toEqual(['`process.args`: must be array']);
    expect(errorsOf((s) => (s.process.user.uid = 2 ** 32))).toEqual(['`process.user.uid`: must be <= 4294967295']);
    expect(errorsOf((s) => (s.process.env = ['NOEQUALS']))).toEqual(['`process.env[0]`: must match pattern "^[^=]+="']);
    expect(errorsOf((s) => (s.mounts[2].options = [3]))).toEqual(['`mounts[2].options[0]`: must be string']);
    expect(errorsOf((s) => (s.linux.namespaces[0].type = 'pids'))).toEqual([
      '`linux.namespaces[0].type`: must be one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"',
    ]);
    expect(errorsOf((s) => (s.hooks = { prestart: [{ path: 'relative' }] }))).toEqual(['`hooks.prestart[0].path`: must be an absolute path']);
    expect(errorsOf((s) => (s.process.rlimits[0].type = 'NOFILE'))).toEqual(['`process.rlimits[0].type`: must match pattern "^RLIMIT_[A-Z]+$"']);
    expect(errorsOf((s) => (s.annotations = { a: 1 }))).toEqual(['`annotations.a`: must be string']);
  });

  it('reports every problem at once', () => {
    const errors = errorsOf((s) => {
      s.process.cwd = 'x';
      s.hostname = 7;
    });
    expect(errors).toEqual(['`hostname`: must be string', '`process.cwd`: must be an absolute path']);
  });

  it('validates update --resources input', () => {
    expect(validateResources({ memory: { limit: 1 << 20 }, pids: { limit: 50 } })).toEqual([]);
    expect(validateResources({ pids: {} })).toEqual(['`pids.limit`: is required']);
    expect(validateResources({ cpu: { shares: -1 } })).toEqual(['`cpu.shares`: must be >= 0']);
  });

  it('never throws on 500 random mutations of a valid config', () => {
    // A seeded generator, so that a failure can be replayed.
    let seed = 0x5eed;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const junk = (): unknown => [null, 0, -1, 1.5, '', 'x', '/', [], {}, true, 2 ** 53, [1, 'a'], { path: 3 }][rand(13)];
    const paths = (v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] => {
      out.push(at);
      if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) paths(c, [...at, Array.isArray(v) ? Number(k) : k], out);
      return out;
    };
    let rejected = 0;
    for (let i = 0; i < 500; i++) {
      const spec = valid();
      for (let m = 0; m <= rand(3); m++) {
        const all = paths(spec).filter((p) => p.length > 0);
        const path = all[rand(all.length)]!;
        let parent: any = spec;
        for (const k of path.slice(0, -1)) parent = parent[k];
        const key = path[path.length - 1]!;
        if (rand(4) === 0) delete parent[key];
        else parent[key] = junk();
      }
      const v = validateSpec(spec);
      if (!v.ok) {
        rejected++;
        expect(v.errors.length).toBeGreaterThan(0);
        for (const e of v.errors) expect(e).toMatch(/^`[^`]+`: /);
      }
      // The loader takes text: the same mutation either parses to a spec or throws our error.
      try {
        parseConfig(JSON.stringify(spec));
      } catch (err) {
        expect((err as Error).message).toMatch(/^config\.json: /);
      }
    }
    // The mutations must mostly be caught, or this test checks nothing.
    expect(rejected).toBeGreaterThan(250);
  });

  it('answers any JSON value', () => {
    for (const v of [null, 0, 'x', [], true, { root: null }]) expect(validateSpec(v).ok).toBe(false);
    expect(() => parseConfig('{')).toThrow(/^config\.json: not JSON/);
  });
});
