// Text generation from a character language model (`graph-run generate`): a graph whose i32 input
// of shape [batch, T] declares a `vocab:` (id k = its k-th character) and whose output gives logits
// [batch, T, V] over that vocabulary. Each new character is one forward run of batch 1: the last
// T characters (fewer at first, the rest of the row padded with id 0, which causal attention keeps
// from the positions before it) and the logits at the last real position.
//
// Sampling happens here on the host, in f64, not in the graph: logits / temperature, the top k
// kept (ties with the k-th included), a softmax, then the first id whose cumulative probability
// exceeds u, u the seeded Threefry stream "generate" at counter (i, 0) for the i-th character. The
// same seed gives the same u on every device, so a CPU and a WebGPU run choose different ids only
// where their logits (equal to ~1e-5) move a cumulative boundary across u, or reorder the k-th
// largest logit; `margin` reports the closest such call in a run, so a test can show that its
// agreement is not luck.

import { GraphError, GraphErrors, type SourceLoc, UsageError } from '../errors.js';
import type { InputDecl, Model } from '../load/model.js';
import { Stream } from '../ops/random.js';
import type { Session } from '../session.js';

/** The parts of a graph generation needs: the id input, its vocabulary, the context and the logits. */
export interface LanguageModel {
  input: InputDecl;
  /** The vocabulary's characters (code points), id k = vocab[k]. */
  vocab: string[];
  /** The context: the ids input's second axis. */
  context: number;
  /** The output holding the logits [batch, T, V]. */
  logits: string;
}

/** What to generate: the prompt, how many characters, the seed of the draws, and how to draw. */
export interface GenerateOptions {
  prompt: string;
  /** Characters to generate after the prompt. */
  tokens: number;
  seed: number;
  /** Logits are divided by it before the softmax (default 1). */
  temperature?: number;
  /** Draw among the k most likely characters only. */
  topK?: number;
}

/** A generation's result: the text, its new part, the prompt's cropping and the closest draw. */
export interface Generated {
  /** The prompt (as fed: cropped to the context) followed by the generated characters. */
  text: string;
  /** The generated characters alone. */
  generated: string;
  /** Characters dropped from the prompt's start to fit the context (0 when it fit). */
  cropped: number;
  /**
   * The smallest distance, over every draw, between u and a cumulative-probability boundary (and,
   * with top_k, between the k-th and (k+1)-th largest logit / temperature): a run on another device
   * whose probabilities differ by less than this draws the same characters.
   */
  margin: number;
}

/** Most characters one call generates (each is a forward run). */
export const MAX_TOKENS = 100_000;

const at = (m: Model): SourceLoc => ({ file: m.file, line: 1, col: 1 });

function notLm(m: Model, msg: string, loc: SourceLoc, hint: string): never {
  throw new GraphErrors([
    new GraphError('SchemaError', `${m.file} is not a language model: ${msg}`, loc, undefined, hint),
  ]);
}

/**
 * The id input (i32 [batch, T] with a vocab) and the logits output ([batch, T, V], V the vocabulary's
 * size) of `session`'s graph; a positioned error when it has none.
 */
export async function languageModel(session: Session): Promise<LanguageModel> {
  const m = session.model;
  const withVocab = m.inputs.filter((i) => i.vocab !== undefined);
  if (withVocab.length !== 1)
    notLm(
      m,
      withVocab.length ? `${withVocab.length} inputs declare a vocab` : 'no input declares a vocab',
      withVocab[1]?.loc ?? m.inputs[0]?.loc ?? at(m),
      'generate needs one i32 input of token ids [batch, T] with vocab: "<the characters, in id order>"',
    );
  const input = withVocab[0]!;
  const context = input.shape[1];
  if (input.shape.length !== 2 || input.shape[0] !== 'batch' || typeof context !== 'number')
    notLm(
      m,
      `input "${input.name}" must be [batch, T] (T a number), got [${input.shape.join(', ')}]`,
      input.loc,
      'generate feeds one row of T ids',
    );
  const vocab = [...input.vocab!];
  // The logits: an output of [1, T, V] when one row of ids is fed.
  const outs = await session.runAsync({ [input.name]: new Int32Array(context) }, 1);
  const fits = Object.entries(outs).filter(
    ([, t]) =>
      (t.dtype === 'f32' || t.dtype === 'f64') &&
      t.shape.length === 3 &&
      t.shape[1] === context &&
      t.shape[2] === vocab.length,
  );
  if (!fits.length) {
    const loc = m.outputs[0]?.loc ?? input.loc;
    notLm(
      m,
      `no output holds logits [batch, ${context}, ${vocab.length}] (one row per position over the ${vocab.length} characters of "${input.name}"'s vocab)`,
      loc,
      `outputs: ${m.outputs.map((o) => `${o.name} [${outs[o.name]?.shape.join(', ') ?? '?'}]`).join(', ') || 'none'}`,
    );
  }
  const logits = fits.find(([n]) => n === 'logits')?.[0] ?? fits[0]![0];
  return { input, vocab, context, logits };
}

