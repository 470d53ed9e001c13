// Matrix products: matrix·matrix, matrix·vector, vector·matrix, vector·vector and batched
// (3-D, a 2-D operand shared across the batch). `transpose_a` / `transpose_b` read an operand
// transposed without materialising it in the graph; the gradient rule uses them.

import { RuleError } from '../errors.js';
import { shapeStr, sizeOf, type SymType, type TensorType, type TypedArray } from '../ir/types.js';
import { dimToString, type Dim } from '../ir/dim.js';
import { defineOp, type CpuKernel, type GradRule, type WgslGen, type WgslKernel, type OpDef } from './op.js';
import { matmulKernel, type MatmulEpilogue } from './matmul.wgsl.js';
import { Type } from './attrs.js';
import { lastTwo } from './onnx.js';

export interface MatmulDims {
  batch: number;
  m: number;
  k: number;
  n: number;
  /** Elements per batch item of each operand (0: shared across the batch). */
  aStride: number;
  bStride: number;
  out: number[];
}

/** Shapes of a matmul (vectors lifted to matrices): also used by the fast CPU kernels. */
export function dims(a: number[], b: number[], ta: boolean, tb: boolean): MatmulDims {
  const d = matmulShape(a, b, ta, tb);
  return { ...d, aStride: a.length === 3 ? d.m * d.k : 0, bStride: b.length === 3 ? d.k * d.n : 0 };
}

/** The dims of a matmul, `batch` possibly symbolic (shape rule and gradient). */
export function matmulShape<D extends Dim>(
  a: D[],
  b: D[],
  ta: boolean,
  tb: boolean,
): { batch: D; m: D; k: D; n: D; out: D[] } {
  if (a.length === 0 || b.length === 0 || a.length > 3 || b.length > 3) {
    throw new RuleError(`matmul takes tensors of rank 1 to 3, got ${shapeStr(a)} and ${shapeStr(b)}`);
  }
  if ((a.length === 1 && ta) || (b.length === 1 && tb))
    throw new RuleError('transpose_a/transpose_b apply to matrices, not vectors', 'AttrError');
  const am: D[] = a.length === 1 ? [1 as D, a[0]!] : a.slice(-2);
  const bm: D[] = b.length === 1 ? [b[0]!, 1 as D] : b.slice(-2);
  const [m, k1]: D[] = ta ? [am[1]!, am[0]!] : [am[0]!, am[1]!];
  const [k2, n]: D[] = tb ? [bm[1]!, bm[0]!] : [bm[0]!, bm[1]!];
  if (k1 !== k2) {
    throw new RuleError(
      `inner dimensions differ: ${shapeStr(a)}${ta ? 'ᵀ' : ''} · ${shapeStr(b)}${tb ? 'ᵀ' : ''} (${dimToString(k1)} vs ${dimToString(k2)})`,
    );
  }
  const ba = a.length === 3 ? a[0]! : (1 as D);
  const bb = b.length === 3 ? b[0]! : (1 as D);
  if (a.length === 3 && b.length === 3 && ba !== bb)
    throw new RuleError(`batch dimensions differ: ${dimToString(ba)} vs ${dimToString(bb)}`);
  // The 3-D operand gives the batch (0 included: an empty batch stays empty).
  const batch = a.length === 3 ? ba : bb;
  const out: D[] = [];
  if (a.length === 3 || b.length === 3) out.push(batch);
  if (a.length !== 1) out.push(m);
  if (b.length !== 1) out.push(n);
  return { batch, m, k: k1, n, out };
}

