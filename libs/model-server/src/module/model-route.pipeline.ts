import {
  ForbiddenException,
  InternalServerErrorException,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { EXCEPTION_FILTERS_METADATA, FILTER_CATCH_EXCEPTIONS, GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import type { ApplicationConfig, ModuleRef } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { defer, isObservable, lastValueFrom, mergeAll, type Observable } from 'rxjs';
import { ModelServerError } from '../errors/model-server.error';
import type { HttpAnswer } from '../protocol/http/http-answer';
import type { ModelRoutePipelineSource, V2RoutePipeline } from '../protocol/v2/rest/v2-rest.routes';
import type { ModelRegistration } from './model-registrations';

/** Nest's message when a guard answers false (what its router answers for controllers). */
const FORBIDDEN_MESSAGE = 'Forbidden resource';

/** A filter and the exceptions it catches (its `@Catch(...)`; none: everything). */
interface FilterEntry {
  filter: ExceptionFilter;
  catches: readonly Type[];
}

/**
 * The Nest request pipeline of one class's routes: the application's global guards and interceptors (`APP_GUARD`,
 * `useGlobalGuards`...) and the class's own (`@UseGuards`, `@UseInterceptors`, `@UseFilters` on a model class),
 * in Nest's order. Exceptions the guards and interceptors throw go to the class's filters, then the global ones
 * (the module's own `{"error"}` filter among them), as for a controller. The route's own errors (an unknown model,
 * bad tensors, a model's failure) are answered in the protocol's shape, unless a filter names `ModelServerError`
 * (or a subclass) in its `@Catch`: the first such filter that matches answers instead. Catch-all filters (and
 * `@Catch(Error)`) do not see them: such filters commonly answer whatever is not an `HttpException` with a 500.
 */
class ClassPipeline {
  /** The filters that name model errors (see above). */
  private readonly errorFilters: readonly FilterEntry[];

  constructor(
    private readonly classRef: Type,
    readonly guards: readonly CanActivate[],
    private readonly interceptors: readonly NestInterceptor[],
    private readonly filters: readonly FilterEntry[],
  ) {
    this.errorFilters = filters.filter((f) => f.catches.some(namesModelErrors));
  }

  get empty(): boolean {
    return this.guards.length === 0 && this.interceptors.length === 0 && this.errorFilters.length === 0;
  }

  async run(handler: () => unknown, req: FastifyRequest, reply: FastifyReply, answer: () => Promise<HttpAnswer>): Promise<HttpAnswer | undefined> {
    const context = new ExecutionContextHost([req, reply], this.classRef, handler);
    context.setType('http');
    try {
      for (const guard of this.guards) {
        if (!(await settle(guard.canActivate(context)))) throw new ForbiddenException(FORBIDDEN_MESSAGE);
      }
      const result = this.interceptors.length === 0 ? await answer() : await lastValueFrom(this.intercept(context, 0, answer));
      if (!isAnswer(result)) {
        throw new InternalServerErrorException(
          `an interceptor replaced the answer of ${req.method} ${req.url.split('?')[0]} with ${typeof result}: interceptors on model routes may observe the answer, not replace it`,
        );
      }
      if (result.error === undefined || this.errorFilters.length === 0) return result;
      const error = result.error;
      const own = this.errorFilters.find((f) => f.catches.some((type) => namesModelErrors(type) && error instanceof type));
      if (own === undefined) return result;
      await own.filter.catch(error, context);
      return undefined;
    } catch (err) {
      const entry = this.filters.find((f) => f.catches.length === 0 || f.catches.some((type) => err instanceof type));
      // The module's own catch-all filter is global, so one always matches; without it, rethrow to Fastify.
      if (entry === undefined) throw err;
      await entry.filter.catch(err, context);
      return undefined;
    }
  }

  private intercept(context: ExecutionContextHost, i: number, answer: () => Promise<HttpAnswer>): Observable<unknown> {
    if (i >= this.interceptors.length) return defer(answer);
    const next: CallHandler = { handle: () => this.intercept(context, i + 1, answer) };
    // `intercept` returns an Observable or a promise of one: as a promise, always, then flattened.
    return defer(async () => this.interceptors[i].intercept(context, next)).pipe(mergeAll());
  }
}

/**
 * The Nest request pipeline of the v2 routes, built at boot: each model's (its class's enhancers with the global
 * ones) and the server routes' (global ones only, `ModelServerModule` as the class). Routes whose pipeline is empty
 * run bare; {@link guarded} tells the fast lane which infer requests it must leave to Fastify's route.
 *
 * @internal
 */
export class ModelRoutePipelines implements V2RoutePipeline {
  private constructor(
    private readonly server: ClassPipeline,
    private readonly models: ReadonlyMap<string, ClassPipeline>,
  ) {}

  /**
   * The pipelines, or `undefined` when no route has a guard or an interceptor (the routes then run bare).
   * Throws when a global enhancer is request-scoped: it would need a per-request injector the routes do not build.
   */
  static async build(config: ApplicationConfig, registrations: readonly ModelRegistration[], serverClass: Type): Promise<ModelRoutePipelines | undefined> {
    const scoped = [...config.getGlobalRequestGuards(), ...config.getGlobalRequestInterceptors()].map((w) => w.name);
    if (scoped.length > 0) {
      throw new Error(
        `request-scoped global guards or interceptors (${scoped.join(', ')}) cannot run on the model routes, which build no ` +
          'per-request injector: make them singletons (the default scope) and read the request from the ExecutionContext',
      );
    }
    const guards = config.getGlobalGuards();
    const interceptors = config.getGlobalInterceptors();
    const filters = [...config.getGlobalFilters()].reverse().map(filterEntry);
    const server = new ClassPipeline(serverClass, guards, interceptors, filters);
    const models = new Map<string, ClassPipeline>();
    for (const { config: model, moduleRef } of registrations) {
      const own = (key: string) => (Reflect.getMetadata(key, model.model) as unknown[] | undefined) ?? [];
      models.set(
        model.name,
        new ClassPipeline(
          model.model,
          [...guards, ...(await instances<CanActivate>(own(GUARDS_METADATA), moduleRef))],
          [...interceptors, ...(await instances<NestInterceptor>(own(INTERCEPTORS_METADATA), moduleRef))],
          [...(await instances<ExceptionFilter>(own(EXCEPTION_FILTERS_METADATA), moduleRef)).reverse().map(filterEntry), ...filters],
        ),
      );
    }
    if (server.empty && [...models.values()].every((p) => p.empty)) return undefined;
    return new ModelRoutePipelines(server, models);
  }

  /** Whether requests to model `name` go through guards or interceptors (the fast lane leaves them to Fastify). */
  guarded(name: string): boolean {
    return !(this.models.get(name) ?? this.server).empty;
  }

  run(handler: () => unknown, model: string | undefined, req: FastifyRequest, reply: FastifyReply, answer: () => Promise<HttpAnswer>): Promise<HttpAnswer | undefined> {
    const pipeline = (model === undefined ? undefined : this.models.get(model)) ?? this.server;
    return pipeline.empty ? answer() : pipeline.run(handler, req, reply, answer);
  }
}

/**
 * The `MODEL_ROUTE_PIPELINE` provider: the pipelines, built at the first call (a registrar's `onModuleInit`, once
 * Nest has applied `APP_GUARD`s and the like) and shared by every transport's routes.
 *
 * @internal
 */
export class ModelRoutePipelineHolder implements ModelRoutePipelineSource {
  private built: Promise<ModelRoutePipelines | undefined> | undefined;

  constructor(
    private readonly config: ApplicationConfig | undefined,
    private readonly registrations: readonly ModelRegistration[],
    private readonly serverClass: Type,
  ) {}

  pipeline(): Promise<ModelRoutePipelines | undefined> {
    this.built ??= this.config === undefined ? Promise.resolve(undefined) : ModelRoutePipelines.build(this.config, this.registrations, this.serverClass);
    return this.built;
  }
}

/** The enhancers a class lists: instances as they are, classes built by the registering module's injector. */
async function instances<T>(listed: readonly unknown[], moduleRef: ModuleRef): Promise<T[]> {
  const out: T[] = [];
  for (const item of listed) {
    if (typeof item !== 'function') {
      out.push(item as T);
      continue;
    }
    let instance: T | undefined;
    try {
      instance = moduleRef.get(item as Type<T>, { strict: false });
    } catch {
      instance = undefined;
    }
    out.push(instance ?? (await moduleRef.create(item as Type<T>)));
  }
  return out;
}

/** `ModelServerError` or a subclass of it: a filter's `@Catch` naming it sees the model routes' errors. */
function namesModelErrors(type: Type): boolean {
  return type === ModelServerError || type.prototype instanceof ModelServerError;
}

function filterEntry(filter: ExceptionFilter): FilterEntry {
  return { filter, catches: (Reflect.getMetadata(FILTER_CATCH_EXCEPTIONS, filter.constructor) as Type[] | undefined) ?? [] };
}

async function settle(result: boolean | Promise<boolean> | Observable<boolean>): Promise<boolean> {
  const value = await result;
  return isObservable(value) ? lastValueFrom(value as Observable<boolean>) : value;
}

function isAnswer(value: unknown): value is HttpAnswer {
  return typeof value === 'object' && value !== null && typeof (value as HttpAnswer).status === 'number' && 'body' in value && 'headers' in value;
}
