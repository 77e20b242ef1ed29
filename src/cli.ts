#!/usr/bin/env node
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_BODY_BYTES, GRPC_DEFAULTS, MODEL_SERVER_VERSION, ModelFaultGuard, ModelRepository } from '../libs/model-server/src/internal';
import cluster from 'node:cluster';
import { joinCluster, runPrimary } from './cluster';
import { loadServerConfig } from './config/server-config';
import { startServer } from './server';
import { installGracefulShutdown } from './shutdown';

const MiB = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;

const USAGE = `Usage: nest-model-server serve [options]

Serves the models listed in a config file over the KServe v2 / Open Inference Protocol.

Options:
  --config FILE         models and settings, JSON or YAML (env CONFIG; default: the bundled samples)
  --port N              HTTP port (env PORT, default 8080)
  --host H              HTTP host (env HOST, default ${GRPC_DEFAULTS.host})
  --grpc-port N         gRPC port (env GRPC_PORT, default ${GRPC_DEFAULTS.port})
  --grpc-max-message-bytes N
                        largest gRPC request or response message in bytes (env GRPC_MAX_MESSAGE_BYTES, default ${MiB(GRPC_DEFAULTS.maxReceiveMessageBytes)})
  --load-mode MODE      blocking (load before listening) or background (env LOAD_MODE)
  --max-body-bytes N    request body limit in bytes (env MAX_BODY_BYTES, default ${MiB(DEFAULT_MAX_BODY_BYTES)})
  --debug               stack traces in 500 answers (env DEBUG=1)
  --workers N           N server processes sharing the ports (env WORKERS, default 1)
  --shutdown-grace-ms N time in-flight requests get after SIGTERM (env SHUTDOWN_GRACE_MS, default ${GRPC_DEFAULTS.shutdownGraceMs})
  --log-level LEVEL     trace, debug, info, warn, error, fatal or silent (env LOG_LEVEL, default info)
  --log-format FORMAT   json (structured, default) or text (env LOG_FORMAT)
  --log-stream URL      request records to stdout, file:///path.jsonl, redis://host:port/stream-key or http(s)://url
                        (env LOG_STREAM; default: none)
  --log-stream-format F mlrun or cloudevents (env LOG_STREAM_FORMAT; default cloudevents for http, else mlrun)
  --log-stream-sample N record every Nth successful request of each model; failures always (env LOG_STREAM_SAMPLE)
  --log-stream-batch N  records sent per batch, at most 200 ms apart (env LOG_STREAM_BATCH; default 1000 to a
                        file or stdout, else 100)
  --no-metrics          no Prometheus metrics at GET /metrics (env METRICS=0)
  -h, --help            this text
  -v, --version         the version

SageMaker serving contract (GET /ping, POST /invocations, GET /execution-parameters; "sagemaker" in the config file):
  SAGEMAKER_BIND_TO_PORT               the HTTP port, over --port and PORT (set by SageMaker in its containers)
  SAGEMAKER_MODEL_SERVER_TIMEOUT       seconds an invocation may take before it answers 504
  SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT response type when a request sends no Accept
`;

/** The bundled samples' config, used when neither --config nor CONFIG is given. */
function samplesConfig(): string {
  // dist/src/cli.js and src/cli.ts both sit two levels below the project root (dist/ or the root itself).
  const root = __dirname.includes(`${join('dist', 'src')}`) ? join(__dirname, '..', '..') : join(__dirname, '..');
  return join(root, 'samples', 'models.yaml');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'grpc-port': { type: 'string' },
      'grpc-max-message-bytes': { type: 'string' },
      'load-mode': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      debug: { type: 'boolean' },
      workers: { type: 'string' },
      'shutdown-grace-ms': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      'log-stream': { type: 'string' },
      'log-stream-format': { type: 'string' },
      'log-stream-sample': { type: 'string' },
      'log-stream-batch': { type: 'string' },
      'no-metrics': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${MODEL_SERVER_VERSION}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'serve';
  if (command !== 'serve' || positionals.length > 1) {
    process.stderr.write(`unknown command '${positionals.join(' ')}'\n\n${USAGE}`);
    return 2;
  }
  const config = loadServerConfig(
    {
      config: values.config,
      port: values.port,
      host: values.host,
      grpcPort: values['grpc-port'],
      grpcMaxMessageBytes: values['grpc-max-message-bytes'],
      loadMode: values['load-mode'],
      maxBodyBytes: values['max-body-bytes'],
      debug: values.debug,
      workers: values.workers,
      shutdownGraceMs: values['shutdown-grace-ms'],
      logLevel: values['log-level'],
      logFormat: values['log-format'],
      logStream: values['log-stream'],
      logStreamFormat: values['log-stream-format'],
      logStreamSample: values['log-stream-sample'],
      logStreamBatch: values['log-stream-batch'],
      metrics: values['no-metrics'] ? false : undefined,
    },
    process.env,
    samplesConfig(),
  );
  if (config.workers > 1 && cluster.isPrimary) {
    runPrimary(config.workers, config.shutdownGraceMs);
    return -1;
  }
  // Faults that escape model code outside requests are logged with the model named and counted (a model that keeps
  // faulting is marked failed) instead of ending the process. Made before the models load, so their hooks are
  // wrapped for model scopes (tracked from the first fault on: a healthy server pays nothing for them).
  const faults = new ModelFaultGuard();
  process.on('uncaughtException', faults.onUncaughtException);
  process.on('unhandledRejection', faults.onUnhandledRejection);
  const app = await startServer(config);
  faults.watch(app.get(ModelRepository));
  installGracefulShutdown(app, config.shutdownGraceMs);
  if (cluster.isWorker) joinCluster(app);
  process.stdout.write(`nest-model-server listening on http://${config.host}:${config.port} (${config.options.models.length} models, pid ${process.pid})\n`);
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`nest-model-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
