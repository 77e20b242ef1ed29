import { join } from 'node:path';
import { http, startCli, type CliProcess } from './helpers/cli-process';

const CONFIG = join(__dirname, 'fixtures', 'fault-models.yaml');
const infer = (fault?: string) =>
  JSON.stringify({ parameters: fault === undefined ? {} : { fault }, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] });

/** Waits until the process's output matches `pattern` (or fails after `ms`). */
async function logged(cli: CliProcess, pattern: RegExp, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!pattern.test(cli.output())) {
    if (Date.now() > until) throw new Error(`no log line matching ${pattern} in:\n${cli.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** How many log lines match `pattern`. */
const count = (cli: CliProcess, pattern: RegExp) => cli.output().split('\n').filter((line) => pattern.test(line)).length;

describe('faults that escape model code outside requests (real process)', () => {
  let cli: CliProcess;
  beforeAll(async () => {
    // Text logs are written at once (JSON logs are buffered in 4 KiB blocks), so each fault can be seen as it is handled.
    cli = await startCli(['--config', CONFIG, '--log-format', 'text']);
  });
  afterAll(async () => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await cli.exited;
  });

  it('a throwing timer and a stray rejection are logged naming the model, and the process keeps serving', async () => {
    const res = await http(cli.port, 'POST', '/v2/models/faulty/infer', infer('both'));
    expect(res.status).toBe(200);
    // The first faults are traced by the model's file in their stack: scopes are tracked from the first fault on.
    await logged(cli, /model 'faulty' faulted outside a request \(unhandledRejection; 1 of 5 within 60 s.*traced by its module file in the stack\): Error: stray rejection of the faulty model/);
    await logged(cli, /model 'faulty' faulted outside a request \(uncaughtException; 2 of 5 within 60 s.*\): Error: stray fault in a timer/);
    expect(cli.child.exitCode).toBeNull();
    // From then on, what the model's code starts carries its scope.
    expect((await http(cli.port, 'POST', '/v2/models/faulty/infer', infer('timer'))).status).toBe(200);
    await logged(cli, /model 'faulty' faulted outside a request \(uncaughtException; 3 of 5 within 60 s.*traced by its scope\): Error: stray fault in a timer/);
    expect((await http(cli.port, 'GET', '/v2/models/faulty/ready')).status).toBe(200);
    expect((await http(cli.port, 'POST', '/v2/models/echo/infer', infer())).status).toBe(200);
  });

  it('a rejection of a promise made outside any hook is traced by the model file in its stack', async () => {
    expect((await http(cli.port, 'POST', '/v2/models/faulty/infer', infer('outer-error'))).status).toBe(200);
    await logged(cli, /model 'faulty' faulted outside a request \(unhandledRejection; 4 of 5 .*traced by its module file in the stack\): Error: a module-level promise/);
  });

  it('a fault no model can be traced to is logged as the server\'s, and the process keeps running', async () => {
    expect((await http(cli.port, 'POST', '/v2/models/faulty/infer', infer('untraceable'))).status).toBe(200);
    await logged(cli, /a fault \(unhandledRejection\) escaped code that no model could be traced to.*an untraceable rejection/);
    expect(cli.child.exitCode).toBeNull();
    expect((await http(cli.port, 'GET', '/v2/models/faulty/ready')).status).toBe(200);
  });

  it('a model that keeps faulting is marked failed (readiness shows it, its requests 503); the others keep serving', async () => {
    expect((await http(cli.port, 'POST', '/v2/models/faulty/infer', infer('rejection'))).status).toBe(200);
    await logged(cli, /model 'faulty' faulted outside a request \(unhandledRejection; fault 5 of 5 within 60 s: the model is marked failed.*traced by its scope\)/);
    expect(cli.child.exitCode).toBeNull();
    expect((await http(cli.port, 'GET', '/v2/models/faulty/ready')).status).toBe(503);
    expect((await http(cli.port, 'GET', '/v2/health/ready')).status).toBe(503);
    const refused = await http(cli.port, 'POST', '/v2/models/faulty/infer', infer());
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error).toMatch(/model 'faulty' is not ready \(failed\): its code faulted 5 times within 60 s outside its requests/);
    // The model's own error text stays in the log.
    expect(refused.body).not.toMatch(/stray/);
    const meta = JSON.parse((await http(cli.port, 'GET', '/v2/models/faulty')).body);
    expect(meta.state).toBe('failed');
    const echo = await http(cli.port, 'POST', '/v2/models/echo/infer', infer());
    expect(echo.status).toBe(200);
    expect(count(cli, /model 'faulty' faulted outside a request/)).toBeGreaterThanOrEqual(5);
  });

  it('still shuts down cleanly', async () => {
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });
});
