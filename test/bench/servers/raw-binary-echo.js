'use strict';
/**
 * The floor of binary echo: a raw node:http server answering each POST with its body's bytes (Content-Length
 * set), with a health route for readiness.
 */
const http = require('node:http');

const port = Number(process.env.PORT ?? 18150);
http
  .createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"ready":true}');
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
  })
  .listen(port, '127.0.0.1');
