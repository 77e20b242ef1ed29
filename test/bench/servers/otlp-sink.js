'use strict';
/**
 * The tracing benchmark's OTLP/HTTP receiver, a process of its own on the load core (in the benchmark's own process
 * it ran wherever the scheduler put it, the servers' core included): answers every export 200 and keeps nothing.
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
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  })
  .listen(port, '127.0.0.1');
