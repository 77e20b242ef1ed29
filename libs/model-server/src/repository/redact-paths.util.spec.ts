import { withoutPaths } from './redact-paths.util';

describe('withoutPaths', () => {
  it.each([
    ["ENOENT: no such file or directory, open '/srv/models/iris/model.json'", "ENOENT: no such file or directory, open '…/model.json'"],
    ['cannot find model module /work/app/models/x (tried .js, .cjs, .ts)', 'cannot find model module …/x (tried .js, .cjs, .ts)'],
    ['/opt/a.ts exports no ModelServer subclass', '…/a.ts exports no ModelServer subclass'],
    ['(/a/b/c.js:10:5)', '(…/c.js:10:5)'],
    ["'x' is outside the model path /srv/m", "'x' is outside the model path …/m"],
    ['open C:\\Users\\me\\model.onnx failed', 'open …\\model.onnx failed'],
  ])('shortens absolute paths: %p', (text, expected) => {
    expect(withoutPaths(text)).toBe(expected);
  });

  it.each([
    'see https://example.com/docs/models for help',
    'relative ./models/iris and ../up/there stay',
    'a ratio 3/4 and and/or stay',
    'GET /',
    'no paths here',
  ])('leaves URLs, relative paths and plain text alone: %p', (text) => {
    expect(withoutPaths(text)).toBe(text);
  });

  it('is linear on hostile input', () => {
    const text = '/a'.repeat(200_000) + ' ' + '/'.repeat(200_000);
    const started = performance.now();
    withoutPaths(text);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
