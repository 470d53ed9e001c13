// Mistakes in a model's `state:` (docs/format.md#state): a state no update changes, an update
// naming a node the graph does not have (in the graph or inside a layer, positioned in the layer
// with the use in `via`), an update whose shape is not the state's; and `update:` in an optimizer
// graph, whose state takes its next value from its outputs.

import { describe, expect, it } from 'vitest';
import { NameError, ShapeError, SubgraphError } from '../../runtime/index.js';
import { expectUserError, fixture } from './expect-error.js';

describe('model state', () => {
  it('a state with no update', async () => {
    await expectUserError('state-no-update.yaml', {
      cls: SubgraphError,
      line: 6,
      col: 3,
      node: 'running_mean',
      message: /state "running_mean" has no update/,
      hint: /add update: <node>/,
    });
  });

  it('an update naming an unknown node, with the close name as hint', async () => {
    await expectUserError('state-unknown-update.yaml', {
      cls: NameError,
      line: 6,
      col: 47,
      node: 'running_mean',
      message: /unknown name "next_maen"/,
      hint: /next_mean/,
    });
  });

  it('an update of another shape than the state', async () => {
    await expectUserError('state-update-shape.yaml', {
      cls: ShapeError,
      line: 6,
      col: 47,
      node: 'running_mean',
      message: /the update of state "running_mean" has shape \[1, 3\], the state has \[3\]/,
    });
  });

  it("a layer's misspelt update is positioned in the layer, used from the graph", async () => {
    const [e] = await expectUserError('state-layer.yaml', {
      cls: NameError,
      file: fixture('state-layer-inner.yaml'),
      line: 5,
      col: 40,
      node: 'norm/total',
      message: /unknown name "runing"/,
      hint: /running/,
    });
    expect(e!.loc!.via).toEqual([{ file: fixture('state-layer.yaml'), line: 6, col: 5 }]);
  });

  it('update: in an optimizer graph is refused: its state takes the output of its name', async () => {
    await expectUserError('state-optimizer.yaml', {
      cls: SubgraphError,
      file: fixture('state-optimizer-opt.yaml'),
      line: 6,
      col: 24,
      node: 'optimizer/w/v',
      message: /takes its next value from the output named "v"/,
    });
  });
});
