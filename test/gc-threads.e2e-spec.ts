import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, http, servingPid, startCli, stopCli, type CliProcess } from './helpers/cli-process';

const CONFIG = join(__dirname, 'fixtures', 'slow-models.yaml');
const LAUNCHER = join(__dirname, 'helpers', 'cli-launcher.js');
const INFER = JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT8', shape: [1], data: [3] }] });

/** The serving process's id, once its "listening" line is out. */
async function servedBy(output: () => string): Promise<number> {
  const deadline = Date.now() + 10000;
  for (;;) {
    const pid = servingPid(output());
    if (pid !== undefined) return pid;
    if (Date.now() > deadline) throw new Error(`no "listening" line:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The command line of a running process, its arguments joined by spaces. */
function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

/** Whether a process exists and has not exited (a zombie waiting to be reaped has exited). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

const linux = process.platform === 'linux' ? describe : describe.skip;

linux('the garbage collector mode of the CLI (GC_MODE / --gc)', () => {
  let cli: CliProcess | undefined;
  afterEach(async () => {
    await stopCli(cli);
    cli = undefined;
  });

  it('single-threaded: the CLI serves from a child process run with --single-threaded-gc; SIGTERM stops both, exit 0', async () => {
    cli = await startCli(['--config', CONFIG], { GC_MODE: 'single-threaded' });
    const pid = await servedBy(cli.output);
    expect(pid).not.toBe(cli.child.pid);
    expect(commandLine(pid)).toContain('--single-threaded-gc');
    expect(commandLine(cli.child.pid!)).not.toContain('--single-threaded-gc');
    expect((await http(cli.port, 'POST', '/v2/models/echo/infer', INFER)).status).toBe(200);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(alive(pid)).toBe(false);
  }, 60000);

  it('a server whose launcher is killed (SIGKILL: nothing passed on) stops by itself and frees its port', async () => {
    cli = await startCli(['--config', CONFIG], { GC_MODE: 'single-threaded' });
    const pid = await servedBy(cli.output);
    cli.child.kill('SIGKILL');
    await cli.exited;
    try {
      expect(await until(async () => !alive(pid) && (await http(cli!.port, 'GET', '/v2/health/live')).status === 0, 15000)).toBe(true);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL'); // a server left behind would outlive the test run
    }
  }, 60000);

  it('concurrent: the CLI serves in its own process, without the flag', async () => {
    cli = await startCli(['--config', CONFIG, '--gc', 'concurrent']);
    expect(await servedBy(cli.output)).toBe(cli.child.pid);
    expect(commandLine(cli.child.pid!)).not.toContain('--single-threaded-gc');
  }, 60000);

  it("auto on one core (taskset): single-threaded", async () => {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    } catch {
      console.warn('taskset (util-linux) is missing: the one-core case of GC_MODE=auto is not tested');
      return;
    }
    const port = await freePort();
    const grpcPort = await freePort();
    const child = spawn('taskset', ['-c', '0', process.execPath, LAUNCHER, 'serve', '--config', CONFIG], {
      env: { ...process.env, PORT: String(port), GRPC_PORT: String(grpcPort), HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: '0', GC_MODE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const pid = await servedBy(() => output);
      expect(pid).not.toBe(child.pid);
      expect(commandLine(pid)).toContain('--single-threaded-gc');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 60000);

  it('the server process failing to start is the CLI failing: its message and exit code 1', async () => {
    const child = spawn(process.execPath, [LAUNCHER, 'serve', '--config', join(__dirname, 'fixtures', 'no-such.yaml')], {
      env: { ...process.env, GC_MODE: 'single-threaded' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^nest-model-server: .*no-such\.yaml/m);
  }, 60000);

  it('an unknown mode is refused before anything starts', async () => {
    const child = spawn(process.execPath, [LAUNCHER, 'serve', '--gc', 'fast'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toBe("nest-model-server: --gc / GC_MODE must be one of auto, single-threaded, concurrent, got 'fast'\n");
  }, 30000);
});