/** The prompt's ids; an error naming every character outside the vocabulary. */
export function encodePrompt(lm: LanguageModel, prompt: string): number[] {
  const idOf = new Map(lm.vocab.map((c, k) => [c, k]));
  const chars = [...prompt];
  const unknown = [...new Set(chars.filter((c) => !idOf.has(c)))];
  if (unknown.length) {
    const shown = unknown
      .slice(0, 10)
      .map((c) => `${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`)
      .join(', ');
    throw new UsageError(
      `the prompt has ${unknown.length === 1 ? 'a character' : `${unknown.length} characters`} outside the vocabulary of input "${lm.input.name}": ${shown}${unknown.length > 10 ? ', ...' : ''}`,
    );
  }
  return chars.map((c) => idOf.get(c)!);
}

/** One id from a row of logits (f64 from here on); `margin` as in Generated. */
function draw(
  row: ArrayLike<number>,
  u: number,
  temperature: number,
  topK: number | undefined,
): { id: number; margin: number } {
  const n = row.length;
  const z = Float64Array.from(row, (v) => v / temperature);
  let floor = -Infinity;
  let margin = Infinity;
  if (topK !== undefined && topK < n) {
    const sorted = Float64Array.from(z).sort().reverse();
    floor = sorted[topK - 1]!;
    // The first smaller value: a device whose k-th and (k+1)-th logits swap keeps another set.
    const below = sorted.find((v) => v < floor);
    if (below !== undefined) margin = floor - below;
  }
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (z[j]! >= floor && z[j]! > max) max = z[j]!;
  let total = 0;
  for (let j = 0; j < n; j++) {
    z[j] = z[j]! >= floor ? Math.exp(z[j]! - max) : 0;
    total += z[j]!;
  }
  let cum = 0;
  let id = -1;
  for (let j = 0; j < n; j++) {
    if (z[j] === 0) continue;
    cum += z[j]! / total;
    margin = Math.min(margin, Math.abs(cum - u));
    if (id < 0 && cum > u) id = j;
  }
  // u < 1 and the cumulative sum ends at 1 up to rounding: the last kept id when it falls short.
  if (id < 0) for (let j = n - 1; j >= 0 && id < 0; j--) if (z[j]! > 0) id = j;
  return { id, margin };
}

/** Generate `tokens` characters after `prompt` (its last T characters if longer). */
export async function generate(session: Session, lm: LanguageModel, o: GenerateOptions): Promise<Generated> {
  if (!Number.isInteger(o.tokens) || o.tokens < 1 || o.tokens > MAX_TOKENS)
    throw new UsageError(`tokens must be a whole number from 1 to ${MAX_TOKENS}, got ${o.tokens}`);
  const temperature = o.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature))
    throw new UsageError(`temperature must be a number > 0, got ${temperature}`);
  const all = encodePrompt(lm, o.prompt);
  if (!all.length) throw new UsageError('the prompt is empty: give at least one character to continue');
  const T = lm.context;
  const cropped = Math.max(0, all.length - T);
  const ids = all.slice(cropped);
  const stream = new Stream(o.seed, 'generate');
  const row = new Int32Array(T);
  const V = lm.vocab.length;
  let margin = Infinity;
  let out = '';
  for (let i = 0; i < o.tokens; i++) {
    const window = ids.slice(-T);
    row.fill(0);
    row.set(window);
    const t = (await session.runAsync({ [lm.input.name]: row }, 1))[lm.logits]!;
    const last = window.length - 1;
    const d = draw(t.data.subarray(last * V, last * V + V), stream.uniform(i, 0), temperature, o.topK);
    margin = Math.min(margin, d.margin);
    ids.push(d.id);
    out += lm.vocab[d.id]!;
  }
  const prompt = lm.vocab.length
    ? all
        .slice(cropped)
        .map((k) => lm.vocab[k]!)
        .join('')
    : '';
  return { text: prompt + out, generated: out, cropped, margin };
}
