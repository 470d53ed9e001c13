// Safetensors for checkpoints: the format's reader and writer live in the load stage
// (runtime/load/safetensors.ts, shared with initial values read from a file); here its errors
// become CheckpointErrors, which the CLI reports as a checkpoint's.

import {
  decodeSafetensors as decode,
  encodeSafetensors,
  type SafeDType,
  type SafeFile,
  SafetensorsError,
  type SafeTensor,
  safetensorsHead as head,
} from '../load/safetensors.js';
import { CheckpointError } from './errors.js';

export { encodeSafetensors, type SafeDType, type SafeFile, type SafeTensor };

function checked<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(e.message, e.tensor);
    throw e;
  }
}

/** Decode and check a safetensors file; a damaged or truncated one throws a CheckpointError naming the tensor. */
export function decodeSafetensors(bytes: Uint8Array, file = 'checkpoint'): SafeFile {
  return checked(() => decode(bytes, file));
}

/**
 * The bytes a safetensors file must have, from its first bytes (at least the 8-byte length and
 * the header it gives; `size` is the whole file's): a reader checks the header, and the file's
 * size against it, before reading the data. `headBytes` says how many first bytes it needs.
 */
export function safetensorsHead(
  bytes: Uint8Array,
  size: number,
  file = 'checkpoint',
): { headBytes: number; total?: number } {
  return checked(() => head(bytes, size, file));
}
