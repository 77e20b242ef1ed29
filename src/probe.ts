#!/usr/bin/env node
/**
 * A health probe for containers: `node dist/src/probe.js [PATH] [--port N]` asks the server on 127.0.0.1 and exits
 * 0 when it answers 200, else 1 (refused, other status, no answer within 2 s). PATH defaults to
 * `/v2/health/ready`, the port to `PORT`, else 8080 (the CLI's default HTTP port). Used by the image's HEALTHCHECK and by the
 * ServingRuntime's exec probes, which work on whichever port Knative routes to (REST or gRPC) because they name
 * the HTTP port themselves. It loads nothing but node:http, so each probe costs a bare Node start.
 */
import process from 'node:process';
import { request } from 'node:http';

const TIMEOUT_MS = 2000;

function parse(argv: string[]): { path: string; port: number } {
  let path = '/v2/health/ready';
  let port = process.env.PORT !== undefined && process.env.PORT !== '' ? Number(process.env.PORT) : 8080;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const inline = /^--(?:port|http_port)=(.*)$/.exec(arg);
    if (inline !== null) port = Number(inline[1]);
    else if (arg === '--port' || arg === '--http_port') port = Number(argv[++i]);
    else if (arg.startsWith('/')) path = arg;
    else throw new Error(`unknown argument '${arg}' (usage: probe.js [PATH] [--port N])`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('--port must be a port number');
  return { path, port };
}

function probe(path: string, port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? 0 : 1);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(1));
    req.end();
  });
}

try {
  const { path, port } = parse(process.argv.slice(2));
  probe(path, port).then((code) => process.exit(code));
} catch (err) {
  process.stderr.write(`probe: ${(err as Error).message}\n`);
  process.exit(2);
}
