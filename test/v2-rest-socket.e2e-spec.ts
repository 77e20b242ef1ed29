/**
 * The v2 REST, payload, auth and deadline suites again, over real HTTP on a loopback port: plain JSON infer
 * requests are then answered by the HTTP server's fast lane instead of Fastify's route, and must not be told
 * apart.
 */
process.env.TEST_REST_TRANSPORT = 'socket';
require('./v2-rest.e2e-spec');
require('./v2-payloads.e2e-spec');
require('./auth.e2e-spec');
require('./deadlines.e2e-spec');
