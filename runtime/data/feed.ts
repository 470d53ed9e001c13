// Values for one run (a prediction or a feed), checked against the inputs' shapes with the
// position of the offending value.

import { DataError, NameError, type GraphError, type SourceLoc } from '../errors.js';
import { suggest } from '../load/hint.js';
import type { Located, Model } from '../load/model.js';
import { flatten } from '../load/values.js';
import { fmt, sampleShape } from './shapes.js';

/**
 * Values for one run (a prediction or a feed): each input gets either one sample (shape
 * without the batch axis) or a whole batch. Returns the batch size and flat values.
 */
export function feedValues(
  model: Model,
  feed: Map<string, Located<unknown>>,
  errors: GraphError[],
  what: string,
  needed: Set<string> | undefined,
  where: SourceLoc,
): { batch: number; values: Map<string, number[]> } | null {
  const inputs = new Map(model.inputs.map((i) => [i.name, i]));
  const values = new Map<string, number[]>();
  let batch: number | undefined;
  let ok = true;
  for (const [name, v] of feed) {
    const input = inputs.get(name);
    if (!input) {
      errors.push(
        new NameError(
          `${what} gives a value for unknown input "${name}"`,
          v.loc,
          undefined,
          suggest(name, inputs.keys(), 'inputs'),
        ),
      );
      ok = false;
      continue;
    }
    const f = flatten(v.value);
    if (typeof f === 'string') {
      errors.push(new DataError(`${what}: value of "${name}": ${f}`, v.loc));
      ok = false;
      continue;
    }
    const per = sampleShape(input);
    let b = 1;
    if (per && f.shape.length === per.length + 1 && f.shape.slice(1).join(',') === per.join(',')) b = f.shape[0]!;
    else if (per ? f.shape.join(',') !== per.join(',') : f.shape.join(',') !== input.shape.join(',')) {
      errors.push(
        new DataError(
          `${what}: value of "${name}" has shape ${fmt(f.shape)}, expected ${fmt(per ?? input.shape)}${per ? ` (one sample) or [n, ${per.join(', ')}]` : ''}`,
          v.loc,
        ),
      );
      ok = false;
      continue;
    }
    if (per) {
      if (batch !== undefined && b !== batch) {
        errors.push(new DataError(`${what}: "${name}" has ${b} samples, other inputs have ${batch}`, v.loc));
        ok = false;
        continue;
      }
      batch = b;
    }
    values.set(name, f.values);
  }
  for (const i of model.inputs) {
    if (!values.has(i.name) && !i.provided && (needed === undefined || needed.has(i.name)) && !feed.has(i.name)) {
      errors.push(
        new DataError(`${what} has no value for input "${i.name}"`, where, undefined, `add ${i.name}: ... to it`),
      );
      ok = false;
    }
  }
  return ok ? { batch: batch ?? 1, values } : null;
}
