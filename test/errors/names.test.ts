// Name errors: a reference to an unknown node, parameter or input (each with a "did you
// mean" hint), a duplicate name, an unknown op. Positions are the offending reference.

import { describe, it } from 'vitest';
import { NameError } from '../../runtime/index.js';
import { expectUserError } from './expect-error.js';

describe('names', () => {
  it('unknown node: "hiden" for "hidden"', async () => {
    await expectUserError('unknown-ref.yaml', {
      cls: NameError,
      line: 9,
      col: 39,
      node: 'out',
      message: /unknown name "hiden"/,
      hint: /did you mean "hidden"\?/,
    });
  });

  it('a parameter named as a subgraph use names its own ("l1/weight"): both positions', async () => {
    await expectUserError('param-clash.yaml', {
      cls: NameError,
      file: 'graphs/lib/layers/linear.yaml',
      line: 15,
      col: 3,
      node: 'l1/weight',
      message: /duplicate name "l1\/weight": a parameter of that name is declared at .*param-clash\.yaml:6:3/,
      hint: /rename one of them/,
    });
  });

  it('unknown parameter: "wieght" for "weight"', async () => {
    await expectUserError('unknown-param.yaml', {
      cls: NameError,
      line: 8,
      col: 36,
      node: 'y',
      message: /unknown name "wieght"/,
      hint: /did you mean "weight"\?/,
    });
  });

  it('unknown input: "pixel" for "pixels"', async () => {
    await expectUserError('unknown-input.yaml', {
      cls: NameError,
      line: 6,
      col: 39,
      node: 'bright',
      message: /unknown name "pixel"/,
      hint: /did you mean "pixels"\?/,
    });
  });

  it('duplicate name: the second "h", once', async () => {
    await expectUserError('duplicate-name.yaml', {
      cls: NameError,
      line: 7,
      col: 12,
      node: 'h',
      message: /duplicate name "h"/,
    });
  });

  it('unknown op: "sigmod" for "sigmoid", at the op', async () => {
    await expectUserError('unknown-op.yaml', {
      cls: NameError,
      line: 6,
      col: 21,
      node: 'act',
      message: /unknown op "sigmod"/,
      hint: /did you mean "sigmoid"\?/,
    });
  });
});
