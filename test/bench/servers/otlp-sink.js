'use strict';
/**
 * The tracing benchmark's OTLP/HTTP receiver, a process of its own on the load core (in the benchmark's own process
 * it ran wherever the scheduler put it, the servers' core included): answers every export 200 with an empty
 * export response in the request's encoding (OTLP/protobuf or OTLP/JSON) and keeps nothing.
 * `GET /` answers the counts so far, `{"posts": n, "bytes": n}`.
 */
const http = require('node:http');

const port = Number(process.env.PORT);
let bytes = 0;
let posts = 0;
http
  .createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ posts, bytes }));
      return;
    }
    req.on('data', (c) => (bytes += c.length));
    req.on('end', () => {
      posts++;
      // An empty ExportTraceServiceResponse: no bytes in protobuf, `{}` in JSON.
      const protobuf = req.headers['content-type'] === 'application/x-protobuf';
      res.writeHead(200, { 'content-type': protobuf ? 'application/x-protobuf' : 'application/json' });
      res.end(protobuf ? '' : '{}');
    });
  })
  .listen(port, '127.0.0.1');
