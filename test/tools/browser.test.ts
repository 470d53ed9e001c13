// The browser, end to end: build the browser bundle and the playground, serve them on
// localhost, drive Debian's chromium headless through playwright-core (WebGPU on SwiftShader,
// no GPU needed), check the library bundle works in a page, errors appear positioned as you
// type, and the tutorial's network trains on WebGPU to the predictions graph-run's CPU gives.
// Needs /usr/bin/chromium (scripts/setup-browser.sh installs it): without it the test skips with
// one line, unless GRAPH_RUN_REQUIRE_BROWSER=1 (CI), which makes a missing chromium a failure.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { compile, graphSvg, loadGraph } from '../../runtime/index.js';
// @ts-expect-error: plain ESM scripts without type declarations
import { build } from '../../playground/build.mjs';
// @ts-expect-error: plain ESM scripts without type declarations
import { serve } from '../../playground/serve.mjs';

import { CHROMIUM, hasChromium } from '../support/system.js';

const chromiumHere = hasChromium();
// The flags: WebGPU through SwiftShader's Vulkan, so no GPU is needed.
const FLAGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--use-vulkan=swiftshader',
  '--no-sandbox',
];

let browser: Browser;
let server: Server;
let url: string;
let page: Page;
let pageDir: string;
const pageErrors: string[] = [];

interface PlaygroundState {
  device?: string;
  deviceNote?: string;
  losses: { epoch: number; loss: number }[];
  predictions: Record<string, Record<string, { shape: number[]; data: number[] }>>;
  errors: { line?: number; col?: number; kind: string; message: string }[];
}
const playground = () => page.evaluate(() => (window as unknown as { graphRun: PlaygroundState }).graphRun);
const state = () => page.evaluate(() => document.body.dataset.state);

