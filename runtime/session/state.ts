// A session's state as explicit objects: the parameters and optimizer state (one buffer each,
// written in place by every step and by tools such as checkpoints), the training data with the
// current epoch's row order, and the clock the runtime feeds to `__epoch` and `__step`.

import { sizeOf, type FloatDType, type Tensor, type TypedArray } from '../ir/types.js';
import type { Model } from '../load/model.js';
import type { DataSets } from '../compile/program.js';
import { shuffledOrder } from '../ops/random.js';
import { initialValues } from '../train/init.js';
import type { Column } from '../data/index.js';

/** What the runtime feeds to `__epoch` and `__step` (the 1-based global step) in training steps. */
export interface Clock {
  epoch: number;
  step: number;
}

/**
 * The clock of a training step: the loop sets the step; a step taken directly (step(), stepOn(),
 * a traced step) before any loop runs as step 1, so it is a training step for dropout and
 * `is_training` too.
 */
export function trainingClock(clock: Clock): Clock {
  return clock.step >= 1 ? clock : { epoch: clock.epoch, step: 1 };
}

/** Parameters, the model's state and optimizer state: the buffers plans bind, by node name. */
export class Weights {
  readonly params = new Map<string, TypedArray>();
  readonly state = new Map<string, TypedArray>();
  /** Parameters then state: what plans bind and a step guard saves. */
  readonly bound = new Map<string, TypedArray>();

  constructor(
    readonly model: Model,
    readonly float: FloatDType,
    allocate: (dtype: FloatDType, length: number) => TypedArray,
  ) {
    for (const p of model.params) {
      const buf = allocate(float, sizeOf(p.shape));
      buf.set(initialValues(p, model.seed ?? 0));
      this.params.set(p.name, buf);
      this.bound.set(p.name, buf);
    }
    for (const u of [{ state: model.state ?? [] }, ...model.updates]) {
      for (const s of u.state) {
        const buf = allocate(float, sizeOf(s.shape));
        buf.fill(s.init);
        this.state.set(s.name, buf);
        this.bound.set(s.name, buf);
      }
    }
  }

  /** A parameter's or state value's live buffer (write into it to change the value). */
  buffer(name: string): TypedArray {
    const b = this.bound.get(name);
    if (!b) throw new Error(`no parameter or optimizer state named "${name}"`);
    return b;
  }

  /** Parameter `name` as a tensor (a copy). */
  tensor(name: string): Tensor {
    const p = this.model.params.find((q) => q.name === name)!;
    return { shape: [...p.shape], dtype: this.float, data: this.buffer(name).slice() };
  }

  /** Every parameter as a tensor (copies), in declaration order. */
  tensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const p of this.model.params) out[p.name] = this.tensor(p.name);
    return out;
  }
}

/**
 * The training and validation data, and the row order of the current epoch. The data is read
 * when first used (a training step, an evaluation), not when the session is made: tools that
 * only build graphs or run a feed read no data.
 */
export class TrainingData {
  private sets?: DataSets;
  /** Row order of the current epoch when shuffling (null: data order). */
  order: Int32Array | null = null;

  constructor(private readonly read: () => DataSets) {}

  private get s(): DataSets {
    if (!this.sets) this.sets = this.read();
    return this.sets;
  }
  get columns(): Map<string, Column> | null {
    return this.s.train;
  }
  get rows(): number {
    return this.s.rows;
  }
  get valColumns(): Map<string, Column> | null {
    return this.s.val;
  }
  get valRows(): number {
    return this.s.valRows;
  }

  /** This epoch's row order: a seeded shuffle into `buf`, or data order without one. */
  beginEpoch(seed: number, epoch: number, buf: Int32Array<ArrayBuffer> | null): void {
    this.order = buf ? shuffledOrder(seed, this.rows, epoch, buf) : null;
  }

  /** Input values of the first `batch` rows in data order (`graph-run grad`'s feed). */
  firstRows(batch: number): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const bs = Math.min(batch, this.rows);
    for (const [name, col] of this.columns ?? [])
      out.set(name, Array.from(col.batched ? col.values.subarray(0, bs * col.rowSize) : col.values));
    return out;
  }
}
