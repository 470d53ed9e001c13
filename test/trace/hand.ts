// The tutorial's 2-2-1 network by hand, as its NumPy code (../shared/reference/seed_numpy.py)
// writes it: scalar weights w1..w6 and biases b1..b3, the chain rule spelled out per parameter
// (d_L_d_ypred, d_ypred_d_w5, d_h1_d_w1, ...). The trace tests compare graph-run against this.

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const derivSigmoid = (x: number): number => {
  const fx = sigmoid(x);
  return fx * (1 - fx);
};

/** The tutorial's parameters: w1..w6, b1..b3, all 0.1 at the start. */
export interface HandNet {
  w1: number;
  w2: number;
  w3: number;
  w4: number;
  w5: number;
  w6: number;
  b1: number;
  b2: number;
  b3: number;
}

export const freshNet = (): HandNet => ({
  w1: 0.1,
  w2: 0.1,
  w3: 0.1,
  w4: 0.1,
  w5: 0.1,
  w6: 0.1,
  b1: 0.1,
  b2: 0.1,
  b3: 0.1,
});

/** One sample's forward values and d L / d every parameter, exactly as the tutorial derives them. */
export interface HandStep {
  sumH1: number;
  h1: number;
  sumH2: number;
  h2: number;
  sumO1: number;
  o1: number;
  loss: number;
  dLdYpred: number;
  /** d L / d each parameter: d_L_d_ypred times the chain of partials. */
  grads: HandNet;
  /** Gradients the trace labels on the way: d L / d sum_o1, d L / d h1, d L / d h2, d L / d sum_h1, d L / d sum_h2. */
  dLdSumO1: number;
  dLdH1: number;
  dLdH2: number;
  dLdSumH1: number;
  dLdSumH2: number;
}

export function handStep(n: HandNet, x: [number, number], yTrue: number): HandStep {
  const sumH1 = n.w1 * x[0] + n.w2 * x[1] + n.b1;
  const h1 = sigmoid(sumH1);
  const sumH2 = n.w3 * x[0] + n.w4 * x[1] + n.b2;
  const h2 = sigmoid(sumH2);
  const sumO1 = n.w5 * h1 + n.w6 * h2 + n.b3;
  const o1 = sigmoid(sumO1);
  const yPred = o1;
  const dLdYpred = -2 * (yTrue - yPred);
  // Neuron o1
  const dYpredDW5 = h1 * derivSigmoid(sumO1);
  const dYpredDW6 = h2 * derivSigmoid(sumO1);
  const dYpredDB3 = derivSigmoid(sumO1);
  const dYpredDH1 = n.w5 * derivSigmoid(sumO1);
  const dYpredDH2 = n.w6 * derivSigmoid(sumO1);
  // Neuron h1
  const dH1DW1 = x[0] * derivSigmoid(sumH1);
  const dH1DW2 = x[1] * derivSigmoid(sumH1);
  const dH1DB1 = derivSigmoid(sumH1);
  // Neuron h2
  const dH2DW3 = x[0] * derivSigmoid(sumH2);
  const dH2DW4 = x[1] * derivSigmoid(sumH2);
  const dH2DB2 = derivSigmoid(sumH2);
  return {
    sumH1,
    h1,
    sumH2,
    h2,
    sumO1,
    o1,
    loss: (yTrue - yPred) ** 2,
    dLdYpred,
    grads: {
      w1: dLdYpred * dYpredDH1 * dH1DW1,
      w2: dLdYpred * dYpredDH1 * dH1DW2,
      b1: dLdYpred * dYpredDH1 * dH1DB1,
      w3: dLdYpred * dYpredDH2 * dH2DW3,
      w4: dLdYpred * dYpredDH2 * dH2DW4,
      b2: dLdYpred * dYpredDH2 * dH2DB2,
      w5: dLdYpred * dYpredDW5,
      w6: dLdYpred * dYpredDW6,
      b3: dLdYpred * dYpredDB3,
    },
    dLdSumO1: dLdYpred * derivSigmoid(sumO1),
    dLdH1: dLdYpred * dYpredDH1,
    dLdH2: dLdYpred * dYpredDH2,
    dLdSumH1: dLdYpred * dYpredDH1 * derivSigmoid(sumH1),
    dLdSumH2: dLdYpred * dYpredDH2 * derivSigmoid(sumH2),
  };
}

/** The tutorial's update: every parameter minus learn_rate times its gradient. */
export function handUpdate(n: HandNet, g: HandNet, lr = 0.1): HandNet {
  const out = { ...n };
  for (const k of Object.keys(n) as (keyof HandNet)[]) out[k] = n[k] - lr * g[k];
  return out;
}

/** graph-run's layout of the same numbers (nn.Linear [out, in]): w1 [[w1, w2], [w3, w4]], b1 [b1, b2], w2 [[w5, w6]], b2 [b3]. */
export function asTensors(n: HandNet): Record<'w1' | 'b1' | 'w2' | 'b2', number[]> {
  return { w1: [n.w1, n.w2, n.w3, n.w4], b1: [n.b1, n.b2], w2: [n.w5, n.w6], b2: [n.b3] };
}

/** The tutorial's data: Alice, Bob, Charlie, Diana. */
export const DATA: [number, number][] = [
  [-2, -1],
  [25, 6],
  [17, 4],
  [-15, -6],
];
export const Y = [1, 0, 0, 1];