beforeAll(async () => {
  if (!chromiumHere) return;
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/setup-browser.sh (apt-get install chromium)`);
  const built = (await build()) as { lib: string; page: string };
  pageDir = built.page;
  ({ server, url } = (await serve(built.page, 0)) as { server: Server; url: string });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe.runIf(chromiumHere)('the browser build', () => {
  it('is one ESM file without Node built-ins that loads, parses (std: included) and trains in a page', async () => {
    const text = readFileSync('dist/browser/graph-run.js', 'utf8');
    expect(text).not.toMatch(/\bfrom\s*["']node:|\bimport\s*\(\s*["']node:/);
    const yaml = readFileSync('graphs/gender.yaml', 'utf8');
    // A string, not a function: the test runner would rewrite a function's import().
    const r = (await page.evaluate(`(async () => {
      const g = await import('./graph-run.js');
      const s = g.compile(g.parseGraph(${JSON.stringify(yaml)}, 'gender.yaml'));
      s.train({ epochs: 50 });
      return { pred: Array.from(g.predict(s, { x: [-7, -3] }).pred.data), stdLoss: s.model.loss !== undefined };
    })()`)) as { pred: number[]; stdLoss: boolean };
    const s = compile(loadGraph('graphs/gender.yaml'));
    s.train({ epochs: 50 });
    expect(r.stdLoss).toBe(true);
    expect(r.pred[0]).toBe(s.predictions().emily!.pred!.data[0]); // the CPU path is bit-identical to Node's
  });

  it('draws the graph and its reverse graph as SVG in a page (graphSvg: Graphviz in WebAssembly), as in Node', async () => {
    const yaml = readFileSync('graphs/gender.yaml', 'utf8');
    const svg = (await page.evaluate(`(async () => {
      const g = await import('./graph-run.js');
      return g.graphSvg(g.compile(g.parseGraph(${JSON.stringify(yaml)}, 'graphs/gender.yaml')), { backward: true });
    })()`)) as string;
    expect(svg).toBe(await graphSvg(compile(loadGraph('graphs/gender.yaml')), { backward: true }));
    expect(svg).toContain('<title>grad/z1/matmul11&#45;&gt;z1</title>');
  });
});

describe.runIf(chromiumHere)('the playground', () => {
  it('validates as you type: errors at line and column, click one to jump there, fix it and it is valid', async () => {
    const good = await page.inputValue('#yaml');
    const lines = good.split('\n');
    const line = lines.findIndex((l) => l.includes('op: sigmoid, inputs: [s1]')) + 1;
    expect(line).toBeGreaterThan(0);
    await page.fill('#yaml', good.replace('op: sigmoid, inputs: [s1]', 'op: sigmod, inputs: [s1]'));
    await page.waitForFunction(() => document.body.dataset.state === 'invalid');
    const st = await playground();
    expect(st.errors[0]).toMatchObject({ kind: 'NameError', line });
    expect(st.errors[0]!.message).toContain('sigmod');
    const item = page.locator('#errors li').first();
    expect(await item.textContent()).toMatch(new RegExp(`^line ${line}:\\d+: NameError in node "h": .*sigmod`));
    expect(await page.isDisabled('#train')).toBe(true);
    await item.click();
    const caret = await page.evaluate(() => (document.getElementById('yaml') as HTMLTextAreaElement).selectionStart);
    const before = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    expect(caret).toBe(before + st.errors[0]!.col! - 1);
    // A YAML syntax error, positioned too.
    await page.fill('#yaml', good.replace('outputs: [pred]', 'outputs: [pred'));
    await page.waitForFunction(
      () => (window as unknown as { graphRun: PlaygroundState }).graphRun.errors[0]?.kind === 'YamlSyntaxError',
    );
    // The parser notices the missing ] where the next key starts, after the open bracket.
    expect((await playground()).errors[0]!.line).toBeGreaterThan(
      lines.findIndex((l) => l.startsWith('outputs: [pred]')),
    );
    await page.fill('#yaml', good);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    expect(await page.textContent('#check')).toMatch(/^✓ valid: 2 inputs, 4 parameters/);
  });

  it("trains the tutorial's network on WebGPU: the loss curve and the predictions graph-run gives on the CPU", async () => {
    await page.goto(`${url}?graph=gender.yaml&device=webgpu`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 30_000 });
    expect(await page.inputValue('#device')).toBe('webgpu');
    await page.click('#train');
    await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset.state ?? ''), null, {
      timeout: 180_000,
    });
    expect(await page.textContent('#status')).not.toMatch(/Error/);
    expect(await state()).toBe('done');
    const st = await playground();
    expect(st.device).toBe('webgpu');
    expect(st.deviceNote).toMatch(/swiftshader/i);
    const cpu = compile(loadGraph('graphs/gender.yaml'));
    const losses = cpu.train();
    const preds = cpu.predictions();
    expect(st.losses.length).toBe(losses.length);
    for (let i = 0; i < losses.length; i++) expect(Math.abs(st.losses[i]!.loss - losses[i]!.loss)).toBeLessThan(1e-5);
    // The tutorial's answer: Emily is female (≈ 0.949), Frank male (≈ 0.040).
    const emily = st.predictions.emily!.pred!.data[0]!,
      frank = st.predictions.frank!.pred!.data[0]!;
    expect(Math.abs(emily - preds.emily!.pred!.data[0]!)).toBeLessThan(1e-5);
    expect(Math.abs(frank - preds.frank!.pred!.data[0]!)).toBeLessThan(1e-5);
    expect(emily).toBeGreaterThan(0.94);
    expect(frank).toBeLessThan(0.05);
    // The chart: one point per logged epoch; the table shows the predictions.
    const points = await page.getAttribute('#chart polyline.series', 'points');
    expect(points!.trim().split(/\s+/).length).toBe(losses.length);
    expect(await page.textContent('#predictions')).toContain('emily');
    const shot = join(pageDir, 'screenshot.png');
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
