// Normalisations written with graph-run's primitives: LayerNormalization (over the axes from
// `axis` on) and BatchNormalization in inference mode (the running statistics as frozen
// parameters, broadcast along the channel axis).

import type { Ctx, Dim, Val } from './convert.js';
import { axisOf, lit, reshape } from './shapes.js';

/** (x - mean) / sqrt(var + eps) * scale + bias, every operand broadcast. */
function normalise(c: Ctx, x: Val, mean: Val, variance: Val, eps: number, scale: Val, bias: Val | undefined): Val {
  const s = x.shape;
  const d = c.emit('sub', [x, mean], undefined, s);
  const ve = c.emit('add', [variance, lit(eps)], undefined, variance.shape);
  const sd = c.emit('sqrt', [ve], undefined, variance.shape);
  const n = c.emit('div', [d, sd], undefined, s);
  const y = c.emit('mul', [n, scale], undefined, s);
  return bias ? c.emit('add', [y, bias], undefined, s) : y;
}

export function layerNorm(c: Ctx): Val {
  const x = c.x(0);
  const s = x.shape;
  const axis = axisOf(c.int('axis', -1), s.length);
  const axes = s.map((_, i) => i).filter((i) => i >= axis);
  const kept = s.map((d, i) => (i >= axis ? 1 : d));
  const mean = c.emit('mean', [x], { axis: axes, keepdims: true }, kept);
  const centred = c.emit('sub', [x, mean], undefined, s);
  const sq = c.emit('square', [centred], undefined, s);
  const variance = c.emit('mean', [sq], { axis: axes, keepdims: true }, kept);
  const ve = c.emit('add', [variance, lit(c.float('epsilon', 1e-5))], undefined, kept);
  const sd = c.emit('sqrt', [ve], undefined, kept);
  const n = c.emit('div', [centred, sd], undefined, s);
  const y = c.emit('mul', [n, c.x(1)], undefined, s);
  return c.has(2) ? c.emit('add', [y, c.x(2)], undefined, s) : y;
}

export function batchNorm(c: Ctx): Val {
  if (c.int('training_mode', 0)) return c.fail('training mode is not supported (export the model in eval mode)');
  const x = c.x(0);
  const rank = x.shape.length;
  // [C] statistics against [N, C, ...]: as [C, 1, ...] to broadcast along the channel axis.
  // The running statistics are frozen: fine-tuning trains scale and bias, as PyTorch in eval mode.
  const chan = (i: number) => {
    const v = c.x(i, i >= 3);
    const cs = v.shape[0] ?? 1;
    return rank > 2 ? reshape(c, v, [cs, ...Array<Dim>(rank - 2).fill(1)]) : v;
  };
  const [scale, bias, mean, variance] = [chan(1), chan(2), chan(3), chan(4)];
  return normalise(c, x, mean, variance, c.float('epsilon', 1e-5), scale, bias);
}
