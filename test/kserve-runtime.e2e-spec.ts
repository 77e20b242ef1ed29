import { execFileSync } from 'node:child_process';
import { freePort, http, startCli, stopCli, type CliProcess } from './helpers/cli-process';
import { HealthClient, InferenceClient } from './helpers/grpc-client';
import { argValue, manifestOf, type Manifest } from './helpers/kserve-manifests';
import { MODEL_FOLDERS, REPO_ROOT, buildOnce, inferBody, outsideFolder, writeTree } from './helpers/model-folders';

/**
 * The server started exactly as the ServingRuntime starts it (its command, args and env), the built image's
 * paths mapped onto this checkout: `/app/` is the repository (built with `npm run build`), `/mnt/models` a
 * temporary folder outside the repository holding one TypeScript model that imports nest-model-server, KServe's
 * `{{.Name}}` the InferenceService's name, and ports 8080 / 8081 free loopback ports. Knative's `PORT` is set to the
 * gRPC port, as Knative does for an InferenceService whose one port is h2c.
 */
describe('the ServingRuntime\'s command, args and env with a model folder outside the repository', () => {
  const runtime = manifestOf('ServingRuntime');
  const container = runtime.spec.containers[0] as Manifest;
  const models = outsideFolder('nms-mnt-models');
  let cli: CliProcess | undefined;
  let ports: { http: number; grpc: number };
  let map: (value: string) => string;

  beforeAll(async () => {
    buildOnce();
    // The single-model layout: the folder is the model (model.ts, model.yaml, its files).
    const greeter = Object.fromEntries(Object.entries(MODEL_FOLDERS).filter(([p]) => p.startsWith('greeter/')).map(([p, text]) => [p.slice('greeter/'.length), text]));
    writeTree(models.path, greeter);
    ports = { http: await freePort(), grpc: await freePort() };
    map = (value) =>
      value
        .replace('{{.Name}}', 'iris')
        .replace(/^\/app\//, `${REPO_ROOT}/`)
        .replace(/^\/mnt\/models$/, models.path)
        .replace(/^--http_port=8080$/, `--http_port=${ports.http}`)
        .replace(/^--grpc_port=8081$/, `--grpc_port=${ports.grpc}`)
        .replace(/^8080$/, String(ports.http));
    const [node, script] = (container.command as string[]).map(map);
    expect(node).toBe('node');
    const args = (container.args as string[]).map((a) => (a.startsWith('--model_dir=') ? `--model_dir=${models.path}` : map(a)));
    const env = Object.fromEntries((container.env as Manifest[]).map((e) => [e.name, e.value as string]));
    cli = await startCli(args, { ...env, PORT: String(ports.grpc), HOST: '0.0.0.0' }, 60000, { script, command: [], ports });
  }, 90000);

  afterAll(async () => {
    await stopCli(cli, 20000);
    models.remove();
  }, 30000);

  it('becomes ready, with the model named after the InferenceService', async () => {
    expect((await http(ports.http, 'GET', '/v2/health/ready')).status).toBe(200);
    const meta = await http(ports.http, 'GET', '/v2/models/iris');
    expect(meta.status).toBe(200);
    expect(JSON.parse(meta.body)).toMatchObject({ name: 'iris' });
  });

  it('answers infer over REST on --http_port', async () => {
    const answer = await http(ports.http, 'POST', '/v2/models/iris/infer', inferBody([1, 2]));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).outputs[0]).toMatchObject({ name: 'greeting', data: ['hello from a folder! x2'] });
  });

  it('answers infer over gRPC on --grpc_port, and grpc.health.v1 says SERVING for the server and the model', async () => {
    const grpc = new InferenceClient(ports.grpc);
    const health = new HealthClient(ports.grpc);
    try {
      const answer = await grpc.call('ModelInfer', { model_name: 'iris', inputs: [{ name: 'x', datatype: 'FP32', shape: [3], contents: { fp32_contents: [1, 2, 3] } }] });
      expect(answer.model_name).toBe('iris');
      expect(answer.outputs[0].name).toBe('greeting');
      expect(answer.outputs[0].contents.bytes_contents.map(String)).toEqual(['hello from a folder! x3']);
      expect(await health.check('')).toBe('SERVING');
      expect(await health.check('iris')).toBe('SERVING');
    } finally {
      grpc.close();
      health.close();
    }
  });

  it('the runtime\'s exec probes pass, and /metrics (the Prometheus annotations\' port and path) answers', async () => {
    for (const probe of [container.readinessProbe, container.livenessProbe] as Manifest[]) {
      const [node, ...rest] = (probe.exec.command as string[]).map(map);
      expect(node).toBe('node');
      expect(() => execFileSync(process.execPath, rest, { stdio: 'pipe' })).not.toThrow();
    }
    const annotations = runtime.spec.annotations as Record<string, string>;
    const metrics = await http(Number(map(annotations['prometheus.kserve.io/port'])), 'GET', annotations['prometheus.kserve.io/path']);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/model="iris"/);
  });

  it('the probe fails on a port where nothing answers (it can tell)', async () => {
    const idle = await freePort();
    const [, ...rest] = (container.readinessProbe.exec.command as string[]).map((v) => (v === '8080' ? String(idle) : map(v)));
    expect(() => execFileSync(process.execPath, rest, { stdio: 'pipe' })).toThrow();
  });

  it('no PORT clash: Knative\'s PORT (the h2c port) does not move REST, whose port the args name', () => {
    expect(argValue(container.args, 'http_port')).toBe('8080');
    expect(cli!.output()).not.toMatch(/EADDRINUSE/);
  });
});

