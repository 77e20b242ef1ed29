import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { createFastifyAdapter } from 'nest-model-server';
import { AppModule } from '../samples/nest-app/app.module';
import { DEV_API_KEY } from '../samples/nest-app/auth/api-key.guard';
import { FEATURES_TABLE } from '../samples/nest-app/scoring/applicant-features.repository';
import { DEFAULT_DATABASE_URL } from '../samples/nest-app/scoring/pg-pool.provider';

/**
 * The Nest application sample (samples/nest-app) against the real PostgreSQL at DATABASE_URL (started here, as
 * .ci/run starts it, when it does not answer), and against a database that is down (a closed loopback port).
 */
const DATABASE_URL = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

function postgresAnswers(): boolean {
  const url = new URL(DATABASE_URL);
  const probe = spawnSync('pg_isready', ['-h', url.hostname, '-p', url.port || '5432', '-t', '3'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** Whether PostgreSQL answers, after starting the local cluster if it did not. */
function ensurePostgres(): boolean {
  if (postgresAnswers()) return true;
  let versions: string[];
  try {
    versions = readdirSync('/etc/postgresql');
  } catch {
    return false;
  }
  process.stderr.write(`nest-app.e2e-spec: PostgreSQL does not answer at ${DATABASE_URL}; starting it\n`);
  for (const version of versions) spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' });
  for (let i = 0; i < 20 && !postgresAnswers(); i++) spawnSync('sleep', ['0.5']);
  return postgresAnswers();
}

const POSTGRES = ensurePostgres();
if (!POSTGRES) process.stderr.write(`nest-app.e2e-spec: PostgreSQL does not answer at ${DATABASE_URL} and could not be started: the real-database tests are skipped\n`);
const describePostgres = POSTGRES ? describe : describe.skip;

const KEY = { 'x-api-key': DEV_API_KEY, 'content-type': 'application/json' };
const score = (...ids: string[]) => JSON.stringify({ inputs: [{ name: 'applicant_id', datatype: 'BYTES', shape: [ids.length], data: ids }] });

async function bootSample(databaseUrl: string): Promise<NestFastifyApplication> {
  const before = process.env.DATABASE_URL;
  process.env.DATABASE_URL = databaseUrl;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  } finally {
    if (before === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = before;
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describePostgres('the Nest application sample on the real PostgreSQL', () => {
  let app: NestFastifyApplication;
  const client = new Client({ connectionString: DATABASE_URL });
  const id = `E2E-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    app = await bootSample(DATABASE_URL);
    await client.connect();
  });
  afterAll(async () => {
    await client.query(`DELETE FROM ${FEATURES_TABLE} WHERE id = $1`, [id]).catch(() => undefined);
    await client.end();
    await app?.close();
  });

  it('creates and seeds its table, and scores the seeded applicants', async () => {
    const res = await app.inject({ method: 'POST', url: '/v2/models/credit-score/infer', payload: score('A-1001', 'A-1002'), headers: KEY });
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs.find((o: { name: string }) => o.name === 'decision').data).toEqual(['approve', 'decline']);
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${FEATURES_TABLE} WHERE id LIKE 'A-100%'`);
    expect(rows[0].n).toBe(4);
  });

  it('reads what the database holds now: a row inserted by someone else is scored', async () => {
    expect((await app.inject({ method: 'POST', url: '/v2/models/credit-score/infer', payload: score(id), headers: KEY })).statusCode).toBe(404);
    await client.query(`INSERT INTO ${FEATURES_TABLE} (id, age, income, debt, employed) VALUES ($1, 50, 120000, 1000, true)`, [id]);
    const res = await app.inject({ method: 'POST', url: '/v2/models/credit-score/infer', payload: score(id), headers: KEY });
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs.find((o: { name: string }) => o.name === 'decision').data).toEqual(['approve']);
    expect((await app.inject({ method: 'GET', url: `/applicants/${id}`, headers: KEY })).json()).toEqual({ id, age: 50, income: 120000, debt: 1000, employed: true });
  });

  it('answers 404 naming an unknown applicant', async () => {
    const res = await app.inject({ method: 'POST', url: '/v2/models/credit-score/infer', payload: score('NOBODY-1'), headers: KEY });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: "unknown applicant id: 'NOBODY-1'" });
  });
});

describe('the Nest application sample with its database down', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await bootSample(`postgres://postgres@127.0.0.1:${await closedPort()}/test`);
  });
  afterAll(() => app?.close());

  it('starts, answers 503 with Retry-After (no stack) on every lookup, and stays ready and up', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: 'POST', url: '/v2/models/credit-score/infer', payload: score('A-1001'), headers: KEY });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toEqual({ error: 'applicant features are unavailable: the feature database does not answer; retry shortly' });
    }
    const own = await app.inject({ method: 'GET', url: '/applicants/A-1001', headers: KEY });
    expect(own.statusCode).toBe(503);
    expect(own.headers['retry-after']).toBe('5');
    expect((await app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);
  });
});
