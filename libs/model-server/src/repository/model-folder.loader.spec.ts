import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelServer } from '../model/model-server';
import { isModelFolder, loadModelFolder } from './model-folder.loader';

const MODEL_JS = `'use strict';
const { ModelServer } = require('nest-model-server');
class EchoFolder extends ModelServer { predict(r) { return { outputs: r.inputs }; } }
class Other extends ModelServer { predict() { return { outputs: [] }; } }
module.exports = { EchoFolder, Other };
`;

describe('loadModelFolder', () => {
  let root: string;
  const folder = (name: string, files: Record<string, string>): string => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    return dir;
  };

  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'nms-folder-spec-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('loads the class the descriptor names, with the folder as modelPath and the descriptor\'s settings', () => {
    const dir = folder('echo', { 'model.js': MODEL_JS, 'model.yaml': 'class: EchoFolder\nworkers: 2\nparameters: { a: 1, b: 2 }\nlabels: { team: x }\n' });
    const config = loadModelFolder(dir, { parameters: { b: 3 } });
    expect(config.model.prototype).toBeInstanceOf(ModelServer);
    expect(config).toMatchObject({
      name: 'echo',
      className: 'EchoFolder',
      modulePath: join(dir, 'model.js'),
      modelPath: dir,
      workers: 2,
      parameters: { a: 1, b: 3 },
      labels: { team: 'x' },
    });
  });

  it('names the model: the caller\'s name, else the descriptor\'s, else the folder\'s; modelPath under the folder', () => {
    const dir = folder('named', { 'model.js': MODEL_JS, 'model.yaml': 'name: from-yaml\nclass: Other\nmodelPath: weights\n' });
    expect(loadModelFolder(dir).name).toBe('from-yaml');
    expect(loadModelFolder(dir, { name: 'given' }).name).toBe('given');
    expect(loadModelFolder(dir).modelPath).toBe(join(dir, 'weights'));
  });

  it('isModelFolder: a model module or a model.yaml makes one; other files do not', () => {
    expect(isModelFolder(folder('ts-only', { 'model.ts': '' }))).toBe(true);
    expect(isModelFolder(folder('yaml-only', { 'model.yaml': 'module: ./src/iris\n' }))).toBe(true);
    expect(isModelFolder(folder('repository', { 'models.yaml': 'models: []\n', 'weights.bin': '' }))).toBe(false);
  });

  it.each([
    ['a missing folder', () => join(root, 'nowhere'), /model folder .*nowhere does not exist/],
    ['no model module', () => folder('empty', { 'weights.bin': '' }), /cannot find model module .*empty\/model \(tried \.js, \.cjs, \.ts\)/],
    ['two classes and no "class"', () => folder('two', { 'model.js': MODEL_JS }), /exports 2 ModelServer subclasses; name one with "class"/],
    ['an unknown descriptor key', () => folder('typo', { 'model.js': MODEL_JS, 'model.yaml': 'clas: EchoFolder\n' }), /model\.yaml:\n {2}- unknown key "clas"/],
    ['a descriptor that is not a map', () => folder('list', { 'model.js': MODEL_JS, 'model.yaml': '- a\n- b\n' }), /must hold an object of model settings/],
    ['parameters that are not a map', () => folder('params', { 'model.js': MODEL_JS, 'model.yaml': 'class: Other\nparameters: [1]\n' }), /"parameters" must be a map/],
    ['invalid YAML', () => folder('bad-yaml', { 'model.js': MODEL_JS, 'model.yaml': 'class: [\n' }), /is not valid YAML/],
  ])('%s: an error naming the folder and the problem', (_what, make, message) => {
    expect(() => loadModelFolder(make())).toThrow(message);
  });
});
