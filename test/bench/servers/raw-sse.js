'use strict';
/**
 * The floor of the streaming benchmark: a raw node:http server answering POST /v2/models/textgen/generate_stream
 * with the same server-sent events as the model server: the same n-gram model (the textgen sample, built), the same
 * seed and settings, the words coming from an async generator as a model's predictStream gives them, one `data:`
 * event per word with the same fields, written as they come and waiting for `drain` when the socket's buffer is
 * full. No framework, no data plane, no monitoring: what is left of the model server's cost is the framework's.
 */
const fs = require('node:fs');
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { serveRawFloor } = require('./raw-floor');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const { NGramModel, seededRandom } = require(path.join(ROOT, 'dist', 'samples', 'textgen', 'ngram.js'));
const ngram = NGramModel.fromText(fs.readFileSync(path.join(ROOT, 'samples', 'textgen', 'alice-down-the-rabbit-hole.txt'), 'utf8'));

function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The words, one per step, as the textgen model's predictStream produces them. */
async function* words(prompt, p) {
  const random = seededRandom(p.seed ?? 1);
  const context = prompt.split(/\s+/).filter((w) => w.length > 0);
  let before = context.at(-2);
  let last = context.at(-1);
  for (let i = 0; i < (p.max_tokens ?? 16); i++) {
    const word = ngram.next(before, last, random, p.temperature ?? 1);
    before = last;
    last = word;
    yield ` ${word}`;
  }
}

async function stream(body, res) {
  const id = body.id ?? randomUUID();
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for await (const text of words(String(body.text_input), body.parameters ?? {})) {
    if (res.destroyed) return;
    const event = { id, model_name: 'textgen', text_output: text };
    if (!res.write(`data: ${JSON.stringify(event)}\n\n`)) await drained(res);
  }
  res.end();
}

serveRawFloor(18300, (bytes, res) => {
  stream(JSON.parse(bytes.toString('utf8')), res).catch(() => res.destroy());
});
