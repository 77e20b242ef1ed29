import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HTTP_TIMEOUTS } from '../../libs/model-server/src/internal';
import { loadServerConfig } from './server-config';

const SAMPLES = join(__dirname, '..', '..', 'samples', 'models.yaml');

function tempConfig(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nms-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('loadServerConfig', () => {
  it('reads the samples file: classes loaded, paths resolved against the file, defaults applied', () => {
    const config = loadServerConfig({}, {}, SAMPLES);
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.grpcPort).toBe(8081);
    const iris = config.options.models.find((m) => m.name === 'iris')!;
    expect(iris.model.name).toBe('IrisModel');
    expect(iris.modelPath).toBe(join(__dirname, '..', '..', 'samples', 'iris', 'model'));
    expect(iris.modulePath).toMatch(/samples\/iris\/iris\.model\.ts$/);
    expect(iris.className).toBe('IrisModel');
    const echo = config.options.models.find((m) => m.name === 'echo')!;
    expect(echo.versions!.map((v) => v.version)).toEqual(['1', '2']);
  });

  it('the environment overrides the file, and flags override the environment', () => {
    const file = tempConfig('c.yaml', 'port: 7000\nhost: 127.0.0.2\nmaxBodyBytes: 2048\nmodels: []\n');
    const fromFile = loadServerConfig({ config: file }, {});
    expect([fromFile.port, fromFile.host, fromFile.options.maxBodyBytes]).toEqual([7000, '127.0.0.2', 2048]);
    const fromEnv = loadServerConfig({ config: file }, { PORT: '7001', HOST: '127.0.0.3', MAX_BODY_BYTES: '4096', GRPC_PORT: '7003' });
    expect([fromEnv.port, fromEnv.host, fromEnv.options.maxBodyBytes, fromEnv.grpcPort]).toEqual([7001, '127.0.0.3', 4096, 7003]);
    const fromFlags = loadServerConfig({ config: file, port: '7002', loadMode: 'background', debug: true }, { PORT: '7001', CONFIG: '/nope' });
    expect([fromFlags.port, fromFlags.options.loadMode, fromFlags.options.debug]).toEqual([7002, 'background', true]);
  });

  it('reads the HTTP timeouts and model control from the file and the environment', () => {
    const file = tempConfig('t.yaml', 'receiveTimeoutMs: 5000\nsendTimeoutMs: 7000\nmodelControl: true\nmodels: []\n');
    const fromFile = loadServerConfig({ config: file }, {});
    expect(fromFile.http).toEqual({ ...DEFAULT_HTTP_TIMEOUTS, receiveTimeoutMs: 5000, sendTimeoutMs: 7000 });
    expect(fromFile.options.modelControl).toBe(true);
    const fromEnv = loadServerConfig({ config: file }, { SEND_TIMEOUT_MS: '9000', HEADERS_TIMEOUT_MS: '1000', KEEP_ALIVE_TIMEOUT_MS: '3000', MODEL_CONTROL: '0' });
    expect(fromEnv.http).toEqual({ receiveTimeoutMs: 5000, sendTimeoutMs: 9000, headersTimeoutMs: 1000, keepAliveTimeoutMs: 3000 });
    expect(DEFAULT_HTTP_TIMEOUTS).toEqual({ receiveTimeoutMs: 120_000, headersTimeoutMs: 20_000, sendTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000 });
    expect(fromEnv.options.modelControl).toBe(false);
    expect(loadServerConfig({}, {}, SAMPLES).http).toEqual(DEFAULT_HTTP_TIMEOUTS);
    expect(() => loadServerConfig({ config: file }, { RECEIVE_TIMEOUT_MS: '-1' })).toThrow(/RECEIVE_TIMEOUT_MS/);
  });

  it('fastLane: the file\'s, then FAST_LANE (1, 0, always); unset, the library\'s default', () => {
    const file = tempConfig('lane.yaml', 'fastLane: true\nmodels: []\n');
    expect(loadServerConfig({ config: file }, {}).http.fastLane).toBe(true);
    expect(loadServerConfig({ config: file }, { FAST_LANE: '0' }).http.fastLane).toBe(false);
    expect(loadServerConfig({}, { FAST_LANE: 'always' }, SAMPLES).http.fastLane).toBe('always');
    expect(loadServerConfig({}, { FAST_LANE: '1' }, SAMPLES).http.fastLane).toBe(true);
    expect(loadServerConfig({}, {}, SAMPLES).http.fastLane).toBeUndefined();
    expect(() => loadServerConfig({ config: tempConfig('lane2.yaml', 'fastLane: sometimes\nmodels: []\n') }, {})).toThrow(/fastLane must be true, false or 'always'/);
  });

  it('CONFIG in the environment names the file', () => {
    const file = tempConfig('c.json', JSON.stringify({ port: 7100, models: [] }));
    expect(loadServerConfig({}, { CONFIG: file }, SAMPLES).port).toBe(7100);
  });

  it('a module that cannot be loaded becomes a failed model, not a crash', () => {
    const file = tempConfig('c.yaml', 'models:\n  - name: ghost\n    module: ./does-not-exist\n');
    const config = loadServerConfig({ config: file }, {});
    const ghost = config.options.models[0];
    const instance = new ghost.model();
    expect(() => instance.load()).toThrow(/cannot load \.\/does-not-exist: cannot find model module/);
  });

  it.each([
    ['c.yaml', 'models: [\n', /not valid YAML/],
    ['c.json', '{"models": ', /not valid JSON/],
    ['c.yaml', '- just\n- a list\n', /must hold an object/],
    ['c.yaml', 'models: {}\n', /"models" must be a list/],
    ['c.yaml', 'models:\n  - name: x\n', /"module" .* is required/],
  ])('a bad file %s is refused with a clear message', (name, text, message) => {
    expect(() => loadServerConfig({ config: tempConfig(name, text) }, {})).toThrow(message);
  });

  it('bad numbers are refused, naming the setting', () => {
    expect(() => loadServerConfig({ port: 'eighty' }, {}, SAMPLES)).toThrow(/PORT \/ --port must be a non-negative integer/);
  });

  it('a missing file is refused, naming it', () => {
    expect(() => loadServerConfig({ config: '/no/such/file.yaml' }, {})).toThrow(/cannot read the config file \/no\/such\/file\.yaml/);
  });
});

