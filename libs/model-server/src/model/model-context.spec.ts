import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelContext } from './model-context';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describe('ModelContext files', () => {
  const base = mkdtempSync(join(tmpdir(), 'model-context-'));
  const model = join(base, 'model');
  const outside = join(base, 'secret.txt');
  mkdirSync(join(model, 'sub'), { recursive: true });
  writeFileSync(join(model, 'weights.json'), '{"w":[1,2]}');
  writeFileSync(join(model, 'sub', 'vocab.txt'), 'a b c');
  writeFileSync(outside, 'not for models');
  symlinkSync(outside, join(model, 'leak.txt'));
  symlinkSync(base, join(model, 'up'));
  symlinkSync(join(model, 'sub', 'vocab.txt'), join(model, 'vocab-link.txt'));
  // The model path itself may be a link (Kubernetes volumes are): files under it are still inside.
  symlinkSync(model, join(base, 'model-link'));

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const context = (modelPath: string) =>
    new ModelContext({ name: 'm', version: undefined, modelPath, parameters: {}, labels: {}, logger: quiet });

  it('reads files under the model path, through links that stay inside it', async () => {
    const ctx = context(model);
    expect(await ctx.readJson('weights.json')).toEqual({ w: [1, 2] });
    expect((await ctx.readFile('sub/vocab.txt')).toString()).toBe('a b c');
    expect((await ctx.readFile('vocab-link.txt')).toString()).toBe('a b c');
    expect((await context(join(base, 'model-link')).readFile('weights.json')).toString()).toBe('{"w":[1,2]}');
  });

  it('refuses paths that leave the model path, by their text or through a symbolic link', async () => {
    const ctx = context(model);
    expect(() => ctx.resolveFile('../secret.txt')).toThrow(/is outside the model path/);
    await expect(ctx.readFile('../secret.txt')).rejects.toThrow(/is outside the model path/);
    await expect(ctx.readFile('leak.txt')).rejects.toThrow(/'leak.txt' leads outside the model path .* \(through a symbolic link\)/);
    await expect(ctx.readFile('up/secret.txt')).rejects.toThrow(/leads outside the model path/);
    await expect(ctx.readJson('leak.txt')).rejects.toThrow(/leads outside the model path/);
  });
});
