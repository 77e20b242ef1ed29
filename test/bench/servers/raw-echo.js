'use strict';
/**
 * The floor: a raw node:http server doing the same JSON echo of a v2 infer request
 * (JSON.parse, build the response, JSON.stringify), with a health route for readiness.
 */
const { randomUUID } = require('node:crypto');
const { serveRawFloor } = require('./raw-floor');

serveRawFloor(18090, (bytes, res) => {
  const body = JSON.parse(bytes.toString('utf8'));
  const response = {
    model_name: 'echo',
    id: body.id ?? randomUUID(),
    outputs: body.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })),
  };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(response));
});
