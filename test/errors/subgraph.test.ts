// Subgraph errors: a file that does not exist (at the `graph:` that names it), a graph
// that uses itself, directly or through another file (with the chain of files).

import { describe, expect, it } from 'vitest';
import { SubgraphError } from '../../runtime/index.js';
import { expectUserError, fixture } from './expect-error.js';

describe('subgraphs', () => {
  it('a subgraph file that does not exist', async () => {
    await expectUserError('missing-subgraph.yaml', {
      cls: SubgraphError,
      line: 11,
      col: 15,
      message: /cannot read graph file ".*losses\/msee\.yaml"/,
      hint: /relative to the file/,
    });
  });

  it('a subgraph that uses itself', async () => {
    await expectUserError('self-use.yaml', {
      cls: SubgraphError,
      line: 6,
      col: 26,
      node: 'inner',
      message: /self-use\.yaml uses itself/,
    });
  });

  it('two files using each other: the error is in the second file, used from the first', async () => {
    const [e] = await expectUserError('mutual-a.yaml', {
      cls: SubgraphError,
      file: fixture('mutual-b.yaml'),
      line: 6,
      col: 25,
      node: 'viaB/viaA',
      message: /mutual-a\.yaml -> .*mutual-b\.yaml -> .*mutual-a\.yaml/,
    });
    expect(e!.loc!.via).toEqual([{ file: fixture('mutual-a.yaml'), line: 6, col: 5 }]);
  });
});
