// The optimizer's part of a training-step graph: the nodes computed once from all gradients
// (clipping by global norm), then each parameter's update with its state, and the write-backs
// (new value -> parameter or state buffer) the plan performs at the end of a step.

import type { GraphError } from '../errors.js';
import { addNodes, type Built } from '../ir/build.js';
import type { FloatDType } from '../ir/types.js';
import type { Dim } from '../ir/dim.js';
import type { Model, Ref } from '../load/model.js';

/**
 * Add the update nodes to `built` (which holds the forward, loss and reverse graph; `grads`
 * maps each trainable parameter to its gradient node, null without a path to the loss).
 * Errors (shapes against each parameter) are collected in `errors`.
 */
export function addUpdates(
  built: Built<Dim>,
  model: Model,
  grads: Map<string, string | null>,
  float: FloatDType,
  errors: GraphError[],
): { from: string; to: string }[] {
  const g = built.graph;
  const gradOf = new Map<string, string>();
  for (const u of model.updates) {
    const d = grads.get(u.param);
    // A parameter the loss does not depend on has gradient 0 (it still counts in a global norm).
    gradOf.set(u.gradRef, d ?? g.constant(0, float, [...g.node(u.param).type.shape]));
  }
  const ref = (r: Ref) => (typeof r === 'string' && gradOf.has(r) ? gradOf.get(r)! : built.ref(r));
  const writebacks: { from: string; to: string }[] = [];
  // The model's state (running statistics): its update node, computed by the forward pass of
  // this step, becomes its value once the step is done. Only training steps write it.
  for (const s of model.state ?? []) if (s.update !== undefined) writebacks.push({ from: ref(s.update), to: s.name });
  if (model.gradNodes) addNodes(g, model.gradNodes, errors, new Set(), ref);
  for (const u of model.updates) {
    if (!grads.get(u.param)) continue; // no path from this parameter to the loss: nothing to update
    for (const s of u.state)
      g.add({ name: s.name, op: 'state', inputs: [], attrs: { shape: s.shape, dtype: float }, loc: s.loc });
    const before = errors.length;
    addNodes(g, u.nodes, errors, new Set(), ref);
    if (errors.length > before) continue;
    writebacks.push({ from: ref(u.newParam), to: u.param });
    for (const [s, r] of u.newState) writebacks.push({ from: ref(r), to: s });
  }
  return writebacks;
}
