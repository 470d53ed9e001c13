// Values a graph file may hold, checked before the schema: every number finite (YAML's .nan
// and .inf, and 1e309, which reads as infinity, are refused wherever they stand: as a learning
// rate they would train to NaN, as epochs run forever, as a dimension pass integer checks), and
// sizes bounded: a dimension fits an i32, a parameter or an input sample holds at most
// MAX_ELEMENTS values, epochs at most MAX_EPOCHS. Documented in docs/format.md ("Limits").

import { SchemaError } from '../errors.js';
import type { Path, SourceFile } from './source.js';

/** Largest dimension of a shape (an i32, as WebGPU and ONNX index with). */
export const MAX_DIM = 2 ** 31 - 1;
/** Most elements of a parameter or of one sample of an input: 2^28 (1 GiB in f32, 2 GiB in f64). */
export const MAX_ELEMENTS = 2 ** 28;
/** Most epochs a training section (or a schedule) may ask for. */
export const MAX_EPOCHS = 1e9;
/** Most copies `repeat:` stacks of one subgraph use (the schema's maximum says the same). */
export const MAX_REPEAT = 1000;
/**
 * Most op nodes a graph may expand to, its subgraphs inlined: repeats nested in repeats multiply,
 * and expanding past this would take minutes and gigabytes before any other check ran.
 */
export const MAX_EXPANDED_NODES = 250_000;

/** Problems with the numbers of a parsed graph file, each at its position. */
export function checkLimits(file: SourceFile): SchemaError[] {
  const errors: SchemaError[] = [];
  const walk = (v: unknown, path: Path): void => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v))
        errors.push(
          new SchemaError(
            `${v} is not a finite number`,
            file.loc(path),
            'graph-run takes finite numbers only (.nan, .inf and numbers past 1.8e308 are refused)',
          ),
        );
      else if (path[path.length - 1] === 'epochs' && v > MAX_EPOCHS)
        errors.push(new SchemaError(`epochs ${v} is over the limit of ${MAX_EPOCHS}`, file.loc(path)));
      else if (path[path.length - 2] === 'shape' && Math.abs(v) > MAX_DIM)
        errors.push(new SchemaError(`dimension ${v} is over the limit of ${MAX_DIM}`, file.loc(path)));
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
      return;
    }
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
      // A parameter's or an input's shape: its elements (`batch` and named sizes count as 1).
      const shape = (v as { shape?: unknown }).shape;
      const section = path[path.length - 2];
      if ((section === 'params' || section === 'inputs') && Array.isArray(shape)) {
        const n = shape.reduce<number>((a, d) => a * (typeof d === 'number' && d > 0 ? d : 1), 1);
        if (Number.isFinite(n) && n > MAX_ELEMENTS && shape.every((d) => typeof d !== 'number' || d <= MAX_DIM))
          errors.push(
            new SchemaError(
              `shape [${shape.join(', ')}] holds ${n} elements, over the limit of ${MAX_ELEMENTS} (2^28)`,
              file.loc([...path, 'shape']),
            ),
          );
      }
    }
  };
  walk(file.value, []);
  return errors;
}
