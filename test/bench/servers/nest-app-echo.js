'use strict';
/**
 * The echo model in a Nest application of its own (no CLI), with one global guard (APP_GUARD) when GUARD=1: the
 * guard checks a bearer token, as an application's JWT guard would (without the cryptography). Listens on PORT.
 */
require('reflect-metadata');
const path = require('node:path');
const { NestFactory, APP_GUARD } = require('@nestjs/core');
const { ModelServerModule, createFastifyAdapter } = require('nest-model-server');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const { EchoModel } = require(path.join(ROOT, 'dist', 'samples', 'echo', 'echo.model.js'));

const bearerGuard = {
  canActivate(context) {
    return context.switchToHttp().getRequest().headers.authorization === 'Bearer bench-token';
  },
};

class BenchApp {}

async function main() {
  const app = await NestFactory.create(
    {
      module: BenchApp,
      imports: [ModelServerModule.forRoot({ models: [{ name: 'echo', model: EchoModel }] })],
      providers: process.env.GUARD === '1' ? [{ provide: APP_GUARD, useValue: bearerGuard }] : [],
    },
    // The lane is off by default; on here, so the guard's cost includes the lane's gain it gives up.
    createFastifyAdapter({ fastLane: true }),
    { logger: ['error', 'warn'] },
  );
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT), '127.0.0.1');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
