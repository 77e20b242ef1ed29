import { join } from 'node:path';
import { http, startCli } from './helpers/cli-process';
import { HealthClient, InferenceClient } from './helpers/grpc-client';

const CONFIG = join(__dirname, 'fixtures', 'slow-models.yaml');
const STUBBORN_CONFIG = join(__dirname, 'fixtures', 'fault-models.yaml');
const slowBody = JSON.stringify({ parameters: { delay_ms: 1500 }, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] });

describe('graceful shutdown of the real process', () => {
  it('SIGTERM with 20 requests in flight: all answer 200, readiness is off, the process exits 0', async () => {
    const cli = await startCli(['--config', CONFIG]);
    const inFlight = Array.from({ length: 20 }, () => http(cli.port, 'POST', '/v2/models/slow/infer', slowBody));
    await new Promise((r) => setTimeout(r, 300));
    cli.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const ready = await http(cli.port, 'GET', '/v2/health/ready');
    expect([0, 503]).toContain(ready.status); // not ready, or the port already closed to new work
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.status)).toEqual(new Array(20).fill(200));
    expect(JSON.parse(answers[0].body).parameters).toEqual({ delayed_ms: 1500 });
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toMatch(/SIGTERM: not ready any more/);
  });

  it('a second signal exits at once', async () => {
    const cli = await startCli(['--config', CONFIG]);
    const pending = http(cli.port, 'POST', '/v2/models/slow/infer', JSON.stringify({ parameters: { delay_ms: 20000 }, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] }));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    cli.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    await pending;
  });

  it('the grace period cuts requests that take longer, then exits 0', async () => {
    const cli = await startCli(['--config', CONFIG, '--shutdown-grace-ms', '300']);
    const pending = http(cli.port, 'POST', '/v2/models/slow/infer', JSON.stringify({ parameters: { delay_ms: 20000 }, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] }));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(20000);
    expect((await pending).status).toBe(0); // connection cut
    expect(cli.output()).toMatch(/grace period of 300 ms over/);
  });

  it('unloading waits for a request that ignores its signal no longer than the grace period, then exits 0', async () => {
    const cli = await startCli(['--config', STUBBORN_CONFIG, '--shutdown-grace-ms', '500', '--log-format', 'text']);
    const pending = http(cli.port, 'POST', '/v2/models/stubborn/infer', JSON.stringify({ parameters: { delay_ms: 25000 }, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] }));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10000);
    expect((await pending).status).toBe(0); // connection cut at the end of the grace period
    expect(cli.output()).toMatch(/model 'stubborn'.*1 request\(s\) still running after \d+ ms \(the shutdown grace period\): the unload releases the instance anyway/);
  }, 40000);
});

describe('the shutdown delay (SHUTDOWN_DELAY_MS): endpoints are removed before the server stops taking work', () => {
  const echoBody = JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [7] }] });

  it('SIGTERM: not ready at once on REST and gRPC, a request sent 50 ms later is served, then the server drains and exits 0', async () => {
    const cli = await startCli(['--config', CONFIG], { SHUTDOWN_DELAY_MS: '3000' });
    const health = new HealthClient(cli.grpcPort);
    const grpc = new InferenceClient(cli.grpcPort);
    try {
      const started = Date.now();
      cli.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 50));
      const answer = await http(cli.port, 'POST', '/v2/models/echo/infer', echoBody);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).outputs[0].data).toEqual([7]);
      expect((await http(cli.port, 'GET', '/v2/health/ready')).status).toBe(503);
      expect((await http(cli.port, 'GET', '/v2/models/echo/ready')).status).toBe(503);
      expect((await http(cli.port, 'GET', '/v2/health/live')).status).toBe(200);
      expect(await health.check('')).toBe('NOT_SERVING');
      expect(await grpc.call('ServerReady', {})).toEqual({ ready: false });
      const viaGrpc = await grpc.call('ModelInfer', { model_name: 'echo', inputs: [{ name: 'x', datatype: 'INT32', shape: [1], contents: { int_contents: [7] } }] });
      expect(viaGrpc.model_name).toBe('echo');
      expect(Date.now() - started).toBeLessThan(3000); // all of it within the delay
      expect(await cli.exited).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
      expect(cli.output()).toMatch(/SIGTERM: not ready any more; still serving for 3000 ms/);
    } finally {
      health.close();
      grpc.close();
    }
  });

  it('SIGINT (an interactive stop) does not wait', async () => {
    const cli = await startCli(['--config', CONFIG], { SHUTDOWN_DELAY_MS: '20000' });
    const started = Date.now();
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
