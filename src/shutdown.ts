import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelRepository } from 'nest-model-server';

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
}

/**
 * Graceful shutdown on SIGTERM / SIGINT: readiness turns false at once; on SIGTERM, requests are still served for
 * `delayMs`; then the application closes (REST and gRPC stop taking new work and let in-flight requests finish,
 * the monitoring record pipeline flushes, every model's `unload` runs); `graceMs` later the remaining connections
 * are cut. Exits 0 when done. A second signal exits at once (1).
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
      () => {
        clearTimeout(force);
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
