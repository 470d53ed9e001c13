// ONNX's convolution, pooling and padding ops as graph-run's conv1d/conv2d, max_pool2d,
// avg_pool2d and pad (runtime/ops/conv.ts, pool.ts, pad.ts): the attributes translated (ONNX
// pads list every begin then every end; graph-run's conv2d takes [top, left, bottom, right],
// its pools one symmetric padding per axis, pad [before, after] per axis), the output shape
// computed as both define it. What graph-run's ops cannot express (dilated pooling, asymmetric
// pool padding, SAME_LOWER) is refused naming the node.

import type { Builder, Ctx, Dim, Val } from './convert.js';

/** Spatial attributes of a Conv or pool node with `k` spatial axes: kernel, strides, pads, dilations. */
function spatial(c: Ctx, k: number, kernel: number[]) {
  const strides = c.intList('strides') ?? Array<number>(k).fill(1);
  const dilations = c.intList('dilations') ?? Array<number>(k).fill(1);
  let pads = c.intList('pads') ?? Array<number>(2 * k).fill(0);
  const auto = c.str('auto_pad', 'NOTSET');
  if (auto === 'VALID') pads = Array<number>(2 * k).fill(0);
  else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    // Total padding so that out = ceil(in / stride); the odd one at the end (upper) or start.
    const s = c.shape(0).slice(2);
    pads = Array<number>(2 * k).fill(0);
    for (let i = 0; i < k; i++) {
      const n = s[i];
      if (typeof n !== 'number') return c.fail('SAME padding of a batch-sized axis');
      const out = Math.ceil(n / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - n);
      const small = Math.floor(total / 2);
      pads[i] = auto === 'SAME_UPPER' ? small : total - small;
      pads[i + k] = total - pads[i]!;
    }
  } else if (auto !== 'NOTSET') return c.fail(`auto_pad ${auto} is not supported`);
  if (strides.length !== k || dilations.length !== k || pads.length !== 2 * k)
    return c.fail(`strides, dilations and pads must fit ${k} spatial axes`);
  return { strides, dilations, pads };
}

/** floor (or ceil) of (n + padding - span) / stride + 1, as ONNX and PyTorch size outputs. */
function outSize(c: Ctx, n: Dim, before: number, after: number, span: number, stride: number, ceil = false): number {
  if (typeof n !== 'number') return c.fail('a spatial axis cannot be the batch');
  const q = (n + before + after - span) / stride;
  let out = (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  // A last window that would start in the padding is dropped (PyTorch, ONNX since opset 19).
  if (ceil && (out - 1) * stride >= n + before) out--;
  if (out < 1) return c.fail(`the window does not fit the input (${n} with padding ${before}+${after})`);
  return out;
}

const conv: Builder = (c) => {
  const w = c.shape(1);
  const k = w.length - 2;
  if (k !== 1 && k !== 2) return c.fail(`graph-run convolves 1-D and 2-D inputs, not ${k}-D`);
  const kernel = w.slice(2) as number[];
  const { strides, dilations, pads } = spatial(c, k, kernel);
  const x = c.shape(0);
  const padding = k === 2 ? [pads[0]!, pads[1]!, pads[2]!, pads[3]!] : [pads[0]!, pads[1]!];
  const shape: Dim[] = [
    x[0]!,
    w[0]!,
    ...kernel.map((kk, i) => outSize(c, x[2 + i]!, pads[i]!, pads[i + k]!, dilations[i]! * (kk - 1) + 1, strides[i]!)),
  ];
  const inputs: Val[] = [c.x(0), c.x(1), ...(c.has(2) ? [c.x(2)] : [])];
  const groups = c.int('group', 1);
  // Defaults left out, for a readable graph.
  const attrs: Record<string, unknown> = {};
  if (strides.some((v) => v !== 1)) attrs.stride = strides;
  if (padding.some((v) => v !== 0)) attrs.padding = padding;
  if (dilations.some((v) => v !== 1)) attrs.dilation = dilations;
  if (groups !== 1) attrs.groups = groups;
  return c.emit(k === 2 ? 'conv2d' : 'conv1d', inputs, attrs, shape);
};

function pool(avg: boolean): Builder {
  return (c) => {
    const x = c.shape(0);
    if (x.length !== 4) return c.fail('graph-run pools 2-D inputs [N, C, H, W]');
    const kernel = c.intList('kernel_shape');
    if (kernel?.length !== 2) return c.fail('kernel_shape must give 2 sizes');
    const { strides, dilations, pads } = spatial(c, 2, kernel);
    if (dilations.some((d) => d !== 1)) return c.fail('dilated pooling is not supported');
    if (pads[0] !== pads[2] || pads[1] !== pads[3])
      return c.fail(`asymmetric padding [${pads}] is not supported (graph-run pads both sides alike)`);
    const ceil = c.int('ceil_mode', 0) === 1;
    const shape: Dim[] = [
      x[0]!,
      x[1]!,
      ...[0, 1].map((i) => outSize(c, x[2 + i]!, pads[i]!, pads[i]!, kernel[i]!, strides[i]!, ceil)),
    ];
    const attrs: Record<string, unknown> = { kernel, stride: strides };
    if (pads.some((p) => p !== 0)) attrs.padding = [pads[0]!, pads[1]!];
    if (ceil) attrs.ceil_mode = true;
    // ONNX's AveragePool leaves the padding out of the divisor unless asked; PyTorch's counts it.
    if (avg) attrs.count_include_pad = c.int('count_include_pad', 0) === 1;
    return c.emit(avg ? 'avg_pool2d' : 'max_pool2d', [c.x(0)], attrs, shape);
  };
}

const pad: Builder = (c) => {
  const x = c.shape(0);
  const r = x.length;
  const mode = c.str('mode', 'constant');
  if (!['constant', 'reflect', 'edge'].includes(mode)) return c.fail(`mode ${mode} is not supported`);
  const flat = c.ints(1, 'the pads');
  const axes = c.has(3) ? c.ints(3, 'the axes').map((a) => (a < 0 ? a + r : a)) : [...Array(r).keys()];
  if (flat.length !== 2 * axes.length || flat.some((p) => p < 0))
    return c.fail('pads must be 2 non-negative numbers per axis (negative pads crop, which is not supported)');
  const per = Array.from({ length: r }, () => [0, 0]);
  axes.forEach((a, i) => {
    per[a] = [flat[i]!, flat[i + axes.length]!];
  });
  // graph-run's pad widens the last axes: from the first padded one on.
  const first = per.findIndex((p) => p[0]! > 0 || p[1]! > 0);
  if (first < 0) return c.x(0);
  if (x.slice(first).some((d) => d === 'batch')) return c.fail('the batch axis cannot be padded');
  const value = c.has(2) ? c.known(2)?.data[0] : 0;
  if (value === undefined) return c.fail('the padding value must be fixed');
  const shape = x.map((d, i) => (typeof d === 'number' ? d + per[i]![0]! + per[i]![1]! : d));
  const attrs: Record<string, unknown> = { pads: per.slice(first), mode: mode === 'edge' ? 'replicate' : mode };
  if (mode === 'constant' && value !== 0) attrs.value = value;
  return c.emit('pad', [c.x(0)], attrs, shape);
};

/** The ONNX ops of this family and their builders. */
export const convOps: Record<string, Builder> = {
  Conv: conv,
  MaxPool: pool(false),
  AveragePool: pool(true),
  Pad: pad,
};
