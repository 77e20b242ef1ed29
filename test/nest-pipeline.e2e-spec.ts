import {
  Catch,
  Controller,
  Get,
  Injectable,
  Module,
  Scope,
  UnauthorizedException,
  UseFilters,
  UseGuards,
  UseInterceptors,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, tap, type Observable } from 'rxjs';
import { createFastifyAdapter, ErrorCode, ModelServer, ModelServerError, ModelServerModule, type InferenceRequest, type InferenceResult, type ModelConfig } from 'nest-model-server';
import { SageMakerModule } from 'nest-model-server/sagemaker';
import { DOORS, send, type Door } from './helpers/test-app';

/** What a user's auth module holds: the check of a token, injected into the guard. */
@Injectable()
class TokenService {
  verify(token: string | undefined): { sub: string } | undefined {
    return token === 'Bearer good-token' ? { sub: 'alice' } : undefined;
  }
}

/** A JWT-style guard from the application's own module: it knows nothing of models or health routes. */
@Injectable()
class JwtGuard implements CanActivate {
  constructor(private readonly tokens: TokenService) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<FastifyRequest & { user?: unknown }>();
    const user = this.tokens.verify(req.headers.authorization);
    if (user === undefined) throw new UnauthorizedException('a valid bearer token is required');
    req.user = user;
    return true;
  }
}

@Module({ providers: [TokenService, { provide: APP_GUARD, useClass: JwtGuard }], exports: [TokenService] })
class AuthModule {}

class Echo extends ModelServer {
  predict(req: InferenceRequest): InferenceResult {
    return { outputs: req.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })) };
  }
}

/** Refuses everyone: its guard answers false. */
@Injectable()
class DenyAll implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

/** Reads the model class's metadata, as role guards do. */
@Injectable()
class RoleGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const role = this.reflector.get<string>('role', context.getClass());
    return context.switchToHttp().getRequest<FastifyRequest>().headers['x-role'] === role;
  }
}

@Catch(UnauthorizedException)
class OwnUnauthorizedFilter implements ExceptionFilter {
  catch(_err: UnauthorizedException, host: ArgumentsHost): void {
    void host.switchToHttp().getResponse<FastifyReply>().code(401).header('www-authenticate', 'Bearer').send({ error: 'log in first' });
  }
}

@UseGuards(DenyAll)
class Locked extends Echo {}

@Reflect.metadata('role', 'admin')
@UseGuards(RoleGuard)
class AdminOnly extends Echo {}

@UseGuards(JwtGuard)
@UseFilters(OwnUnauthorizedFilter)
class Filtered extends Echo {}

/** Refuses a tensor that starts with 0, with a coded error (a client mistake). */
class Picky extends Echo {
  predict(req: InferenceRequest): InferenceResult {
    if ((req.inputs[0].data as ArrayLike<number>)[0] === 0) throw new ModelServerError(ErrorCode.InvalidRequest, 'zero is not allowed');
    return super.predict(req);
  }
}

/** Answers the model routes' errors in the application's own shape: it names ModelServerError. */
@Catch(ModelServerError)
class ModelErrorShape implements ExceptionFilter {
  catch(err: ModelServerError, host: ArgumentsHost): void {
    void host.switchToHttp().getResponse<FastifyReply>().code(422).send({ problem: err.message, code: err.code });
  }
}

/** A catch-all filter of the common kind: everything it sees becomes a 500. */
@Catch()
class EverythingIs500 implements ExceptionFilter {
  catch(_err: unknown, host: ArgumentsHost): void {
    void host.switchToHttp().getResponse<FastifyReply>().code(500).send({ statusCode: 500 });
  }
}

@UseFilters(ModelErrorShape)
class Reshaped extends Picky {}

@UseFilters(EverythingIs500)
class CaughtAll extends Picky {}

/** Adds a header to every answer it sees, and counts them. */
@Injectable()
class Stamp implements NestInterceptor {
  seen = 0;
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    this.seen++;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(tap(() => void reply.header('x-stamped', context.getClass().name)));
  }
}

@Injectable()
class Replacer implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((answer) => ({ data: answer })));
  }
}

@UseInterceptors(Stamp)
class Stamped extends Echo {}