describe('loadServerConfig: the SageMaker multi-model mode', () => {
  it('is off unless SAGEMAKER_MULTI_MODEL or the file turns it on', () => {
    expect(loadServerConfig({}, {}, SAMPLES).sagemaker).toMatchObject({ multiModel: undefined });
    expect(loadServerConfig({}, { SAGEMAKER_MULTI_MODEL: 'true' }, SAMPLES).sagemaker).toMatchObject({ multiModel: true });
    expect(loadServerConfig({}, { SAGEMAKER_MULTI_MODEL: 'false' }, SAMPLES).sagemaker).toMatchObject({ multiModel: false });
  });

  it('takes its budget from the environment, over the file', () => {
    const file = tempConfig('models.yaml', 'models: []\nsagemaker:\n  multiModel:\n    maxModels: 5\n    pageSize: 10\n');
    expect(loadServerConfig({}, { SAGEMAKER_MULTI_MODEL: 'true' }, file).sagemaker).toMatchObject({ multiModel: { maxModels: 5, pageSize: 10 } });
    const env = { SAGEMAKER_MULTI_MODEL: '1', SAGEMAKER_MULTI_MODEL_MAX_MODELS: '3', SAGEMAKER_MULTI_MODEL_MAX_MEMORY_MB: '512' };
    expect(loadServerConfig({}, env, file).sagemaker).toMatchObject({ multiModel: { maxModels: 3, pageSize: 10, maxResidentBytes: 512 * 1024 * 1024 } });
    expect(() => loadServerConfig({}, { ...env, SAGEMAKER_MULTI_MODEL_MAX_MODELS: 'many' }, file)).toThrow(/SAGEMAKER_MULTI_MODEL_MAX_MODELS/);
  });

  it('refuses more than one worker process: the models it loads live in one', () => {
    expect(() => loadServerConfig({ workers: '2' }, { SAGEMAKER_MULTI_MODEL: 'true' }, SAMPLES)).toThrow(/one worker/);
    expect(loadServerConfig({ workers: '2' }, {}, SAMPLES).workers).toBe(2);
  });
});

