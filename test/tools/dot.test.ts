// `graph-run dot`: the DOT, Mermaid and SVG pictures of the example graphs, parsed with
// independent readers and checked against the IR: every node present with op, shape and
// placement, every input an edge, every reverse-graph node styled apart and linked to its
// forward node; SVG laid out by Graphviz (WebAssembly, no system package); bad output paths fail early.

import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instance } from '@viz-js/viz';
import {
  compile,
  formatValue,
  graphSvg,
  loadGraph,
  renderSvg,
  ToolError,
  trace,
  traceByNode,
} from '../../runtime/index.js';
import { runCli } from '../support/cli.js';
import { findAll, parseDot, parseMermaid, parseXml } from './parsers.js';

const cli = runCli;

const tmp = mkdtempSync(join(tmpdir(), 'graph-run-dot-'));

describe('graph-run dot (forward graph)', () => {
  it('has every forward and loss node of gender.yaml, labelled with op, shape and placement, and one edge per input', async () => {
    const r = await cli(['dot', 'graphs/gender.yaml']);
    expect(r.code).toBe(0);
    const g = parseDot(r.out);
    const s = compile(loadGraph('graphs/gender.yaml'));
    const { built } = s.trainGraph(1, false);
    const forward = built.graph.order.filter((n) => !built.graph.node(n).grad && built.graph.node(n).op !== 'const');
    for (const n of forward) {
      const node = built.graph.node(n);
      const got = g.nodes.get(n);
      expect(got, n).toBeDefined();
      const label = got!.attrs.label!.split('\n');
      expect(label[0]).toBe(n);
      expect(label[1]).toBe(node.op);
      expect(label[2]).toMatch(/ f32 · cpu$/);
    }
    // No reverse graph without --backward.
    expect([...g.nodes.keys()].some((k) => k.startsWith('grad/'))).toBe(false);
    expect(g.nodes.get('x')!.attrs.label).toContain('[batch, 2]');
    expect(g.nodes.get('w1')!.attrs.label).toContain('[2, 2]');
    expect(g.nodes.get('pred')!.attrs.label).toContain('[batch]');
    expect(g.nodes.get('loss/loss')!.subgraph).toBe('cluster_loss');
    expect(g.nodes.get('z1')!.subgraph).toBe('cluster_forward');
    // Every input of every node is a data edge, in order (matmul(x, w1): slot 0 is x).
    const dataEdges = g.edges.filter((e) => e.attrs.class === 'data');
    for (const n of forward) {
      for (const i of built.graph.node(n).inputs) {
        expect(
          dataEdges.some((e) => e.from === i && e.to === n),
          `${i} -> ${n}`,
        ).toBe(true);
      }
    }
    expect(dataEdges.find((e) => e.from === 'x' && e.to === 'z1')!.attrs.headlabel).toBe('0');
    expect(dataEdges.find((e) => e.from === 'w1' && e.to === 'z1')!.attrs.headlabel).toBe('1');
    expect(g.nodes.get('pred')!.attrs.class).toBe('op output');
  });

  it('is DOT that Graphviz itself reads, with the same nodes and edges', async () => {
    const r = await cli(['dot', 'graphs/gender.yaml', '--backward']);
    const ours = parseDot(r.out);
    // Graphviz's own reader (its JSON output of the parsed graph), not ours.
    const gv = (await instance()).render(r.out, { format: 'json0' });
    expect(gv.errors.filter((e) => e.level === 'error')).toEqual([]);
    expect(gv.status).toBe('success');
    const json = JSON.parse(gv.output!) as { objects: { name: string; nodes?: number[] }[]; edges: unknown[] };
    const nodeNames = json.objects.filter((o) => !o.nodes).map((o) => o.name);
    expect(new Set(nodeNames)).toEqual(new Set(ours.nodes.keys()));
    expect(json.edges.length).toBe(ours.edges.length);
  });
});