@UseInterceptors(Replacer)
class Replaced extends Echo {}

@Controller('hello')
class HelloController {
  @Get()
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

const INFER = { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] };
const GOOD = { authorization: 'Bearer good-token' };

async function boot(
  imports: unknown[],
  door: Door,
  options: { fastLane?: boolean | 'always'; setUp?: (app: NestFastifyApplication) => void; providers?: unknown[] } = {},
): Promise<NestFastifyApplication & { seenByFastify: string[] }> {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[], controllers: [HelloController], providers: (options.providers ?? []) as never[] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({ fastLane: options.fastLane ?? 'always' }), { logger: false });
  options.setUp?.(app);
  const seenByFastify: string[] = [];
  // 'always' keeps the lane on beside this hook: what Fastify sees, the lane did not answer.
  app.getHttpAdapter().getInstance().addHook('onRequest', async (req: FastifyRequest) => void seenByFastify.push(req.url));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  if (door === 'socket') await app.listen(0, '127.0.0.1');
  return Object.assign(app, { seenByFastify });
}

const models = (...list: [string, ModelConfig['model']][]) => ModelServerModule.forRoot({ models: list.map(([name, model]) => ({ name, model })), modelControl: true });

describe.each(DOORS)('the Nest request pipeline on model routes (%s)', (door) => {
  describe('a global JWT-style guard (APP_GUARD) from the application\'s own module', () => {
    let app: NestFastifyApplication & { seenByFastify: string[] };
    beforeAll(async () => {
      app = await boot([models(['echo', Echo]), AuthModule], door);
    });
    afterAll(() => app?.close());

    it('refuses an unauthenticated infer with its 401 as {"error"}, on the fast lane\'s path too', async () => {
      const res = await send(app, 'POST', '/v2/models/echo/infer', INFER);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'a valid bearer token is required' });
      const versioned = await send(app, 'POST', '/v2/models/echo/versions/1/infer', INFER);
      expect(versioned.status).toBe(401);
    });

    it('lets an authenticated infer through, on Fastify\'s route (the lane leaves guarded models to it)', async () => {
      app.seenByFastify.length = 0;
      const res = await send(app, 'POST', '/v2/models/echo/infer', INFER, GOOD);
      expect(res.status).toBe(200);
      expect(res.body.outputs[0].data).toEqual([1, 2]);
      expect(app.seenByFastify).toEqual(['/v2/models/echo/infer']);
    });

    it('protects metadata, the model list and the repository API, but not the health routes', async () => {
      for (const path of ['/v2/models/echo', '/v2/models/echo/ready', '/v2', '/v2/models']) expect((await send(app, 'GET', path)).status).toBe(401);
      expect((await send(app, 'POST', '/v2/repository/models/echo/load', {})).status).toBe(401);
      expect((await send(app, 'POST', '/v2/repository/models/echo/load', {}, GOOD)).status).toBe(200);
      for (const path of ['/v2/health/ready', '/v2/health/live']) expect((await send(app, 'GET', path)).status).toBe(200);
    });

    it('protects KServe\'s v1 routes the same way (no side door)', async () => {
      const instances = { instances: [[1, 2]] };
      expect((await send(app, 'POST', '/v1/models/echo:predict', instances)).status).toBe(401);
      for (const path of ['/v1/models', '/v1/models/echo']) expect((await send(app, 'GET', path)).status).toBe(401);
      const res = await send(app, 'POST', '/v1/models/echo:predict', instances, GOOD);
      expect(res.status).toBe(200);
      expect(res.body).toHaveProperty('predictions');
      expect((await send(app, 'GET', '/v1/models/echo', undefined, GOOD)).status).toBe(200);
    });

    it('protects the OpenAI-compatible routes the same way', async () => {
      const completion = { model: 'echo', prompt: 'hello' };
      expect((await send(app, 'POST', '/openai/v1/completions', completion)).status).toBe(401);
      expect((await send(app, 'GET', '/openai/v1/models')).status).toBe(401);
      // Past the guard, the endpoint answers (echo has no text-generation adapter: OpenAI's 4xx, not the guard's 401).
      const res = await send(app, 'POST', '/openai/v1/completions', completion, GOOD);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).not.toBe(401);
      expect((await send(app, 'GET', '/openai/v1/models', undefined, GOOD)).status).toBe(200);
    });

    it('guards the application\'s own controllers the same way', async () => {
      expect((await send(app, 'GET', '/hello')).status).toBe(401);
      expect((await send(app, 'GET', '/hello', undefined, GOOD)).body).toEqual({ hello: 'world' });
    });
  });

  describe('guards, interceptors and filters on a model class', () => {
    let app: NestFastifyApplication & { seenByFastify: string[] };
    beforeAll(async () => {
      app = await boot(
        [
          models(
            ['open', Echo],
            ['locked', Locked],
            ['admin', AdminOnly],
            ['filtered', Filtered],
            ['stamped', Stamped],
            ['replaced', Replaced],
            ['reshaped', Reshaped],
            ['caught', CaughtAll],
          ),
        ],
        door,
        { providers: [TokenService] },
      );
    });
    afterAll(() => app?.close());

    it('answers 403 {"error"} when the class\'s guard says no, and leaves other models alone (on the lane)', async () => {
      const locked = await send(app, 'POST', '/v2/models/locked/infer', INFER);
      expect(locked.status).toBe(403);
      expect(locked.body).toEqual({ error: 'Forbidden resource' });
      app.seenByFastify.length = 0;
      expect((await send(app, 'POST', '/v2/models/open/infer', INFER)).status).toBe(200);
      // Through a socket the lane answers the unguarded model; app.inject always goes through Fastify.
      expect(app.seenByFastify).toEqual(door === 'socket' ? [] : ['/v2/models/open/infer']);
    });

    it('gives guards the model class, so Reflector reads its metadata', async () => {
      expect((await send(app, 'POST', '/v2/models/admin/infer', INFER, { 'x-role': 'user' })).status).toBe(403);
      expect((await send(app, 'POST', '/v2/models/admin/infer', INFER, { 'x-role': 'admin' })).status).toBe(200);
    });

    it('sends what the guard throws to the class\'s own exception filter', async () => {
      const res = await send(app, 'POST', '/v2/models/filtered/infer', INFER);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toEqual({ error: 'log in first' });
      expect((await send(app, 'POST', '/v2/models/filtered/infer', INFER, GOOD)).status).toBe(200);
    });

    it('gives the model route\'s own errors to a filter that names ModelServerError', async () => {
      const refused = await send(app, 'POST', '/v2/models/reshaped/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [0, 2] }] });
      expect([refused.status, refused.body]).toEqual([422, { problem: 'zero is not allowed', code: ErrorCode.InvalidRequest }]);
      // A request the decoder refuses (two values for a shape of three) is a model route's error too.
      const malformed = await send(app, 'POST', '/v2/models/reshaped/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2] }] });
      expect(malformed.status).toBe(422);
      expect(malformed.body.code).toBe(ErrorCode.InvalidRequest);
      expect((await send(app, 'POST', '/v2/models/reshaped/infer', INFER)).body.outputs[0].data).toEqual([1, 2]);
    });

    it('keeps the protocol\'s {"error"} answer under a catch-all filter (it would make every model error a 500)', async () => {
      const refused = await send(app, 'POST', '/v2/models/caught/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [0, 2] }] });
      expect([refused.status, refused.body]).toEqual([400, { error: 'zero is not allowed' }]);
    });

    it('runs the class\'s interceptor around the answer', async () => {
      const res = await send(app, 'POST', '/v2/models/stamped/infer', INFER);
      expect(res.status).toBe(200);
      expect(res.headers['x-stamped']).toBe('Stamped');
      expect(res.body.outputs[0].data).toEqual([1, 2]);
    });

    it('refuses an interceptor that replaces the answer, with a 500 {"error"} saying so', async () => {
      const res = await send(app, 'POST', '/v2/models/replaced/infer', INFER);
      expect(res.status).toBe(500);
      expect(res.body.error).toContain('interceptors on model routes may observe the answer, not replace it');
    });
  });

  describe('a global filter (APP_FILTER) that names ModelServerError', () => {
    let app: NestFastifyApplication & { seenByFastify: string[] };
    beforeAll(async () => {
      app = await boot([models(['echo', Echo], ['picky', Picky])], door, { providers: [{ provide: APP_FILTER, useClass: ModelErrorShape }] });
    });
    afterAll(() => app?.close());

    it('answers the errors of every model route, whatever door the request took', async () => {
      const unknown = await send(app, 'POST', '/v2/models/nope/infer', INFER);
      expect([unknown.status, unknown.body.code]).toEqual([422, ErrorCode.NotFound]);
      const refused = await send(app, 'POST', '/v2/models/picky/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [0, 2] }] });
      expect([refused.status, refused.body]).toEqual([422, { problem: 'zero is not allowed', code: ErrorCode.InvalidRequest }]);
      const v1 = await send(app, 'POST', '/v1/models/nope:predict', { instances: [[0, 2]] });
      expect([v1.status, v1.body.code]).toEqual([422, ErrorCode.NotFound]);
      // Successful answers and the health routes are untouched.
      expect((await send(app, 'POST', '/v2/models/echo/infer', INFER)).body.outputs[0].data).toEqual([1, 2]);
      expect((await send(app, 'GET', '/v2/health/ready')).status).toBe(200);
    });
  });
});

it('refuses at boot a request-scoped global guard, which the model routes cannot build per request', async () => {
  await expect(boot([models(['echo', Echo])], 'inject', { providers: [TokenService, { provide: APP_GUARD, useClass: JwtGuard, scope: Scope.REQUEST }] })).rejects.toThrow(
    /request-scoped global guards or interceptors \(JwtGuard\) cannot run on the model routes/,
  );
});

describe('the SageMaker routes', () => {
  it('run the global guard and the target model class\'s guard around /invocations; /ping stays open', async () => {
    const app = await boot([models(['echo', Echo], ['locked', Locked]), SageMakerModule.forRoot({ defaultModel: 'echo' }), AuthModule], 'inject');
    try {
      const invoke = (headers: Record<string, string>) => send(app, 'POST', '/invocations', INFER, headers);
      expect((await invoke({})).status).toBe(401);
      expect((await invoke({})).body).toEqual({ error: 'a valid bearer token is required' });
      expect((await invoke(GOOD)).status).toBe(200);
      const locked = await invoke({ ...GOOD, 'x-amzn-sagemaker-target-model': 'locked' });
      expect(locked.status).toBe(403);
      expect(locked.body).toEqual({ error: 'Forbidden resource' });
      // An unknown target passes the global guards only, then answers its own 404.
      expect((await invoke({ ...GOOD, 'x-amzn-sagemaker-target-model': 'nope' })).status).toBe(404);
      expect((await send(app, 'GET', '/ping')).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('global interceptors and the global prefix', () => {
  it('runs a global interceptor (APP_INTERCEPTOR) on every model route but health, through the lane\'s door too', async () => {
    const app = await boot([models(['echo', Echo])], 'socket', { providers: [Stamp, { provide: APP_INTERCEPTOR, useExisting: Stamp }] });
    try {
      const stamp = app.get(Stamp);
      const res = await send(app, 'POST', '/v2/models/echo/infer', INFER);
      expect(res.status).toBe(200);
      expect(res.headers['x-stamped']).toBe('Echo');
      expect((await send(app, 'GET', '/v2')).headers['x-stamped']).toBe('ModelServerModule');
      const before = stamp.seen;
      expect((await send(app, 'GET', '/v2/health/ready')).headers['x-stamped']).toBeUndefined();
      expect(stamp.seen).toBe(before);
    } finally {
      await app.close();
    }
  });

  it('keeps the v2 routes at /v2 under app.setGlobalPrefix (the protocol\'s paths), while the app\'s controllers move', async () => {
    const app = await boot([models(['echo', Echo])], 'socket', { setUp: (a) => a.setGlobalPrefix('api'), fastLane: true });
    try {
      expect((await send(app, 'POST', '/v2/models/echo/infer', INFER)).status).toBe(200);
      expect((await send(app, 'POST', '/api/v2/models/echo/infer', INFER)).status).toBe(404);
      expect((await send(app, 'GET', '/api/hello')).body).toEqual({ hello: 'world' });
      expect((await send(app, 'GET', '/hello')).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
