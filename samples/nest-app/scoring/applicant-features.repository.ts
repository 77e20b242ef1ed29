import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from './pg-pool.provider';

/** One applicant's stored features, as the scorecard consumes them. */
export interface ApplicantFeatures {
  id: string;
  age: number;
  income: number;
  debt: number;
  employed: boolean;
}

/** The feature database did not answer (down, unreachable, too slow); a retry later may succeed. */
export class FeatureStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the applicant feature database is unavailable (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = 'FeatureStoreUnavailableError';
  }
}

/** The table the sample creates and seeds (its own name, so it shares the `test` database with anyone). */
export const FEATURES_TABLE = 'nest_app_applicant_features';

/** The applicants the sample seeds on first use. */
export const SEEDED_APPLICANTS: readonly ApplicantFeatures[] = [
  { id: 'A-1001', age: 42, income: 85000, debt: 12000, employed: true },
  { id: 'A-1002', age: 23, income: 18000, debt: 40000, employed: false },
  { id: 'A-1003', age: 35, income: 52000, debt: 9000, employed: true },
  { id: 'A-1004', age: 61, income: 30000, debt: 2000, employed: false },
];

/**
 * Applicants' stored features in PostgreSQL. The table is created and seeded on first use (not at boot, so the
 * application starts while the database is down, and comes right once it answers); every failure to reach the
 * database is a {@link FeatureStoreUnavailableError}.
 */
@Injectable()
export class ApplicantFeaturesRepository {
  private readonly logger = new Logger('ApplicantFeatures');
  private schema: Promise<void> | null = null;

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** The features of each id that is stored, by id (unknown ids are absent). */
  async findMany(ids: readonly string[]): Promise<Map<string, ApplicantFeatures>> {
    const rows = await this.query<ApplicantFeatures>(`SELECT id, age, income, debt, employed FROM ${FEATURES_TABLE} WHERE id = ANY($1::text[])`, [ids]);
    return new Map(rows.map((r) => [r.id, r]));
  }

  async findOne(id: string): Promise<ApplicantFeatures | undefined> {
    return (await this.findMany([id])).get(id);
  }

  private async query<T>(sql: string, params: unknown[]): Promise<T[]> {
    try {
      await this.ensureSchema();
      return (await this.pool.query(sql, params)).rows as T[];
    } catch (err) {
      this.logger.warn(`feature lookup failed: ${err instanceof Error ? err.message : String(err)}`);
      throw new FeatureStoreUnavailableError(err);
    }
  }

  /** Creates and seeds the table once; a failure is retried by the next lookup. */
  private ensureSchema(): Promise<void> {
    this.schema ??= this.createSchema().catch((err: unknown) => {
      this.schema = null;
      throw err;
    });
    return this.schema;
  }

  private async createSchema(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Several processes (tests in parallel) may create it at once: one at a time.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('${FEATURES_TABLE}'))`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${FEATURES_TABLE} (id text PRIMARY KEY, age integer NOT NULL, income double precision NOT NULL, debt double precision NOT NULL, employed boolean NOT NULL)`,
      );
      for (const a of SEEDED_APPLICANTS) {
        await client.query(`INSERT INTO ${FEATURES_TABLE} (id, age, income, debt, employed) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`, [
          a.id,
          a.age,
          a.income,
          a.debt,
          a.employed,
        ]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
