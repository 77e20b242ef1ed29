import { ModelServer, type InferenceResult } from '../model';
import { validateOptions } from './options.validation';

class Good extends ModelServer {
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

describe('validateOptions', () => {
  it('applies the defaults', () => {
    const o = validateOptions({ models: [{ name: 'good', model: Good }] }, '9.9.9');
    expect(o).toMatchObject({ loadMode: 'blocking', maxBodyBytes: 64 * 1024 * 1024, serverName: 'nest-model-server', serverVersion: '9.9.9', debug: false, rest: true });
  });

  it('lists every problem in one error, with paths', () => {
    let message = '';
    try {
      validateOptions(
        {
          models: [
            { name: 'bad name!', model: Good },
            { name: 'ok', model: class NotAModel {} as never, versions: [{ version: '' }] },
          ],
          loadMode: 'sometimes' as never,
          maxBodyBytes: 12,
        },
        '1',
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/models\[0\]\.name: name must be 1-128 letters/);
    expect(message).toMatch(/models\[1\]\.model: must be a class that extends ModelServer/);
    expect(message).toMatch(/models\[1\]\.versions\[0\]\.version/);
    expect(message).toMatch(/loadMode: loadMode must be one of/);
    expect(message).toMatch(/maxBodyBytes: maxBodyBytes must not be less than 1024/);
  });

  it('refuses body paths that are not dotted paths', () => {
    expect(() => validateOptions({ models: [{ name: 'm', model: Good, inputPath: 'a..b' }] }, '1')).toThrow(/inputPath must be a dotted path/);
  });
});
