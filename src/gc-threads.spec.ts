import { cgroupCpuQuota, gcModeOf, usableCpus, wantsSingleThreadedGc } from './gc-threads';

describe('the garbage collector mode', () => {
  it('comes from --gc, --gc=, then GC_MODE, else auto; anything else is refused with the choices', () => {
    expect(gcModeOf(['serve', '--gc', 'concurrent'], { GC_MODE: 'single-threaded' })).toBe('concurrent');
    expect(gcModeOf(['serve', '--gc=single-threaded'], {})).toBe('single-threaded');
    expect(gcModeOf(['serve'], { GC_MODE: 'single-threaded' })).toBe('single-threaded');
    expect(gcModeOf(['serve'], {})).toBe('auto');
    expect(gcModeOf(['serve', '--', '--gc', 'concurrent'], {})).toBe('auto');
    expect(() => gcModeOf(['--gc', 'fast'], {})).toThrow("--gc / GC_MODE must be one of auto, single-threaded, concurrent, got 'fast'");
    expect(() => gcModeOf([], { GC_MODE: 'yes' })).toThrow(/got 'yes'/);
  });

  it('auto is single-threaded on one CPU or less, concurrent from two; the explicit modes hold everywhere', () => {
    expect([1, 0.5, 1.5, 2, 8].map((cpus) => wantsSingleThreadedGc('auto', cpus))).toEqual([true, true, false, false, false]);
    expect(wantsSingleThreadedGc('single-threaded', 64)).toBe(true);
    expect(wantsSingleThreadedGc('concurrent', 1)).toBe(false);
  });

  it('counts the cores the process may run on, fewer when a cgroup quota says so', () => {
    expect(usableCpus(8, undefined)).toBe(8);
    expect(usableCpus(8, 1)).toBe(1);
    expect(usableCpus(1, 4)).toBe(1);
  });
});

describe('the cgroup CPU quota', () => {
  const files = (entries: Record<string, string>) => (path: string) => {
    if (!(path in entries)) throw new Error(`ENOENT: ${path}`);
    return entries[path];
  };

  it("reads cgroup v2's cpu.max of the process's own group, then the root's", () => {
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/kubepods/pod1\n', '/sys/fs/cgroup/kubepods/pod1/cpu.max': '150000 100000\n' }))).toBe(1.5);
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '100000 100000\n' }))).toBe(1);
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/a\n', '/sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(0.5);
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  it("reads cgroup v1's cfs quota and period of the cpu controller's group; -1 is no quota", () => {
    const cgroup = '4:memory:/x\n2:cpu,cpuacct:/docker/abc\n0::/\n';
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': cgroup, '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us': '200000', '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us': '100000' }))).toBe(2);
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': cgroup, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBe(1);
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': cgroup, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBeUndefined();
  });

  it('is undefined where nothing can be read (not Linux, no cgroup file system)', () => {
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
  });
});