describe('graph-run dot --backward', () => {
  for (const file of ['graphs/gender.yaml', 'graphs/neuron.yaml', 'graphs/autograd.yaml']) {
    it(`${file}: every reverse-graph node is styled apart and linked to the forward node it came from`, async () => {
      const r = await cli(['dot', file, '--backward']);
      expect(r.code, r.err).toBe(0);
      const g = parseDot(r.out);
      const s = compile(loadGraph(file));
      const m = s.model;
      const graph = m.loss ? s.trainGraph(s.batchSize, false).built.graph : s.gradientGraph().built.graph;
      const gradNodes = graph.order.filter((n) => graph.node(n).grad && graph.node(n).op !== 'const');
      expect(gradNodes.length).toBeGreaterThan(0);
      for (const n of gradNodes) {
        const d = g.nodes.get(n);
        expect(d, n).toBeDefined();
        expect(d!.subgraph).toBe('cluster_backward');
        expect(d!.attrs.class!.split(' ')).toContain('grad');
        expect(d!.attrs.style).toContain('dashed');
        const info = graph.node(n).grad!;
        const link = g.edges.find((e) => e.from === n && e.attrs.class === 'grad');
        expect(link, `grad link of ${n}`).toBeDefined();
        expect(link!.to).toBe(info.from ?? info.of);
        expect(g.nodes.get(link!.to)!.attrs.class!.split(' ')).not.toContain('grad');
        for (const i of graph.node(n).inputs)
          expect(g.edges.some((e) => e.from === i && e.to === n && e.attrs.class === 'data')).toBe(true);
      }
      // Forward nodes are never styled as gradients.
      for (const [name, n] of g.nodes)
        if (!name.startsWith('grad/') && !name.startsWith('#')) expect(n.attrs.class).not.toContain('grad');
    });
  }

  it('marks the gradient results of gender.yaml: d loss / d w1, b1, w2, b2', async () => {
    const g = parseDot((await cli(['dot', 'graphs/gender.yaml', '--backward'])).out);
    const results = [...g.nodes].filter(([, n]) => n.attrs.class!.split(' ').includes('gradient'));
    const of = results.map(([, n]) => /\(d (\w+)\)/.exec(n.attrs.label!)?.[1]).sort();
    expect(of).toEqual(['b1', 'b2', 'w1', 'w2']);
  });

  it('refuses --backward for a graph with no loss and no gradients request', async () => {
    const f = join(tmp, 'plain.yaml');
    writeFileSync(f, 'inputs: {x: {shape: [3]}}\nnodes:\n  - {name: y, op: sum, inputs: [x]}\noutputs: [y]\n');
    const r = await cli(['dot', f, '--backward']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no reverse graph');
  });
});

describe('placement in the labels', () => {
  it("shows where each node runs for the graph's device: WebGPU, CPU fallbacks, and node requests", async () => {
    const f = join(tmp, 'placed.yaml');
    writeFileSync(
      f,
      [
        'device: webgpu',
        'inputs:\n  x: {shape: [batch, 3]}\n  y: {shape: [batch, 2]}',
        'params:\n  w: {shape: [3, 2], init: 0.1}',
        'nodes:',
        '  - {name: z, op: matmul, inputs: [x, w]}',
        '  - {name: p, op: concat, inputs: [z, z, z, z, z, z, z, z]}',
        '  - {name: q, op: mul, inputs: [p, 2], device: cpu}',
        'outputs: [q]',
        'loss: {op: mean, inputs: [q]}',
        'optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}',
        'training: {data: {x: [[1, 2, 3]], y: [[0, 1]]}, epochs: 1}',
        '',
      ].join('\n'),
    );
    const r = await cli(['dot', f, '--backward']);
    expect(r.code, r.err).toBe(0);
    const g = parseDot(r.out);
    const at = (n: string) =>
      g.nodes
        .get(n)!
        .attrs.label!.split('\n')[2]!
        .replace(/^.* · /, '');
    expect(at('z')).toBe('webgpu');
    expect(at('w')).toBe('webgpu');
    expect(at('p')).toBe('cpu (fallback)'); // 8 inputs and an output: more buffers than a WebGPU kernel must bind
    expect(at('q')).toBe('cpu'); // asked for
    // Reverse-graph nodes run where the forward node they came from asked to run.
    const fromQ = [...g.nodes.keys()].filter((k) => k.startsWith('grad/q/'));
    expect(fromQ.length).toBeGreaterThan(0);
    for (const k of fromQ) expect(at(k)).toBe('cpu');
    expect(at([...g.nodes.keys()].find((k) => k.startsWith('grad/z/'))!)).toBe('webgpu');
    // A CPU graph is all cpu.
    const cpu = parseDot((await cli(['dot', 'graphs/gender.yaml', '--backward'])).out);
    for (const [k, n] of cpu.nodes)
      if (!k.startsWith('#') && n.attrs.shape !== 'plaintext') expect(n.attrs.label).toMatch(/ · cpu$/m);
  });
});

describe('graph-run dot --backward --trace', () => {
  it('labels every node with its value in the traced step, and each gradient with what it is the gradient of', async () => {
    const r = await cli(['dot', 'graphs/gender.yaml', '--backward', '--trace', '--step', '3']);
    expect(r.code, r.err).toBe(0);
    const g = parseDot(r.out);
    const t = trace(compile(loadGraph('graphs/gender.yaml')), { step: 3 });
    const byNode = traceByNode(t);
    let labelled = 0;
    for (const [name, n] of g.nodes) {
      const info = byNode.get(name);
      if (!info) continue;
      const label = n.attrs.label!.split('\n');
      expect(label, name).toContain(`= ${formatValue(info.value)}`);
      if (info.section === 'reverse' && info.label) expect(label).toContain(info.label);
      labelled++;
    }
    // Every forward node and every reverse-graph node of the picture carries its value.
    expect(labelled).toBe([...g.nodes.keys()].filter((k) => !k.startsWith('#') || byNode.has(k)).length);
    expect(g.nodes.get('grad/z1/matmul11')!.attrs.label).toContain('d loss / d w1');
  });

  it('needs a graph that trains, and is an option of dot only', async () => {
    expect((await cli(['dot', 'graphs/autograd.yaml', '--backward', '--trace'])).code).toBe(2);
    expect((await cli(['grad', 'graphs/gender.yaml', '--trace'])).code).toBe(2);
    expect((await cli(['dot', 'graphs/gender.yaml', '--step', '2'])).code).toBe(2);
  });
});

describe('graph-run dot --mermaid', () => {
  it('is a flowchart whose nodes, edges and grad class match the DOT picture', async () => {
    const r = await cli(['dot', 'graphs/gender.yaml', '--backward', '--mermaid']);
    expect(r.code).toBe(0);
    const chart = parseMermaid(r.out);
    const dot = parseDot((await cli(['dot', 'graphs/gender.yaml', '--backward'])).out);
    const byName = new Map([...chart.nodes].map(([id, n]) => [n.label[0]!, id]));
    for (const [name, n] of dot.nodes) {
      if (name.startsWith('#') || n.attrs.shape === 'plaintext') continue; // constants (and the seed): the label is the value
      const id = byName.get(name);
      expect(id, name).toBeDefined();
      expect(chart.nodes.get(id!)!.subgraph).toBe(n.subgraph!.replace('cluster_', ''));
      expect(chart.classes.get('grad')?.has(id!) ?? false).toBe(n.attrs.class!.split(' ').includes('grad'));
    }
    expect(chart.nodes.size).toBe(dot.nodes.size);
    expect(chart.edges.length).toBe(dot.edges.length);
    for (const e of chart.edges) {
      expect(chart.nodes.has(e.from) && chart.nodes.has(e.to)).toBe(true);
      if (e.dotted)
        expect(chart.classes.get('grad')!.has(e.from) || chart.nodes.get(e.from)!.shape === 'flag').toBe(true);
    }
    const id = (n: string) => byName.get(n)!;
    expect(chart.edges.some((e) => e.dotted && e.from === id('grad/z1/matmul11') && e.to === id('z1'))).toBe(true);
    expect(chart.nodes.get(id('x'))!.label[2]).toBe('[batch, 2] f32 · cpu');
  });
});

describe('graph-run dot --svg', () => {
  it('renders with Graphviz (WebAssembly): an SVG with a <g class="node"> per node and a <g class="edge"> per edge', async () => {
    const out = join(tmp, 'gender.svg');
    const r = await cli(['dot', 'graphs/gender.yaml', '--backward', '--svg', out]);
    expect(r.code, r.err).toBe(0);
    const svg = parseXml(readFileSync(out, 'utf8'));
    expect(svg.name).toBe('svg');
    const dot = parseDot((await cli(['dot', 'graphs/gender.yaml', '--backward'])).out);
    const nodes = findAll(svg, (e) => e.name === 'g' && (e.attrs.class ?? '').split(' ').includes('node'));
    const titles = nodes.map((n) => n.children.find((c) => c.name === 'title')!.text);
    expect(new Set(titles)).toEqual(new Set(dot.nodes.keys()));
    const grads = nodes.filter((n) => n.attrs.class!.split(' ').includes('grad'));
    expect(grads.length).toBe([...dot.nodes.values()].filter((n) => n.attrs.class!.split(' ').includes('grad')).length);
    // Gradient nodes are filled with their own colour.
    for (const g of grads) expect(findAll(g, (e) => e.attrs.fill === '#fde0dd').length).toBeGreaterThan(0);
    const edges = findAll(svg, (e) => e.name === 'g' && (e.attrs.class ?? '').split(' ').includes('edge'));
    expect(edges.length).toBe(dot.edges.length);
    const edgeTitles = new Set(edges.map((e) => e.children.find((c) => c.name === 'title')!.text));
    expect(edgeTitles.has('grad/z1/matmul11->z1')).toBe(true);
    expect(edgeTitles.has('x->z1')).toBe(true);
    // Labels are drawn: the op and the symbolic shape of x.
    const texts = findAll(svg, (e) => e.name === 'text').map((t) => t.text);
    expect(texts).toContain('[batch, 2] f32 · cpu');
  });

  it('fails before rendering when the SVG path cannot be written', async () => {
    const bad = join(tmp, 'no-such-folder', 'g.svg');
    const r = await cli(['dot', 'graphs/gender.yaml', '--svg', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot write SVG file "${bad}"`);
    expect(existsSync(bad)).toBe(false);
  });

  it("renderSvg lays out any DOT text and refuses invalid DOT with Graphviz's message", async () => {
    const svg = parseXml(await renderSvg('digraph { a -> b [label="w"] }'));
    expect(svg.name).toBe('svg');
    const titles = findAll(svg, (e) => e.name === 'title').map((t) => t.text);
    expect(titles).toEqual(expect.arrayContaining(['a', 'b', 'a->b']));
    const err = await renderSvg('digraph { a -> ').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).message).toMatch(/^Graphviz could not lay out the graph: syntax error in line 1/);
  });

  it('graphSvg(session) is the same picture as the CLI writes (the library function the playground uses)', async () => {
    const out = join(tmp, 'gender-forward.svg');
    expect((await cli(['dot', 'graphs/gender.yaml', '--svg', out])).code).toBe(0);
    const svg = await graphSvg(compile(loadGraph('graphs/gender.yaml')));
    expect(svg).toBe(readFileSync(out, 'utf8'));
    const reverse = parseXml(await graphSvg(compile(loadGraph('graphs/gender.yaml')), { backward: true }));
    const nodes = findAll(reverse, (e) => e.name === 'g' && (e.attrs.class ?? '').split(' ').includes('grad'));
    expect(nodes.length).toBeGreaterThan(0);
  });

  it('--svg and --mermaid are options of dot only', async () => {
    expect((await cli(['graphs/gender.yaml', '--mermaid'])).code).toBe(2);
    expect((await cli(['dot', 'graphs/gender.yaml', '--mermaid', '--svg', join(tmp, 'x.svg')])).code).toBe(2);
  });
});
