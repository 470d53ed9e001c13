import { parseGraph } from './runtime/index.js';
import { buildGraph } from './runtime/ir/build.js';
import { buildPlan } from './runtime/scheduler/plan.js';
import { CpuExecutor } from './runtime/executors/cpu/cpu.js';
function time(name: string, yaml: string, out: string) {
  const g = buildGraph(parseGraph(yaml, 'x.yaml'), { float: 'f32', batch: 64 }).graph;
  const plan = buildPlan(g, new CpuExecutor({}), { outputs: [out], bound: new Map() });
  for (const n of ['x', 'k', 'dy', 'w']) { try { const b = plan.buffer(n); for (let i = 0; i < b.length; i++) b[i] = Math.random() - 0.5; } catch {} }
  plan.run();
  const t0 = performance.now(); for (let i = 0; i < 5; i++) plan.run();
  console.log(name, ((performance.now() - t0) / 5).toFixed(2), 'ms');
}
const h = (x: string, k: string) => `inputs: {x: {shape: ${x}}, k: {shape: ${k}}}\n`;
time('conv1 fwd', h('[64,1,28,28]', '[8,1,3,3]') + 'nodes: [{name: y, op: conv2d, inputs: [x, k], attrs: {padding: 1}}]\noutputs: [y]', 'y');
time('conv2 fwd', h('[64,8,28,28]', '[16,8,3,3]') + 'nodes: [{name: y, op: conv2d, inputs: [x, k], attrs: {padding: 1}}]\noutputs: [y]', 'y');
const a = '{stride: [1,1], pads: [1,1,1,1], dilation: [1,1], groups: 1, size: [28, 28]}';
time('conv2 dx', `inputs: {x: {shape: [64,16,28,28]}, k: {shape: [16,8,3,3]}}\nnodes: [{name: y, op: conv_input_grad, inputs: [x, k], attrs: ${a}}]\noutputs: [y]`, 'y');
const b = '{stride: [1,1], pads: [1,1,1,1], dilation: [1,1], groups: 1, size: [3, 3]}';
time('conv2 dw', `inputs: {x: {shape: [64,8,28,28]}, k: {shape: [64,16,28,28]}}\nnodes: [{name: y, op: conv_weight_grad, inputs: [x, k], attrs: ${b}}]\noutputs: [y]`, 'y');
time('pool fwd', `inputs: {x: {shape: [64,16,28,28]}}\nnodes: [{name: y, op: max_pool2d, inputs: [x], attrs: {kernel: 2}}]\noutputs: [y]`, 'y');
time('pool grad', `inputs: {x: {shape: [64,16,28,28]}, k: {shape: [64,16,14,14]}}\nnodes: [{name: y, op: max_pool2d_grad, inputs: [x, k], attrs: {kernel: 2}}]\noutputs: [y]`, 'y');
