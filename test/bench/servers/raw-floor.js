'use strict';
/**
 * What every raw node:http floor shares: `GET` answers readiness, any other request's body is collected and handed
 * to `answer(body, res)` (a Buffer), on 127.0.0.1 at `PORT` (or `defaultPort`).
 */
const http = require('node:http');

function serveRawFloor(defaultPort, answer) {
  const port = Number(process.env.PORT ?? defaultPort);
  return http
    .createServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"ready":true}');
      }
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => answer(Buffer.concat(chunks), res));
    })
    .listen(port, '127.0.0.1');
}

module.exports = { serveRawFloor };
