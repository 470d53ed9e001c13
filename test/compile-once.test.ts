// Compile once: what one CLI run of a graph does (load and check, compile, train with metrics
// logged, predict the `predict:` section, print parameters), done through the library, builds
// each graph once (typed with `batch` symbolic), each reverse graph and the data once, and each
// plan once per batch size it runs at.

import { describe, expect, it } from 'vitest';
import { buildStats, compile, loadGraph, resetBuildStats } from '../runtime/index.js';

function cliRun(file: string): Record<string, number> {
  resetBuildStats();
  const model = loadGraph(file);
  const s = compile(model);
  s.train({ onStep: () => {}, onLog: () => {} });
  s.predictions();
  s.parameters();
  return buildStats();
}

describe('compile once', () => {
  it('gender.yaml: every graph, reverse graph and data set is built once, each plan once per batch size', () => {
    const stats = cliRun('graphs/gender.yaml');
    expect(stats).toEqual({
      data: 1,
      'graph eval': 1,
      'graph forward': 1,
      'graph train': 1,
      'plan eval batch 1': 1,
      'plan forward batch 1': 1,
      'plan train batch 1': 1,
      'reverse train': 1,
    });
  });

  it('blobs.yaml: one graph per kind and one reverse graph (batch symbolic), one plan per batch size', () => {
    const stats = cliRun('graphs/blobs.yaml');
    // A full and a last short training batch (16, 8); evaluation in batches of the training
    // batch size: the training rows' full and last batches (16, 8), the validation rows' last
    // (30 = 16 + 14); the predictions' batch: six plans over three graphs typed once each.
    expect(stats).toEqual({
      data: 1,
      'graph eval': 1,
      'graph forward': 1,
      'graph train': 1,
      'plan eval batch 14': 1,
      'plan eval batch 16': 1,
      'plan eval batch 8': 1,
      'plan forward batch 3': 1,
      'plan train batch 16': 1,
      'plan train batch 8': 1,
      'reverse train': 1,
    });
  });

  it('a second session of the same model at the same dtype builds no graph again', () => {
    const model = loadGraph('graphs/gender.yaml');
    const first = compile(model);
    first.train({ epochs: 1 });
    first.predictions();
    resetBuildStats();
    const s = compile(model);
    s.train({ epochs: 1 });
    s.predictions();
    expect(Object.keys(buildStats()).filter((k) => !k.startsWith('plan'))).toEqual([]);
  });
});