const cpu: CpuKernel = ({ inputs, output, inTypes, attrs }) => {
  const ta = attrs.transpose_a === true,
    tb = attrs.transpose_b === true;
  const d = dims(inTypes[0]!.shape, inTypes[1]!.shape, ta, tb);
  const { batch, m, k, n, aStride, bStride } = d;
  const A = inputs[0]!,
    B = inputs[1]!,
    C = output;
  // Transposed operands are copied into row-major scratch once per call (O(mk) next to the
  // O(mkn) product), so the inner loop is always the cache-friendly i-k-j form.
  const At = ta ? new (A.constructor as new (n: number) => TypedArray)(A.length) : null;
  const Bt = tb ? new (B.constructor as new (n: number) => TypedArray)(B.length) : null;
  return () => {
    const a = At ? transposeInto(A, At, aStride ? batch : 1, k, m) : A;
    const b = Bt ? transposeInto(B, Bt, bStride ? batch : 1, n, k) : B;
    for (let t = 0; t < batch; t++) {
      const ao = t * aStride,
        bo = t * bStride,
        co = t * m * n;
      for (let i = 0; i < m; i++) {
        const ci = co + i * n;
        for (let j = 0; j < n; j++) C[ci + j] = 0;
        const ai = ao + i * k;
        for (let p = 0; p < k; p++) {
          const av = a[ai + p]!;
          if (av === 0) continue;
          const bp = bo + p * n;
          for (let j = 0; j < n; j++) C[ci + j]! += av * b[bp + j]!;
        }
      }
    }
  };
};

/** dst[t][c][r] = src[t][r][c] for `count` matrices of rows × cols. */
function transposeInto(src: TypedArray, dst: TypedArray, count: number, rows: number, cols: number): TypedArray {
  for (let t = 0; t < count; t++) {
    const o = t * rows * cols;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[o + c * rows + r] = src[o + r * cols + c]!;
  }
  return dst;
}

/** The WGSL of a matmul with these inputs, finished by `epi` (a bias row in2, ReLU) when given. */
export function matmulWgsl(inTypes: TensorType[], attrs: Record<string, unknown>, epi?: MatmulEpilogue): WgslKernel {
  const ta = attrs.transpose_a === true,
    tb = attrs.transpose_b === true;
  const d = dims(inTypes[0]!.shape, inTypes[1]!.shape, ta, tb);
  const s = { batch: d.batch, m: d.m, k: d.k, n: d.n, aStride: d.aStride, bStride: d.bStride, ta, tb };
  return matmulKernel(s, undefined, epi);
}

const wgsl: WgslGen = ({ inTypes, attrs }) => matmulWgsl(inTypes, attrs);

/**
 * With vectors lifted to matrices (a: [1,k], b: [k,1]) and dy to [.., m, n]:
 *   C = op(A)·op(B)  ⇒  dA = dC·op(B)ᵀ (transposed back if ta), dB = op(A)ᵀ·dC (likewise).
 */
const grad: GradRule = (g, node, dy, needs) => {
  const [an, bn] = node.inputs as [string, string];
  const at = g.type(an),
    bt = g.type(bn);
  const ta = node.attrs.transpose_a === true,
    tb = node.attrs.transpose_b === true;
  const d = matmulShape(at.shape, bt.shape, ta, tb);
  const lift = (name: string, t: SymType, shape: Dim[]) =>
    t.shape.length === 1 ? g.op('reshape', [name], { shape }) : name;
  const A = lift(an, at, [1, d.k]);
  const B = lift(bn, bt, [d.k, 1]);
  const dyShape =
    d.out.length === 3 || at.shape.length === 3 || bt.shape.length === 3 ? [d.batch, d.m, d.n] : [d.m, d.n];
  const dY = g.type(dy).shape.length === dyShape.length ? dy : g.op('reshape', [dy], { shape: dyShape });
  const mm = (x: string, y: string, tx: boolean, ty: boolean) =>
    g.op('matmul', [x, y], { ...(tx ? { transpose_a: true } : {}), ...(ty ? { transpose_b: true } : {}) });
  // A vector's gradient against a batched operand is one vector per batch item: keep that
  // leading axis ([batch, k]) so the builder sums it away; reshaping straight to [k] cannot.
  const unlift = (x: string, t: SymType) =>
    g.op('reshape', [x], { shape: g.type(x).shape.length === 3 ? [d.batch, ...t.shape] : [...t.shape] });
  let dA: string | null = null,
    dB: string | null = null;
  if (needs[0]) {
    dA = ta ? mm(B, dY, tb, true) : mm(dY, B, false, !tb);
    if (at.shape.length === 1) dA = unlift(dA, at);
  }
  if (
    needs[1] &&
    at.shape.length === 3 &&
    bt.shape.length === 2 &&
    !ta &&
    typeof d.k === 'number' &&
    typeof d.n === 'number'
  ) {
    // B shared across A's batch: its gradient sums over the batch's rows. One product over all
    // batch·m rows ([batch·m, k]ᵀ · [batch·m, n]) instead of one per batch item and a sum after.
    const A2 = g.op('reshape', [A], { shape: [-1, d.k] });
    const dY2 = g.op('reshape', [dY], { shape: [-1, d.n] });
    dB = tb ? mm(dY2, A2, true, false) : mm(A2, dY2, true, false);
  } else if (needs[1]) {
    dB = tb ? mm(dY, A, true, ta) : mm(A, dY, !ta, false);
    if (bt.shape.length === 1) dB = unlift(dB, bt);
  }
  return [dA, dB];
};

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type MatmulOpName = 'matmul';