describe('loadServerConfig: auth from the environment', () => {
  it('AUTH_TOKENS (comma-separated) and AUTH_TOKENS_FILE configure auth over the file', () => {
    const file = tempConfig('c.yaml', 'auth:\n  protectMetrics: true\nmodels: []\n');
    const config = loadServerConfig({ config: file }, { AUTH_TOKENS: 'aaaaaaaa, bbbbbbbb,', AUTH_TOKENS_FILE: 'tokens.txt' });
    expect(config.options.auth).toEqual({ protectMetrics: true, tokens: ['aaaaaaaa', 'bbbbbbbb'], tokensFile: join(process.cwd(), 'tokens.txt') });
  });
});

describe('loadServerConfig: model folders and KServe conventions', () => {
  const MODEL_JS = "const { ModelServer } = require('nest-model-server');\nexports.M = class M extends ModelServer { predict(r) { return { outputs: r.inputs }; } };\n";
  const folderWith = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'nms-model-dir-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  it('--model_dir with one model: served under --model_name (MODEL_NAME), the folder as its files', () => {
    const dir = folderWith({ 'model.js': MODEL_JS, 'model.yaml': 'parameters: { k: 1 }\n' });
    const byFlag = loadServerConfig({ modelDir: dir, modelName: 'iris-isvc' }, { MODEL_NAME: 'other' });
    expect(byFlag.configFile).toBeUndefined();
    expect(byFlag.options.models).toHaveLength(1);
    expect(byFlag.options.models[0]).toMatchObject({ name: 'iris-isvc', className: 'M', modelPath: dir, parameters: { k: 1 } });
    expect(loadServerConfig({}, { MODEL_DIR: dir, MODEL_NAME: 'from-env' }).options.models[0].name).toBe('from-env');
  });

  it('--model_dir holding models.yaml: that file is the config, paths relative to it', () => {
    const dir = folderWith({ 'models.yaml': 'models:\n  - name: a\n    folder: ./a\n' });
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'model.js'), MODEL_JS);
    const config = loadServerConfig({ modelDir: dir, modelName: 'ignored' }, {});
    expect(config.configFile).toBe(join(dir, 'models.yaml'));
    expect(config.options.models.map((m) => [m.name, m.modelPath])).toEqual([['a', join(dir, 'a')]]);
  });

  it('the default model folder (KServe\'s /mnt/models) is used when it exists and nothing else is given', () => {
    const dir = folderWith({ 'model.js': MODEL_JS });
    expect(loadServerConfig({}, { MODEL_NAME: 'm' }, SAMPLES, dir).options.models.map((m) => m.name)).toEqual(['m']);
    expect(loadServerConfig({}, {}, SAMPLES, join(dir, 'absent')).configFile).toBe(SAMPLES);
    expect(loadServerConfig({ config: SAMPLES }, {}, undefined, dir).configFile).toBe(SAMPLES);
  });

  it.each<[string, () => Parameters<typeof loadServerConfig>, RegExp]>([
    ['a config and a model folder', () => [{ config: SAMPLES, modelDir: '/tmp' }, {}], /flags: give a config file \(CONFIG \/ --config\) or a model folder \(MODEL_DIR \/ --model_dir\), not both/],
    ['CONFIG and MODEL_DIR', () => [{}, { CONFIG: SAMPLES, MODEL_DIR: '/tmp' }], /environment: give a config file/],
    ['a missing model folder', () => [{ modelDir: '/no/such/models' }, {}], /the model folder \/no\/such\/models \(MODEL_DIR \/ --model_dir\) does not exist/],
    ['a folder with no model', () => [{ modelDir: folderWith({ 'weights.bin': 'x' }) }, {}], /holds neither a models\.yaml .* nor a model\.ts \/ model\.js .*it holds: weights\.bin/],
    ['one port for HTTP and gRPC', () => [{ config: SAMPLES }, { PORT: '8081' }], /the HTTP port \(PORT \/ --port\) and the gRPC port \(GRPC_PORT \/ --grpc-port\) are both 8081: each protocol needs its own port/],
  ])('%s is refused with a clear message', (_what, args, message) => {
    expect(() => loadServerConfig(...args())).toThrow(message);
  });

  it('a model folder whose module does not load is a failed model with the reason, not a crash', () => {
    const dir = folderWith({ 'model.js': "require('no-such-package-at-all');\n" });
    const model = loadServerConfig({ modelDir: dir, modelName: 'm' }, {}).options.models[0];
    expect(model.name).toBe('m');
    expect(() => new model.model().load()).toThrow(/cannot load model folder .*no-such-package-at-all/);
  });
});
