import { Inject, Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Pool } from 'pg';

/** The token of the application's PostgreSQL pool. */
export const PG_POOL = Symbol('PG_POOL');

/** Where the features live unless `DATABASE_URL` says otherwise. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** How long a connection attempt or a query may take before the lookup answers 503, in milliseconds. */
const DATABASE_TIMEOUT_MS = 2000;

/**
 * The pool, from `DATABASE_URL`. Connections are made on first use, so the application starts while the database
 * is down; an idle connection the database drops is logged, never a crash.
 */
export const pgPoolProvider: Provider = {
  provide: PG_POOL,
  inject: [ConfigService],
  useFactory: (config: ConfigService) => {
    const pool = new Pool({
      connectionString: config.get<string>('DATABASE_URL', DEFAULT_DATABASE_URL),
      connectionTimeoutMillis: DATABASE_TIMEOUT_MS,
      query_timeout: DATABASE_TIMEOUT_MS,
      max: 10,
    });
    const logger = new Logger('PgPool');
    pool.on('error', (err) => logger.warn(`an idle database connection failed: ${err.message}`));
    return pool;
  },
};

/** Closes the pool at shutdown. */
@Injectable()
export class PgPoolCloser implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
