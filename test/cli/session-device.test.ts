// What the CLI asks a session about its device, typed (docs/api.md): `usesGpu` (does any node
// run on a GPU, so that a read waits for the device) and `device` (where parameters live), not
// a parse of the human-readable `deviceNote`. The WebGPU side is in test/webgpu/cli.test.ts.

import { describe, expect, it } from 'vitest';
import { compile, loadGraph, Session } from '../../runtime/index.js';

describe('session.usesGpu and session.device', () => {
  it('a CPU session says cpu and no GPU, made either way', async () => {
    const model = loadGraph('graphs/gender.yaml');
    for (const s of [compile(model), await Session.create(model), await Session.create(model, { device: 'cpu' })]) {
      expect(s.usesGpu).toBe(false);
      expect(s.device).toBe('cpu');
      s.dispose();
    }
  });
});
