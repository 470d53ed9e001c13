// The layer cases of test/reference/layers.json (made by PyTorch, test/reference/layers.py) as
// graphs: the layer used through `graph: std:layers/...` (with `repeat:` where the case has one),
// and L = sum(y * w).
import { nest } from '../ops/helpers.js';

export interface Flat {
  shape: number[];
  data: number[];
}
export interface LayerCase {
  name: string;
  layer: string;
  with: Record<string, number>;
  x: Flat;
  params: Record<string, Flat>;
  y: Flat;
  w: number[];
  grads: Record<string, number[]>;
  /** Used with `repeat:` (its parameters then block0/..., block1/...). */
  repeat?: number;
}
/** x and w as parameters (x to take its gradient), y = the layer's use, L = sum(y * w). */
export function layerCaseYaml(c: LayerCase): string {
  const wrt = ['x', ...Object.keys(c.params).map((p) => `layer/${p}`)];
  return [
    'graph-run: 1',
    'params:',
    `  x: {shape: ${JSON.stringify(c.x.shape)}, init: {values: ${JSON.stringify(nest(c.x.data, c.x.shape))}}}`,
    `  w: {shape: ${JSON.stringify(c.y.shape)}, init: {values: ${JSON.stringify(nest(c.w, c.y.shape))}}, trainable: false}`,
    'nodes:',
    `  - {name: layer, graph: std:layers/${c.layer}.yaml, inputs: {x: x}, with: ${JSON.stringify(c.with)}${c.repeat ? `, repeat: ${c.repeat}` : ''}}`,
    '  - {name: yw, op: mul, inputs: [layer, w]}',
    '  - {name: L, op: sum, inputs: [yw]}',
    'outputs: {y: layer}',
    'feed: {}',
    `gradients: {of: L, wrt: ${JSON.stringify(wrt)}}`,
    '',
  ].join('\n');
}
