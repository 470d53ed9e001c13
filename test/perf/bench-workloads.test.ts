// The benchmark's model workloads build and take a step on the example graphs as they are now:
// a renamed parameter or a changed graph fails here, not only when someone runs `npm run bench`.
// The example data is not needed (the repository does not hold it). No timing: speed is
// measured by the benchmark alone.

import { describe, expect, it } from 'vitest';
import { charlmStep } from '../../bench/charlm.js';
import { cnnData, cnnStep } from '../../bench/cnn.js';
import { sessionWithoutData } from '../../bench/workloads.js';

describe('benchmark workloads', () => {
  it("the MNIST CNN step sets every one of the graph's parameters and gives a finite loss", () => {
    const names = [...sessionWithoutData('graphs/mnist_cnn.yaml').params.keys()].sort();
    expect([...cnnData(2).params.keys()].sort()).toEqual(names);
    const step = cnnStep(2);
    step.run();
    expect(Number.isFinite(step.check())).toBe(true);
  });

  it('the character model step gives a finite loss near ln 83 from its first batch', () => {
    const step = charlmStep(2);
    step.run();
    expect(step.check()).toBeGreaterThan(3.5);
    expect(step.check()).toBeLessThan(5.5);
  });
});
