// What a run shows of its metrics: on a terminal the progress bar and the summary carry the
// validation loss and accuracy the graph logs (not only the loss); -q prints the final metrics
// in one line instead of the parameters; the loss before training and after the last epoch
// are always logged (docs/training.md, "Metrics").

import { describe, expect, it } from 'vitest';
import { main } from '../../runtime/cli/main.js';
import { formatBar, type Terminal } from '../../runtime/index.js';
import { fakeTerminal, withoutCI } from '../support/terminal.js';

async function cli(args: string[], term?: Terminal) {
  const out: string[] = [];
  const code = await main(
    args,
    (s) => out.push(...s.split('\n')),
    () => {},
    term,
  );
  return { code, out };
}

withoutCI();

describe('metrics on a terminal', () => {
  it('blobs: the bar shows accuracy and validation metrics once logged, and so does the summary', async () => {
    const term = fakeTerminal(160);
    const r = await cli(['graphs/blobs.yaml', '--epochs', '3'], term);
    expect(r.code).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the bar's carriage return and erase-line escape
    const draws = term.written.map((w) => w.replace(/^\r/, '').replace(/\u001b\[K$/, '')).filter((l) => l);
    expect(draws.at(-1)).toMatch(/ loss [\d.]+ accuracy [\d.]+ val_loss [\d.]+ val_accuracy [\d.]+ /);
    const summary = r.out.find((l) => l.startsWith('trained epochs 0..2 in '));
    expect(summary).toMatch(
      /, loss \d\.\d{6} accuracy \d\.\d{4} val_loss \d\.\d{6} val_accuracy \d\.\d{4} at epoch 2$/,
    );
  });

  it('formatBar keeps its width with the metrics (the bar shrinks first)', () => {
    const logged = { epoch: 4, loss: 0.1, accuracy: 0.95, val_loss: 0.12, val_accuracy: 0.9 };
    const s = { epoch: 5, epochs: 30, step: 3, steps: 8, loss: 0.1, rate: 5000, left: 10, logged };
    for (const cols of [60, 80, 120]) expect([...formatBar(s, cols)].length).toBeLessThanOrEqual(cols);
    expect(formatBar(s, 160)).toContain('loss 0.1 accuracy 0.95 val_loss 0.12 val_accuracy 0.9 ');
  });
});

describe('-q', () => {
  it('prints the final metrics in one line, the predictions, and no parameters', async () => {
    const r = await cli(['graphs/blobs.yaml', '--epochs', '4', '-q']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^final \(epoch 3\): loss [\d.]+ accuracy [\d.]+ val_loss [\d.]+ val_accuracy [\d.]+$/);
    expect(r.out[1]).toBe('predictions:');
    expect(r.out).not.toContain('parameters:');
  });
});

describe('the logged epochs', () => {
  it('plain lines: the loss before training first, then every log_every-th epoch and the last', async () => {
    // xor logs every 10 epochs; 25 epochs end on 24, which is not on that grid.
    const r = await cli(['graphs/xor.yaml', '--epochs', '25']);
    const logged = r.out.filter((l) => /^(epoch|before)/.test(l)).map((l) => l.split('  loss')[0]!.trim());
    expect(logged).toEqual(['before training', 'epoch  0', 'epoch 10', 'epoch 20', 'epoch 24']);
  });
});
