// Compile once: what one CLI run of a graph does (load and check, compile, train with metrics
// logged, predict the `predict:` section, print parameters), done through the library, builds
// each graph once per batch size, each reverse graph once, the data once and each plan once.

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
  it('gender.yaml: every graph, reverse graph, data set and plan is built once', () => {
    const stats = cliRun('graphs/gender.yaml');
    expect(stats).toEqual({
      data: 1,
      'graph eval batch 4': 1,
      'graph forward batch 1': 1,
      'graph train batch 1': 1,
      'plan eval batch 4': 1,
      'plan forward batch 1': 1,
      'plan train batch 1': 1,
      'reverse batch 1': 1,
    });
  });

  it('blobs.yaml: the same, with a last short batch and validation data', () => {
    const stats = cliRun('graphs/blobs.yaml');
    expect(
      Object.values(stats).every((n) => n === 1),
      JSON.stringify(stats),
    ).toBe(true);
    expect(stats.data).toBe(1);
    const kinds = (prefix: string) => Object.keys(stats).filter((k) => k.startsWith(prefix));
    // One graph and one plan per batch size a job runs at: a full and a last short training
    // batch, the training and the validation rows for evaluation, the predictions' batch.
    expect(kinds('graph train').length).toBe(kinds('plan train').length);
    expect(kinds('graph eval').sort()).toEqual(
      kinds('plan eval')
        .map((k) => k.replace('plan', 'graph'))
        .sort(),
    );
    expect(kinds('graph forward')).toEqual(['graph forward batch 3']);
    expect(kinds('reverse').length).toBe(kinds('graph train').length);
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
