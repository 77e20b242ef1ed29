import process from 'node:process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ModelFaultGuard, ModelRepository } from 'nest-model-server';
import { MODEL_SERVER_VERSION } from '../libs/model-server/src/internal';
import cluster from 'node:cluster';
import { joinCluster, runPrimary } from './cluster';
import { KSERVE_MODEL_DIR, SAGEMAKER_MODEL_DIR, flagsOf, optionsHelp, parseArgsOptions } from './config/cli-settings';
import { loadServerConfig } from './config/server-config';
import { exitWithError } from './cli-exit';
import { startServer } from './server';
import { installGracefulShutdown } from './shutdown';

const USAGE = `Usage: nest-model-server serve [options]

Serves the models listed in a config file, or a model folder, over the KServe v2 / Open Inference Protocol.

Options:
${optionsHelp()}
  -h, --help            this text
  -v, --version         the version

SageMaker serving contract (GET /ping, POST /invocations, GET /execution-parameters; "sagemaker" in the config file):
  SAGEMAKER_BIND_TO_PORT               the HTTP port, over --port and PORT (set by SageMaker in its containers)
  SAGEMAKER_MODEL_SERVER_TIMEOUT       seconds an invocation may take before it answers 504
  SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT response type when a request sends no Accept
  SAGEMAKER_MULTI_MODEL=true           multi-model endpoint: POST/GET /models, GET/DELETE /models/{name},
                                       POST /models/{name}/invoke (model folders loaded at run time; one worker)
  SAGEMAKER_MULTI_MODEL_MAX_MODELS     models loaded at once past which POST /models answers 507 (0: no limit)
  SAGEMAKER_MULTI_MODEL_MAX_MEMORY_MB  resident memory (MiB) at which POST /models answers 507 (0: no limit)
`;

/** The bundled samples' config, used when neither --config nor CONFIG is given. */
function samplesConfig(): string {
  // dist/src/ and src/ both sit two levels below the project root (dist/ or the root itself).
  const root = __dirname.includes(`${join('dist', 'src')}`) ? join(__dirname, '..', '..') : join(__dirname, '..');
  return join(root, 'samples', 'models.yaml');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...parseArgsOptions(),
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
  const config = loadServerConfig(flagsOf(values), process.env, samplesConfig(), [KSERVE_MODEL_DIR, SAGEMAKER_MODEL_DIR].find((dir) => existsSync(dir)));
  if (config.workers > 1 && cluster.isPrimary) {
    runPrimary(config.workers, config.shutdownDelayMs + config.shutdownGraceMs);
    return -1;
  }
  // Faults that escape model code outside requests are logged with the model named and counted (a model that keeps
  // faulting is marked failed) instead of ending the process. Made before the models load, so their hooks are
  // wrapped for model scopes (tracked from the first fault on: a healthy server pays nothing for them).
  const faults = new ModelFaultGuard();
  process.on('uncaughtException', faults.onUncaughtException);
  process.on('unhandledRejection', faults.onUnhandledRejection);
  // The trace SDK starts before the server is made: the library checks then whether there is one. It is loaded only
  // when it is configured: a server that does not trace keeps neither its modules nor their heap.
  const tracing =
    config.tracing === false ? undefined : (require('./tracing') as typeof import('./tracing')).startTracing(config.tracing);
  const app = await startServer(config);
  faults.watch(app.get(ModelRepository));
  installGracefulShutdown(app, { graceMs: config.shutdownGraceMs, delayMs: config.shutdownDelayMs, flushTraces: tracing?.shutdown });
  if (cluster.isWorker) joinCluster(app);
  process.stdout.write(`nest-model-server listening on http://${config.host}:${config.port} (${config.options.models.length} models, pid ${process.pid})\n`);
  return -1; // keep running
}

/** Runs the CLI in this process: exits when the command is done, keeps running while it serves. */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (err: unknown) => exitWithError(err),
  );
}
