import process from 'node:process';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelRepository } from 'nest-model-server';

/** The longest the spans still queued may take to be sent at shutdown (a collector that does not answer is not waited for). */
const TRACE_FLUSH_TIMEOUT_MS = 5000;

/** How the server stops. */
export interface ShutdownTimes {
  /** Milliseconds in-flight requests get to finish once the server stops taking work. */
  graceMs: number;
  /**
   * Milliseconds between SIGTERM and the server no longer taking work: readiness is off at once, requests are
   * still taken and served meanwhile, so that Kubernetes removes the pod from its endpoints before the server
   * closes. SIGINT (an interactive stop) skips it.
   */
  delayMs: number;
  /** Sends the spans still queued, once the application closed (at most {@link TRACE_FLUSH_TIMEOUT_MS}). */
  flushTraces?: () => Promise<void>;
}

/**
 * Graceful shutdown on SIGTERM / SIGINT: readiness turns false at once; on SIGTERM, requests are still served for
 * `delayMs`; then the application closes (REST and gRPC stop taking new work and let in-flight requests finish,
 * the monitoring record pipeline flushes, every model's `unload` runs), then the spans still queued are sent;
 * `graceMs` later the remaining connections are cut. Exits 0 when done. A second signal exits at once (1).
 */
export function installGracefulShutdown(app: NestFastifyApplication, times: ShutdownTimes, exit: (code: number) => void = process.exit): void {
  const logger = new Logger('Shutdown');
  const repository = app.get(ModelRepository);
  let stopping = false;
  const close = (): void => {
    const { graceMs } = times;
    logger.log(`draining in-flight requests (up to ${graceMs} ms)`);
    // Unloading waits for the requests still running on each model, but not past the grace period.
    repository.beginShutdown(Date.now() + graceMs);
    const force = setTimeout(() => {
      logger.warn(`grace period of ${graceMs} ms over: closing the remaining connections`);
      app.getHttpServer().closeAllConnections();
    }, graceMs);
    force.unref();
    app.close().then(
      async () => {
        clearTimeout(force);
        if (times.flushTraces !== undefined) await flushWithin(times.flushTraces, TRACE_FLUSH_TIMEOUT_MS, logger);
        logger.log('stopped');
        exit(0);
      },
      (err: unknown) => {
        logger.error(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`);
      exit(1);
      return;
    }
    stopping = true;
    repository.withdrawReadiness();
    const delayMs = signal === 'SIGTERM' ? times.delayMs : 0;
    if (delayMs === 0) {
      logger.log(`${signal}: not ready any more`);
      close();
      return;
    }
    logger.log(`${signal}: not ready any more; still serving for ${delayMs} ms while endpoints are removed`);
    setTimeout(close, delayMs);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Runs `flush`, waiting at most `ms`; a failure is logged, never thrown. */
async function flushWithin(flush: () => Promise<void>, ms: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    if ((await Promise.race([flush(), late])) === 'late') logger.warn(`the spans still queued were not all sent within ${ms} ms`);
  } catch (err) {
    logger.warn(`sending the spans still queued failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}
