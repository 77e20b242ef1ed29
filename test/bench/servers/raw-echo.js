'use strict';
/**
 * The floor: a raw node:http server doing the same JSON echo of a v2 infer request
 * (JSON.parse, build the response, JSON.stringify), with a health route for readiness.
 */
const http = require('node:http');
const { randomUUID } = require('node:crypto');

const port = Number(process.env.PORT ?? 18090);
http
  .createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"ready":true}');
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const response = {
        model_name: 'echo',
        id: body.id ?? randomUUID(),
        outputs: body.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })),
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(response));
    });
  })
  .listen(port, '127.0.0.1');
