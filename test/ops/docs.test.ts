// docs/ops.md covers every op a graph may use: a new op without documentation fails here.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { userOpNames } from '../../runtime/ops/registry.js';

it('docs/ops.md names every user op', () => {
  const doc = readFileSync('docs/ops.md', 'utf8');
  const missing = userOpNames.filter((op) => !doc.includes(`\`${op}\``) && !doc.includes(`\`${op}(`));
  expect(missing).toEqual([]);
});
