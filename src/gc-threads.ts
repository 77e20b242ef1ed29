import process from 'node:process';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { exitWithError } from './cli-exit';

/**
 * How V8 collects garbage in the server process. V8 runs its marking, sweeping and scavenging on helper threads
 * beside the main thread; on a process that can use one CPU only (pinned to one core, or a container limited to
 * one CPU) those threads take the main thread's CPU instead: the scheduler takes the main thread off the CPU for
 * several milliseconds at a time while they run (health probes then wait 30–50 ms behind large JSON bodies), and
 * every small request pays their hand-offs. `single-threaded` runs Node with V8's `--single-threaded-gc` (the
 * collector works in small steps on the main thread), `concurrent` keeps V8's default, `auto` chooses
 * single-threaded when the process can use at most one CPU.
 *
 * A V8 flag is set when the process starts, not later (setting it at run time aborts V8): when the flag is wanted
 * and missing, the CLI serves from a child process started with it ({@link serveWithGcFlag}).
 */
export const GC_MODES = ['auto', 'single-threaded', 'concurrent'] as const;
export type GcMode = (typeof GC_MODES)[number];

/** The setting's flag and environment variable (the CLI's settings table lists it from here). */
export const GC_SETTING = { flag: 'gc', env: 'GC_MODE' } as const;

/** The V8 flag of the single-threaded collector. */
export const SINGLE_THREADED_GC_FLAG = '--single-threaded-gc';

/** The mode the command line (`--gc MODE`, `--gc=MODE`) or the environment (`GC_MODE`) asks for; `auto` when neither does. */
export function gcModeOf(argv: readonly string[], env: NodeJS.ProcessEnv): GcMode {
  let value: string | undefined;
  const flag = `--${GC_SETTING.flag}`;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    if (argv[i] === flag) value = argv[i + 1];
    else if (argv[i].startsWith(`${flag}=`)) value = argv[i].slice(flag.length + 1);
  }
  value ??= env[GC_SETTING.env];
  if (value === undefined || value === '') return 'auto';
  if (!(GC_MODES as readonly string[]).includes(value)) {
    throw new Error(`${flag} / ${GC_SETTING.env} must be one of ${GC_MODES.join(', ')}, got '${value}'`);
  }
  return value as GcMode;
}

/**
 * The CPU quota of the process's cgroup, in CPUs (cgroup v2 `cpu.max`, else v1 `cpu.cfs_quota_us` /
 * `cpu.cfs_period_us`), or undefined when there is none or it cannot be read. `read` reads a file's text (tests pass their own).
 */
export function cgroupCpuQuota(read: (path: string) => string = (path) => readFileSync(path, 'utf8')): number | undefined {
  const tryRead = (path: string): string | undefined => {
    try {
      return read(path).trim();
    } catch {
      return undefined;
    }
  };
  const groups = tryRead('/proc/self/cgroup') ?? '';
  // cgroup v2: the process's own group (its path in /proc/self/cgroup, "0::/path"), then the namespace's root.
  const own = /^0::(\/.*)$/m.exec(groups)?.[1];
  for (const dir of own !== undefined && own !== '/' ? [`/sys/fs/cgroup${own}`, '/sys/fs/cgroup'] : ['/sys/fs/cgroup']) {
    const max = tryRead(`${dir}/cpu.max`);
    if (max === undefined) continue;
    const [quota, period] = max.split(/\s+/);
    if (quota === 'max') return undefined;
    const cpus = Number(quota) / Number(period ?? 100000);
    return Number.isFinite(cpus) && cpus > 0 ? cpus : undefined;
  }
  // cgroup v1: the cpu controller's group of the process ("N:cpu,cpuacct:/path"), then its root.
  const v1 = /^\d+:(?:[^:]*,)?cpu(?:,[^:]*)?:(\/.*)$/m.exec(groups)?.[1];
  for (const dir of v1 !== undefined && v1 !== '/' ? [`/sys/fs/cgroup/cpu${v1}`, '/sys/fs/cgroup/cpu'] : ['/sys/fs/cgroup/cpu']) {
    const quota = Number(tryRead(`${dir}/cpu.cfs_quota_us`));
    const period = Number(tryRead(`${dir}/cpu.cfs_period_us`));
    if (Number.isNaN(quota)) continue;
    return quota > 0 && period > 0 ? quota / period : undefined;
  }
  return undefined;
}

/** The CPUs the process may use: the cores it may run on (its affinity), fewer when a cgroup quota says so. */
export function usableCpus(cores: number = availableParallelism(), quota: number | undefined = cgroupCpuQuota()): number {
  return quota === undefined ? cores : Math.min(cores, quota);
}

/** Whether the server should run with V8's single-threaded collector. */
export function wantsSingleThreadedGc(mode: GcMode, cpus: number): boolean {
  return mode === 'single-threaded' || (mode === 'auto' && cpus <= 1);
}

/** The options that make the CLI print something and stop, which need no server process of their own. */
const INFORMATION = new Set(['-h', '--help', '-v', '--version']);

/**
 * Starts the server in a child process running with {@link SINGLE_THREADED_GC_FLAG} when the mode wants it and
 * this process lacks it, and returns the child; null when this process should serve itself. The child has the
 * same arguments, environment, standard streams and CPU affinity. This process passes on SIGTERM, SIGINT and
 * SIGHUP (the child runs in its own process group, so a terminal's Ctrl-C reaches it once, through here) and ends
 * as the child ends: with its exit code, or by the signal that ended it. A child whose launcher dies (even by
 * SIGKILL) sees its IPC channel close and stops as on SIGINT ({@link stopWhenLauncherDies}).
 */
export function serveWithGcFlag(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ReturnType<typeof spawn> | null {
  if (argv.some((a) => INFORMATION.has(a))) return null;
  if (process.execArgv.includes(SINGLE_THREADED_GC_FLAG)) return null;
  if (!wantsSingleThreadedGc(gcModeOf(argv, env), usableCpus())) return null;
  const child = spawn(process.execPath, [...process.execArgv, SINGLE_THREADED_GC_FLAG, process.argv[1], ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...env, [LAUNCHED_ENV]: '1' },
    detached: true,
  });
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const handlers = (['SIGTERM', 'SIGINT', 'SIGHUP'] as const).map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  child.on('error', (err) => exitWithError(new Error(`cannot start the server process: ${err.message}`)));
  child.on('exit', (code, signal) => {
    for (const [name, handler] of handlers) process.off(name, handler);
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
  return child;
}

/** Set in the environment of a server process started by {@link serveWithGcFlag}. */
const LAUNCHED_ENV = 'NEST_MODEL_SERVER_LAUNCHED';

/**
 * In a server process started by {@link serveWithGcFlag}: when the launcher goes away (its IPC channel closes,
 * whatever ended it), the server stops as on SIGINT instead of living on unseen, holding its ports.
 */
export function stopWhenLauncherDies(): void {
  if (process.env[LAUNCHED_ENV] !== '1' || process.channel === undefined) return;
  delete process.env[LAUNCHED_ENV];
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGINT'));
}
