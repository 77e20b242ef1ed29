import { matchInferPath } from './v2-routes.table';

describe('matchInferPath', () => {
  it.each([
    ['/v2/models/echo/infer', { model: 'echo', version: undefined }],
    ['/v2/models/echo/infer/', { model: 'echo', version: undefined }],
    ['/v2/models/echo/versions/3/infer', { model: 'echo', version: '3' }],
    ['/v2/models/echo/versions/v1.2/infer/', { model: 'echo', version: 'v1.2' }],
    ['/v2/models/infer/infer', { model: 'infer', version: undefined }],
  ])('%s addresses %j', (url, target) => {
    expect(matchInferPath(url)).toEqual(target);
  });

  it.each([
    '/v2/models/echo/explain',
    '/v2/models/echo',
    '/v2/models//infer',
    '/v2/models/echo/versions//infer',
    '/v2/models/echo/versions/1/2/infer',
    '/v2/models/echo/member/infer',
    '/v2/models/echo/versions/infer',
    '/v2/models/echo/infer?x=1',
    '/v2/models/ec%68o/infer',
    '/v2/models/echo/inferx',
    '/v2/models/echo/infer//',
    `/v2/models/${'m'.repeat(257)}/infer`,
    '/v1/models/echo/infer',
    '/v2/models/infer',
  ])('%s is left to the router', (url) => {
    expect(matchInferPath(url)).toBeNull();
  });
});
