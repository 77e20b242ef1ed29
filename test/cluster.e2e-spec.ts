import { join } from 'node:path';
import { http, startCli } from './helpers/cli-process';

const CONFIG = join(__dirname, 'fixtures', 'slow-models.yaml');

describe('--workers N (Node cluster)', () => {
  it('runs N server processes on one port, ready only when all are, and stops them all on SIGTERM', async () => {
    const cli = await startCli(['--config', CONFIG, '--workers', '2'], {}, 60000);
    // Ready was answered, so every process reported ready: both have started listening.
    const pids = new Set([...cli.output().matchAll(/listening on .* pid (\d+)\)/g)].map((m) => m[1]));
    expect(pids.size).toBe(2);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => http(cli.port, 'POST', '/v2/models/echo/infer', JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT8', shape: [1], data: [3] }] }))),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }, 90000);
});
