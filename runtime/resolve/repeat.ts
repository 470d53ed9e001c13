// `repeat: N` on a subgraph use: the subgraph expanded N times, copy i under the prefix
// `<use>/block<i>/` (so each copy owns its parameters, drawn from their own seeded streams),
// the output of copy i bound to the chained input of copy i+1 and every other input shared.
// The use's outputs are the last copy's. Whether the chained input keeps its shape through a
// copy is only known once shapes are inferred: the first copy's output and its chained input
// are recorded (Model.repeats) and compared as the IR is built (ir/build.ts), at `repeat:`.

import { NameError, SubgraphError } from '../errors.js';
import type { Loaded, NodeDoc } from '../load/doc.js';
import { suggest } from '../load/hint.js';
import { MAX_EXPANDED_NODES } from '../load/limits.js';
import type { Ref } from '../load/model.js';
import type { Path } from '../load/source.js';
import { outputEntries, type Use } from './context.js';
import type { Scope } from './scope.js';

/** The prefix of copy `i` of the repeated use `gname` (docs/format.md, "Repeated subgraphs"). */
export const copyPrefix = (gname: string, i: number): string => `${gname}/block${i}/`;

/**
 * Expand the use `n` (at `path`, named `name`) of `sub`: once, or `repeat:` times chained.
 * `use(prefix, bindings)` describes one expansion and `once(use)` performs it (expand.ts).
 */
export function repeatUse(
  s: Scope,
  n: NodeDoc,
  path: Path,
  name: string,
  sub: Loaded,
  bindings: Map<string, Ref>,
  use: (prefix: string, bindings: Map<string, Ref>) => Use,
  once: (use: Use) => Map<string, Ref>,
): Map<string, Ref> {
  const { ctx, L, prefix } = s;
  const gname = prefix + name;
  if (n.repeat === undefined) {
    if (n.chain !== undefined)
      ctx.errors.push(
        new SubgraphError(
          '`chain:` names the input a repeated use feeds back, but this use has no `repeat:`',
          L([...path, 'chain'], true),
          gname,
          'add repeat: <copies>, or remove chain:',
        ),
      );
    return once(use(gname + '/', bindings));
  }
  const count = n.repeat; // the schema holds it to a whole number in [1, MAX_REPEAT]
  const at = L([...path, 'repeat']);
  const declared = Object.keys(sub.doc.inputs ?? {});
  const outs = outputEntries(sub.doc.outputs ?? []);
  const chain = n.chain ?? declared[0];
  if (chain === undefined) {
    ctx.errors.push(
      new SubgraphError(
        `${sub.file.path} declares no inputs, so a repeated copy has nothing to take the previous one's output`,
        at,
        gname,
        'repeat: chains the output of each copy into an input of the next',
      ),
    );
    return new Map();
  }
  if (!declared.includes(chain)) {
    ctx.errors.push(
      new NameError(
        `${sub.file.path} has no input "${chain}" to chain`,
        L([...path, 'chain']),
        gname,
        suggest(chain, declared, 'inputs'),
      ),
    );
    return new Map();
  }
  if (outs.length !== 1) {
    ctx.errors.push(
      new SubgraphError(
        `${sub.file.path} has ${outs.length} outputs; a repeated subgraph needs exactly one, the value the next copy's "${chain}" takes`,
        at,
        gname,
        'give the subgraph one output, or write the copies out as separate uses',
      ),
    );
    return new Map();
  }
  let bound = bindings;
  let outputs = new Map<string, Ref>();
  const start = s.ex.nodes.length;
  for (let i = 0; i < count; i++) {
    const before = ctx.errors.length;
    outputs = once(use(copyPrefix(gname, i), bound));
    // A mistake inside the subgraph is the same in every copy: reported once, from the first.
    if (ctx.errors.length > before || outputs.size !== 1) return new Map();
    const out = [...outputs.values()][0]!;
    const input = bound.get(chain);
    if (i === 0 && count > 1 && input !== undefined)
      (ctx.repeats ??= []).push({ use: gname, input, inputName: chain, output: out, loc: at });
    // Every copy adds as many nodes as the first: the total is known before the others expand.
    const total = start + (s.ex.nodes.length - start) * count;
    if (i === 0 && total > MAX_EXPANDED_NODES) {
      ctx.errors.push(
        new SubgraphError(
          `${count} copies of ${s.ex.nodes.length - start} nodes would make the graph ${total} nodes, over the limit of ${MAX_EXPANDED_NODES}`,
          at,
          gname,
          'repeats nested in repeats multiply: fewer copies, or a smaller block',
        ),
      );
      return new Map();
    }
    bound = new Map(bound).set(chain, out);
  }
  return outputs;
}
