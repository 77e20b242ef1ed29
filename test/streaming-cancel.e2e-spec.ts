import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import { http, rssBytes, startCli, stopCli, type CliProcess } from './helpers/cli-process';

/**
 * Streams whose client goes away, against the real CLI process over loopback: the model's iteration stops within
 * one token of the disconnect (its monitoring record counts the parts it produced and says `cancelled`), and a
 * thousand streams abandoned after their first event leave the process's memory flat and nothing in flight.
 */

const TOKEN_MS = 60;
const SAMPLES = join(__dirname, '..', 'samples', 'textgen');

interface StreamRecord {
  stream?: { chunks: number; first_chunk_ms: number | null; total_ms: number; ending: string };
  error_code?: string;
}

/** Opens generate_stream and goes away (destroys the connection) once `events` data events arrived. */
function abandonAfter(port: number, events: number, parameters: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ text_input: 'Alice was', parameters });
    let seen = 0;
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v2/models/textgen/generate_stream', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      const parser = createParser({
        onEvent: () => {
          seen++;
          if (seen === events) {
            req.destroy();
            resolve(seen);
          }
        },
      });
      res.setEncoding('utf8');
      res.on('data', (text: string) => parser.feed(text));
      res.on('end', () => resolve(seen));
    });
    req.on('error', (err) => (seen >= events ? undefined : reject(err)));
    req.end(body);
  });
}

/** The stream records in the monitoring file so far. */
function streamRecords(file: string): StreamRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as StreamRecord)
    .filter((r) => r.stream !== undefined);
}

async function until<T>(what: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('streams whose client goes away (real process)', () => {
  let dir: string;
  let cli: CliProcess;
  let records: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nms-stream-'));
    records = join(dir, 'records.jsonl');
    const config = join(dir, 'models.yaml');
    writeFileSync(
      config,
      [
        'models:',
        '  - name: textgen',
        `    module: ${join(SAMPLES, 'textgen.model')}`,
        '    class: TextGenModel',
        `    modelPath: ${SAMPLES}`,
        '    parameters:',
        `      token_delay_ms: ${TOKEN_MS}`,
        '',
      ].join('\n'),
    );
    cli = await startCli(['--config', config], { LOG_LEVEL: 'warn', LOG_STREAM: `file://${records}`, LOG_STREAM_BATCH: '1', METRICS: 'true' }, 60000);
  }, 70000);
  afterAll(async () => {
    await stopCli(cli);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops the model within one token of the disconnect; its record says cancelled', async () => {
    const started = Date.now();
    await abandonAfter(cli.port, 3, { max_tokens: 500 });
    const goneAfterMs = Date.now() - started;
    const record = await until(() => streamRecords(records).find((r) => r.stream!.ending === 'cancelled'), 5000);
    expect(record.error_code).toBe('CANCELLED');
    expect(record.stream!.chunks).toBeGreaterThanOrEqual(3);
    expect(record.stream!.chunks).toBeLessThanOrEqual(4);
    expect(record.stream!.total_ms).toBeLessThan(goneAfterMs + TOKEN_MS + 200);
  }, 20000);

  it('memory stays flat over 1,000 streams abandoned after their first event, and none stays in flight', async () => {
    const run = async (n: number) => {
      const lanes = 16;
      let next = 0;
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          while (next < n) {
            next++;
            await abandonAfter(cli.port, 1, { max_tokens: 1024, delay_ms: 2 });
          }
        }),
      );
    };
    await run(200); // warm up
    await new Promise((r) => setTimeout(r, 500));
    const before = rssBytes(cli.pid);
    await run(1000);
    await new Promise((r) => setTimeout(r, 1000));
    const growth = rssBytes(cli.pid) - before;
    expect(growth).toBeLessThan(40 * 1024 * 1024);
    const endings = await until(() => {
      const all = streamRecords(records);
      return all.length >= 1201 ? all.map((r) => r.stream!.ending) : undefined;
    }, 20000);
    expect(endings.filter((e) => e !== 'cancelled')).toEqual([]);
    // Every stream left: a whole answer comes at once, and no stream is still counted in flight.
    const answer = await http(cli.port, 'POST', '/v2/models/textgen/generate', JSON.stringify({ text_input: 'Alice', parameters: { max_tokens: 3, delay_ms: 0 } }));
    expect(answer.status).toBe(200);
    // Each stream's time to first part and gaps are in the model's histograms.
    const metrics = (await http(cli.port, 'GET', '/metrics')).body;
    const firsts = Number(/stream_first_chunk_seconds_count\{[^}]*model="textgen"[^}]*\} (\d+)/.exec(metrics)?.[1]);
    expect(firsts).toBeGreaterThanOrEqual(1201);
    expect(metrics).toMatch(/stream_chunk_gap_seconds_bucket\{[^}]*model="textgen"/);
  }, 120000);
});
