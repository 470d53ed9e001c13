// Shapes as the data checks see them: an input's sample (its shape without the batch axis).

import type { Dim, InputDecl } from '../load/model.js';

/** An input's shape without its leading `batch` axis, or null when it has none. */
export function sampleShape(i: InputDecl): Dim[] | null {
  return i.shape[0] === 'batch' ? i.shape.slice(1) : null;
}

export function fmt(shape: Dim[]): string {
  return `[${shape.join(', ')}]`;
}
