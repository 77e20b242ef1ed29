import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFileOf, modelsFromConfig } from './config-file.loader';

const ECHO = join(__dirname, '..', '..', '..', '..', 'samples', 'echo', 'echo.model');

function configFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nms-config-file-')), name);
  writeFileSync(file, text);
  return file;
}

describe('modelsFromConfig', () => {
  it('loads the classes, resolves paths against the file and makes the file\'s loadMode its models\' default', () => {
    const file = configFile(
      'models.yaml',
      `loadMode: background
port: 9999
models:
  - { name: a, module: ${ECHO}, modelPath: ./weights, versions: [{ version: 1, modelPath: ./v1 }] }
  - { name: b, module: ${ECHO}, class: EchoModel, loadMode: blocking }
`,
    );
    const [a, b] = modelsFromConfig(file);
    expect(a).toMatchObject({ name: 'a', className: 'EchoModel', modelPath: join(file, '..', 'weights'), loadMode: 'background' });
    expect(a.model.name).toBe('EchoModel');
    expect(a.versions).toEqual([{ version: '1', modelPath: join(file, '..', 'v1') }]);
    expect(b.loadMode).toBe('blocking');
    expect(configFileOf(a)).toBe(file);
  });

  it('makes a model whose module does not load a failed model, not an error', () => {
    const [ghost] = modelsFromConfig(configFile('c.json', JSON.stringify({ models: [{ name: 'ghost', module: './nope' }] })));
    expect(() => new ghost.model().load()).toThrow(/cannot load \.\/nope: cannot find model module/);
  });

  it.each([
    ['c.yaml', 'models: {}\n', /c\.yaml: "models" must be a list/],
    ['c.yaml', 'models:\n  - name: x\n', /models\[0\] \(x\): "module" .* is required/],
    ['c.yaml', 'models:\n  - { name: r, router: Majority }\n', /unknown router "Majority"/],
  ])('refuses a malformed %s, naming what is wrong', (name, text, message) => {
    expect(() => modelsFromConfig(configFile(name, text))).toThrow(message);
  });

  it('refuses a missing file, naming it', () => {
    expect(() => modelsFromConfig('/no/such/models.yaml')).toThrow('cannot read the config file /no/such/models.yaml');
  });
});
