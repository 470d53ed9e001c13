// `repeat:` mistakes, each at its position with exit 1 and no stack trace: a count that is not a
// whole number from 1 to 1,000, repeat on an op node, chain naming no input (or without repeat),
// a subgraph of two outputs, repeats nested past the node limit, and a subgraph whose output is
// not shaped as its chained input (found when shapes are inferred, reported at `repeat:`).

import { describe, expect, it } from 'vitest';
import { NameError, SchemaError, ShapeError, SubgraphError } from '../../runtime/index.js';
import { MAX_EXPANDED_NODES, MAX_REPEAT } from '../../runtime/load/limits.js';
import schema from '../../schemas/graph.schema.json' with { type: 'json' };
import { expectUserError, fixture } from './expect-error.js';

describe('repeat: counts', () => {
  it('0 copies', async () => {
    await expectUserError('repeat-zero.yaml', {
      cls: SchemaError,
      line: 6,
      col: 98,
      message: /nodes\[0\]\.repeat must be >= 1/,
      hint: /whole number from 1 to 1000/,
    });
  });

  it('a million copies: over the limit of 1,000', async () => {
    await expectUserError('repeat-huge.yaml', {
      cls: SchemaError,
      line: 6,
      col: 98,
      message: /nodes\[0\]\.repeat must be <= 1000/,
    });
  });

  it('2.5 copies', async () => {
    await expectUserError('repeat-fraction.yaml', {
      cls: SchemaError,
      line: 6,
      col: 98,
      message: /nodes\[0\]\.repeat must be integer/,
    });
  });

  it("the schema's maximum is the runtime's limit", () => {
    const node = (schema.definitions.node as { then: { properties: { repeat: { maximum: number } } } }).then;
    expect(node.properties.repeat.maximum).toBe(MAX_REPEAT);
  });

  it('repeats nested in repeats, past the node limit: refused after the first copy, before expanding the rest', async () => {
    await expectUserError('repeat-nested.yaml', {
      cls: SubgraphError,
      line: 6,
      col: 68,
      node: 'deep',
      message: new RegExp(
        `400 copies of 2000 nodes would make the graph 800000 nodes, over the limit of ${MAX_EXPANDED_NODES}`,
      ),
    });
  });
});

describe('repeat: where it does not apply', () => {
  it('on an op node', async () => {
    await expectUserError('repeat-op.yaml', {
      cls: SchemaError,
      line: 6,
      col: 38,
      message: /unknown key "repeat" in nodes\[0\]/,
      hint: /for subgraph uses \(graph:\)/,
    });
  });

  it('chain: naming an input the subgraph does not have', async () => {
    await expectUserError('repeat-chain.yaml', {
      cls: NameError,
      line: 6,
      col: 108,
      node: 'layers',
      message: /linear\.yaml has no input "h" to chain/,
      hint: /did you mean "x"/,
    });
  });

  it('chain: without repeat:', async () => {
    await expectUserError('chain-without-repeat.yaml', {
      cls: SubgraphError,
      line: 6,
      col: 89,
      node: 'layer',
      message: /this use has no `repeat:`/,
    });
  });

  it('a subgraph of two outputs', async () => {
    await expectUserError('repeat-two-outputs.yaml', {
      cls: SubgraphError,
      line: 6,
      col: 67,
      node: 'pair',
      message: /two-outputs\.yaml has 2 outputs; a repeated subgraph needs exactly one/,
    });
  });

  it('a subgraph whose output is not shaped as its chained input: at repeat:, with both shapes', async () => {
    const [e] = await expectUserError('repeat-shape.yaml', {
      cls: ShapeError,
      line: 6,
      col: 98,
      node: 'layers',
      message: /the first copy of "layers" turns its chained input "x" \[batch, 6\] f32 into \[batch, 3\] f32/,
      hint: /keep its chained input's shape/,
    });
    expect(e!.file).toBe(fixture('repeat-shape.yaml'));
  });
});