export const matmulOps: { readonly [K in MatmulOpName]: OpDef } = {
  matmul: defineOp({
    name: 'matmul',
    doc: 'Matrix product (with vectors and 3-D batches); transpose_a/transpose_b read an operand transposed.',
    group: 'matmul',
    notes:
      'matmul(a, b): matrix·matrix, matrix·vector, vector·matrix, vector·vector, and batched: 3-D operands of ' +
      "the same batch size, or a 3-D operand with a 2-D one shared across the batch. Weights in PyTorch's " +
      '`nn.Linear` layout `[out, in]` use `transpose_b: true`.',
    arity: 2,
    attrs: Type.Object(
      {
        transpose_a: Type.Optional(
          Type.Boolean({ description: 'Use the transpose of the first operand.', examples: [true] }),
        ),
        transpose_b: Type.Optional(
          Type.Boolean({ description: 'Use the transpose of the second operand.', examples: [true] }),
        ),
      },
      { additionalProperties: false },
    ),
    infer: ([a, b], attrs) => {
      if (a!.dtype !== b!.dtype) throw new RuleError(`dtypes differ: ${a!.dtype} vs ${b!.dtype}`, 'DTypeError');
      if (a!.dtype === 'i32') throw new RuleError('matmul needs float tensors', 'DTypeError');
      return {
        shape: matmulShape(a!.shape, b!.shape, attrs.transpose_a === true, attrs.transpose_b === true).out,
        dtype: a!.dtype,
      };
    },
    cpu,
    wgsl,
    grad,
    onnx: (c) => {
      let [a, b] = c.x as [string, string];
      if (c.node.attrs.transpose_a === true) a = lastTwo(c, a, c.types[0]!.shape.length);
      if (c.node.attrs.transpose_b === true) b = lastTwo(c, b, c.types[1]!.shape.length);
      c.emit('MatMul', [a, b], undefined, c.out);
    },
    fast: (accel, { inputs, output, inTypes, attrs }) => accel.matmul(inputs, output, inTypes, attrs),
    // Two per multiply-add: every output element sums k products, k the first operand's inner axis.
    flops: ([a], out, attrs) => {
      const s = a!.shape;
      const k = s.length === 1 ? s[0]! : s[s.length - (attrs.transpose_a === true ? 2 : 1)]!;
      return 2 * k * sizeOf(out.shape);
    },
    trace: ({ node, args, paren }) => {
      const t = (i: number, transposed: boolean | undefined) => `${paren(args[i]!)}${transposed === true ? 'ᵀ' : ''}`;
      return { text: `${t(0, node.attrs.transpose_a)} · ${t(1, node.attrs.transpose_b)}`, atom: false, prec: 2 };
    },
  }),
};
