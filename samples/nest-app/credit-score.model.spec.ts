import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { createFastifyAdapter } from 'nest-model-server';
import { AppModule } from './app.module';
import { DEV_API_KEY } from './auth/api-key.guard';
import { ApplicantFeaturesRepository, FeatureStoreUnavailableError, SEEDED_APPLICANTS, type ApplicantFeatures } from './scoring/applicant-features.repository';

/** The repository's test double: applicants in memory, or a database that is down. */
class FakeFeatures {
  down = false;
  readonly asked: string[][] = [];
  private readonly rows = new Map(SEEDED_APPLICANTS.map((a) => [a.id, a]));

  async findMany(ids: readonly string[]): Promise<Map<string, ApplicantFeatures>> {
    this.asked.push([...ids]);
    if (this.down) throw new FeatureStoreUnavailableError(new Error('connect ECONNREFUSED'));
    return new Map(ids.filter((id) => this.rows.has(id)).map((id) => [id, this.rows.get(id)!]));
  }

  async findOne(id: string): Promise<ApplicantFeatures | undefined> {
    return (await this.findMany([id])).get(id);
  }
}

const KEY = { 'x-api-key': DEV_API_KEY, 'content-type': 'application/json' };
const score = (...ids: string[]) => JSON.stringify({ inputs: [{ name: 'applicant_id', datatype: 'BYTES', shape: [ids.length], data: ids }] });

describe('the credit-score model of the Nest application sample (the feature repository replaced through DI)', () => {
  let app: NestFastifyApplication;
  const features = new FakeFeatures();

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).overrideProvider(ApplicantFeaturesRepository).useValue(features).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());
  beforeEach(() => {
    features.down = false;
    features.asked.length = 0;
  });

  const infer = (payload: string, headers: Record<string, string> = KEY) => app.inject({ method: 'POST', url: '/v2/models/credit-score/infer', payload, headers });

  it('scores stored applicants, looked up by id through the injected repository', async () => {
    const res = await infer(score('A-1001', 'A-1002'));
    expect(res.statusCode).toBe(200);
    const outputs = res.json().outputs as { name: string; data: unknown[] }[];
    const scores = outputs.find((o) => o.name === 'score')!.data as number[];
    expect(scores).toHaveLength(2);
    expect(scores[0]).toBeGreaterThan(scores[1]);
    expect(outputs.find((o) => o.name === 'decision')!.data).toEqual(['approve', 'decline']);
    expect(features.asked).toEqual([['A-1001', 'A-1002']]);
  });

  it('answers 404 naming the unknown applicant ids', async () => {
    const res = await infer(score('A-1001', 'Z-404', 'Z-405'));
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: "unknown applicant ids: 'Z-404', 'Z-405'" });
  });

  it('answers 503 with Retry-After when the feature database is down, and keeps serving', async () => {
    features.down = true;
    const res = await infer(score('A-1001'));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().error).toContain('the feature database does not answer');
    expect(res.body).not.toContain('    at ');
    expect((await app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);
    features.down = false;
    expect((await infer(score('A-1001'))).statusCode).toBe(200);
  });

  it('refuses requests without the API key (the application\'s own guard), but not the health probes', async () => {
    const res = await infer(score('A-1001'), { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'a valid x-api-key header is required' });
    expect((await infer(score('A-1001'), { ...KEY, 'x-api-key': 'wrong' })).statusCode).toBe(401);
    expect(features.asked).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode).toBe(200);
  });

  it('serves the application\'s own controller from the same repository', async () => {
    const found = await app.inject({ method: 'GET', url: '/applicants/A-1003', headers: KEY });
    expect(found.json()).toEqual(SEEDED_APPLICANTS[2]);
    const missing = await app.inject({ method: 'GET', url: '/applicants/nobody', headers: KEY });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: "unknown applicant id: 'nobody'" });
    features.down = true;
    const down = await app.inject({ method: 'GET', url: '/applicants/A-1003', headers: KEY });
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
  });

  it('refuses a request without the applicant_id input', async () => {
    const res = await infer(JSON.stringify({ inputs: [{ name: 'age', datatype: 'INT32', shape: [1], data: [30] }] }));
    expect(res.statusCode).toBe(400);
  });
});
