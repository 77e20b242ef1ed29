import process from 'node:process';
import cluster, { type Worker } from 'node:cluster';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelRepository } from 'nest-model-server';

/** Messages between the primary and the server processes. */
type ClusterMessage = { type: 'nms:ready'; ready: boolean } | { type: 'nms:cluster-ready'; ready: boolean };

const REPORT_EVERY_MS = 250;

/**
 * `--workers N`: the primary process forks N server processes that share the listening ports (Node cluster),
 * replaces a process that dies, and tells every process whether all N are ready; each process is ready only
 * when all are. SIGTERM / SIGINT are passed on; the primary exits 0 once every process has exited (or kills them
 * `stopMs` + 5 s after the signal: their shutdown delay and grace period).
 */
export function runPrimary(workers: number, stopMs: number): void {
  const logger = new Logger('Cluster');
  const readiness = new Map<number, boolean>();
  let stopping = false;
  let clusterReady = false;

  const broadcast = (): void => {
    const all = readiness.size === workers && [...readiness.values()].every(Boolean);
    if (all === clusterReady) return;
    clusterReady = all;
    for (const w of Object.values(cluster.workers ?? {})) if (w !== undefined) tell(w, { type: 'nms:cluster-ready', ready: all });
  };
  const fork = (): Worker => {
    const worker = cluster.fork();
    readiness.set(worker.id, false);
    // A process that exits while a message is on its way breaks the channel (EPIPE): its exit is handled below.
    worker.on('error', (err) => logger.warn(`server process ${worker.process.pid}: ${err.message}`));
    worker.on('message', (msg: ClusterMessage) => {
      if (msg?.type !== 'nms:ready') return;
      readiness.set(worker.id, msg.ready);
      broadcast();
      // A process that just joined learns the current state even if it did not change.
      tell(worker, { type: 'nms:cluster-ready', ready: clusterReady });
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    readiness.delete(worker.id);
    broadcast();
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error(`server process ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.log(`${signal}: stopping ${workers} server processes`);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }, stopMs + 5000).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  logger.log(`starting ${workers} server processes`);
  for (let i = 0; i < workers; i++) fork();
}

/** Sends a message to a server process unless it is already gone (its exit is handled by the 'exit' listener). */
function tell(worker: Worker, message: ClusterMessage): void {
  if (!worker.isConnected() || worker.isDead()) return;
  // A send that fails (the process exited meanwhile) is reported to the callback instead of thrown.
  worker.send(message, () => undefined);
}

/** In a server process of a cluster: readiness also waits for every sibling, and this process reports its own. */
export function joinCluster(app: NestFastifyApplication): void {
  const repository = app.get(ModelRepository);
  let clusterReady = false;
  repository.addReadinessGate(() => clusterReady);
  process.on('message', (msg: ClusterMessage) => {
    if (msg?.type === 'nms:cluster-ready') clusterReady = msg.ready;
  });
  let last: boolean | undefined;
  const report = (): void => {
    const ready = repository.isLocallyReady();
    if (ready !== last || !clusterReady) process.send?.({ type: 'nms:ready', ready } satisfies ClusterMessage);
    last = ready;
  };
  report();
  setInterval(report, REPORT_EVERY_MS).unref();
}

export const isClusterWorker = (): boolean => cluster.isWorker;
