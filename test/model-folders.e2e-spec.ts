import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http, startCli, stopCli, type CliProcess, type LaunchOptions } from './helpers/cli-process';
import { MODEL_FOLDERS, buildOnce, inferBody, outsideFolder, writeTree } from './helpers/model-folders';

/** The outputs of a v2 answer by name. */
function outputs(body: string): Record<string, unknown[]> {
  const answer = JSON.parse(body) as { outputs: { name: string; data: unknown[] }[] };
  return Object.fromEntries(answer.outputs.map((o) => [o.name, o.data]));
}

// Model folders in the system's temporary directory, outside the repository: nothing above them has a
// node_modules with the framework or the server's packages, as under /mnt/models in a container.
describe.each<[string, () => LaunchOptions]>([
  ['the CLI from source', () => ({})],
  ['the built CLI (dist/)', () => ({ script: buildOnce() })],
])('models in folders outside the server, %s', (_how, launchOptions) => {
  const folder = outsideFolder('nms-model-folders');
  let cli: CliProcess | undefined;

  beforeAll(async () => {
    writeTree(folder.path, MODEL_FOLDERS);
    const config = join(folder.path, 'models.yaml');
    writeFileSync(config, 'models:\n  - name: greeter\n    folder: ./greeter\n  - folder: ./doubler\n  - name: threaded\n    folder: ./threaded\n');
    cli = await startCli(['--config', config], { LOG_LEVEL: 'warn' }, 60000, launchOptions());
  }, 90000);

  afterAll(async () => {
    await stopCli(cli);
    folder.remove();
  });

  it('all load: the server is ready', async () => {
    const ready = await http(cli!.port, 'GET', '/v2/health/ready');
    expect(ready.status).toBe(200);
  });

  it('a TypeScript model reads its files, its model.yaml parameters and a package installed with the server', async () => {
    const answer = await http(cli!.port, 'POST', '/v2/models/greeter/infer', inferBody([1, 2, 3]));
    expect(answer.status).toBe(200);
    expect(outputs(answer.body)).toEqual({ greeting: ['hello from a folder! x3'], yaml: ['served: true'] });
  });

  it('a JavaScript model named after its folder uses its own node_modules first', async () => {
    const answer = await http(cli!.port, 'POST', '/v2/models/doubler/infer', inferBody([1.5, 2]));
    expect(answer.status).toBe(200);
    expect(outputs(answer.body)).toEqual({ doubled: [3, 4], yaml: ["the folder's own yaml"] });
  });

  it('a worker-thread model resolves the framework and the server\'s packages in its thread', async () => {
    const answer = await http(cli!.port, 'POST', '/v2/models/threaded/infer', inferBody());
    expect(answer.status).toBe(200);
    const out = outputs(answer.body);
    expect(out.thread[0]).toBeGreaterThan(0); // not the main thread
    expect(out.yaml).toEqual(['true']);
  });
});

describe('a model folder that cannot load', () => {
  const folder = outsideFolder('nms-broken-folder');
  let cli: CliProcess | undefined;

  afterAll(async () => {
    await stopCli(cli);
    folder.remove();
  });

  it('shows as failed with the reason (the missing package named); the other models serve', async () => {
    writeTree(folder.path, {
      ...MODEL_FOLDERS,
      'broken/model.ts': "import { ModelServer } from 'nest-model-server';\nimport 'no-such-package-anywhere';\nexport class Broken extends ModelServer { predict() { return { outputs: [] }; } }\n",
    });
    const config = join(folder.path, 'models.yaml');
    writeFileSync(config, 'models:\n  - folder: ./doubler\n  - folder: ./broken\n');
    cli = await startCli(['--config', config], { LOG_LEVEL: 'warn' }, 60000, { readyPath: '/v2/models/doubler/ready' });
    expect((await http(cli.port, 'POST', '/v2/models/doubler/infer', inferBody())).status).toBe(200);
    const ready = await http(cli.port, 'GET', '/v2/models/broken/ready');
    expect(ready.status).toBe(503);
    const meta = await http(cli.port, 'POST', '/v2/repository/index', '{}');
    expect(meta.body).toMatch(/no-such-package-anywhere/);
  });
});
