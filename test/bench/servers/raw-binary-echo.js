'use strict';
/**
 * The floor of binary echo: a raw node:http server answering each POST with its body's bytes (Content-Length
 * set), with a health route for readiness.
 */
const { serveRawFloor } = require('./raw-floor');

serveRawFloor(18150, (body, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
});
