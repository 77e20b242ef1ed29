import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestServer, type TestServer } from 'nest-model-server/testing';
import { MlpModel } from './mlp.model';

describe('mlp sample', () => {
  it('generate.js writes the committed model.onnx byte for byte (fixed seed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlp-gen-'));
    try {
      const out = join(dir, 'model.onnx');
      execFileSync(process.execPath, [join(__dirname, 'generate.js'), out]);
      expect(readFileSync(out).equals(readFileSync(join(__dirname, 'model', 'model.onnx')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('served (ONNX Runtime in a worker thread, as jest needs)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await createTestServer({
        models: [{ name: 'mlp', model: MlpModel, modelPath: join(__dirname, 'model'), modulePath: join(__dirname, 'mlp.model.ts'), workers: 1 }],
      });
    });
    afterAll(() => server.close());

    it('answers logits and probabilities for each row', async () => {
      const data = Array.from({ length: 2 * 64 }, (_, i) => Math.cos(i));
      const res = await server.infer('mlp', { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 64], data }] });
      expect(res.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
        ['logits', 'FP32', [2, 10]],
        ['probabilities', 'FP32', [2, 10]],
      ]);
      const p = res.outputs[1].data as number[];
      expect(p.slice(0, 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(p.slice(10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    });
  });
});
