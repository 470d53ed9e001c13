// Mistakes with the sequence-model ops: an embedding table that is not [vocab, d] and a mask
// that does not broadcast to the scores (positioned at the node, when loading), ids outside the
// table in training data (at their row, before training) and in a feed (at the node, with the
// id, when the kernel meets it). Every one: exit 1, no stack trace.

import { afterAll, describe, expect, it } from 'vitest';
import { DataError, GraphErrors, loadGraph, ShapeError } from '../../runtime/index.js';
import { Session } from '../../runtime/session.js';
import { probeWebGpu } from '../webgpu/device.js';
import { cli, expectUserError, fixture, STACK } from './expect-error.js';

const probe = await probeWebGpu();
afterAll(() => probe.gpu?.dispose(), 60_000);

describe('sequence-model ops', () => {
  it('an embedding table of rank 3, at the node', async () => {
    await expectUserError('embedding-table.yaml', {
      cls: ShapeError,
      line: 7,
      col: 5,
      node: 'emb',
      message: /embedding table must be \[vocab, d\], got \[5, 2, 3\]/,
    });
  });

  it('a causal mask of the wrong size, at the masked_softmax node', async () => {
    await expectUserError('mask-broadcast.yaml', {
      cls: ShapeError,
      line: 6,
      col: 5,
      node: 'attn',
      message: /mask \[5, 5\] does not broadcast to the scores \[batch, 4, 4\]: axis 0 is 5 where the scores have 4/,
    });
  });

  it('an id outside the table in the training data, at its row', async () => {
    await expectUserError('embedding-ids-data.yaml', {
      cls: DataError,
      line: 14,
      col: 19,
      message: /id 5 in row 1 of "ids" is outside the 5 rows \[0, 5\) of the table of node "emb" \(embedding\)/,
    });
  });

  it('an id outside the table in a feed: the node and the id, exit 1', async () => {
    const r = await cli([fixture('embedding-ids.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${fixture('embedding-ids.yaml')}:7:5: DataError in node "emb": node "emb" (embedding) got index 7, outside [0, 5)`,
    );
    expect(r.err).not.toMatch(STACK);
  });

  it.skipIf(!probe.gpu)(
    'an id outside the table fed to a WebGPU session: checked on the host, the same error',
    async () => {
      const model = loadGraph(fixture('embedding-ids.yaml'));
      const s = await Session.create(model, { dtype: 'f32', device: 'webgpu', gpu: probe.gpu!, strictDevice: true });
      const run = s.runAsync(new Map([['ids', [0, 1, 4, 2, 7, 3]]]), 2);
      await expect(run).rejects.toBeInstanceOf(GraphErrors);
      await expect(run).rejects.toSatisfy((e: GraphErrors) =>
        /node "emb" \(embedding\) got index 7, outside \[0, 5\)/.test(e.errors[0]!.message),
      );
    },
  );

  it('sampled ids cast to numbers on the way to the loss: refused at the cast, sampling having no gradient', async () => {
    const r = await cli([fixture('sample-loss.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${fixture('sample-loss.yaml')}:10:5: DTypeError in node "as_number": node "as_number" turns ids sampled by "ids" into numbers`,
    );
    expect(r.err).not.toMatch(STACK);
  });
});
