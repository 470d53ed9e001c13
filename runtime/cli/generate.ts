// `graph-run generate`: continue a prompt with a character language model (docs/generate.md). The
// session holds --load's parameters (the initial ones without it, said on stderr) on the device
// the options ask for; the text goes to stdout (one JSON document with --json), notes to stderr.

import { encodePrompt, generate, languageModel, type Model, Session, UsageError } from '../index.js';
import { openCheckpoints } from './checkpoints.js';
import type { RunOptions } from './run.js';

export interface GenerateFlags extends RunOptions {
  prompt?: string;
  tokens?: number;
  seed?: number;
  temperature?: number;
  topK?: number;
}

export async function generateCommand(
  model: Model,
  o: GenerateFlags,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<void> {
  if (o.prompt === undefined) throw new UsageError('graph-run generate needs --prompt TEXT: the text to continue');
  const s = await Session.create(model, {
    dtype: o.dtype,
    ...(o.device ? { device: o.device } : {}),
    strictDevice: o.strictDevice === true,
  });
  try {
    const lm = await languageModel(s);
    encodePrompt(lm, o.prompt); // unknown characters: an error before anything else is said
    openCheckpoints(s, o.load ? { load: o.load } : {}, () => {});
    if (!o.load && !o.json) err('graph-run: no --load checkpoint: generating with the initial (untrained) parameters');
    const r = await generate(s, lm, {
      prompt: o.prompt,
      tokens: o.tokens ?? 200,
      seed: o.seed ?? 1,
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
      ...(o.topK !== undefined ? { topK: o.topK } : {}),
    });
    if (r.cropped && !o.json)
      err(
        `graph-run: the prompt is longer than the context of ${lm.context} characters: only its last ${lm.context} are read`,
      );
    if (o.json) {
      out(
        JSON.stringify({
          text: r.text,
          generated: r.generated,
          cropped: r.cropped,
          margin: r.margin,
          seed: o.seed ?? 1,
          device: s.device,
        }),
      );
      return;
    }
    out(r.text);
  } finally {
    s.dispose();
  }
}
