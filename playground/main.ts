// The playground page's logic. The editor (editor.ts) checks the YAML as you type with the
// library itself and marks errors at their line; a valid graph is drawn with its reverse graph
// (graph-view.ts), a traced step's values on hover. Train compiles it on WebGPU (or the CPU:
// the device select, `auto` by default), trains in slices so the loss chart redraws, then shows
// the predictions and parameters; the trained state can be downloaded as a checkpoint and a
// checkpoint loaded back. Files dropped on the page (files.ts) become the graph's data.
// Everything runs in the page through the library's browser build.

import {
  checkpointBytes,
  GraphErrors,
  type LossRecord,
  type Model,
  memoryIO,
  parseGraph,
  plotSvg,
  restoreCheckpoint,
  Session,
  formatError,
  type Tensor,
  ToolError,
} from '../runtime/index.js';
import { type CheckResult, createEditor } from './editor.js';
import { download, onDrop, readDropped } from './files.js';
import { type Drawn, drawGraph } from './graph-view.js';

/** The example graphs and their data files, by path under graphs/ (defined by build.mjs). */
declare const __PLAYGROUND_FILES__: Record<string, string>;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const example = $<HTMLSelectElement>('example');
const device = $<HTMLSelectElement>('device');
const epochsInput = $<HTMLInputElement>('epochs');
const trainButton = $<HTMLButtonElement>('train');
const saveButton = $<HTMLButtonElement>('save');
const loadInput = $<HTMLInputElement>('load');
const addInput = $<HTMLInputElement>('add');
const status = $<HTMLSpanElement>('status');
const check = $<HTMLDivElement>('check');
const fileList = $<HTMLUListElement>('files');
const chart = $<HTMLDivElement>('chart');
const graphBox = $<HTMLDivElement>('graph');
const nodePanel = $<HTMLDivElement>('node');
const backwardBox = $<HTMLInputElement>('backward');
const stepInput = $<HTMLInputElement>('step');

/** Every file a graph may read, by path: the examples' (graphs/...) and the dropped ones. */
const files: Record<string, string | Uint8Array> = {};
for (const [k, v] of Object.entries(__PLAYGROUND_FILES__)) files[`graphs/${k}`] = v;
/** The graphs the menu offers: the examples, then dropped graphs. */
const graphs: Record<string, string> = {};
for (const [k, v] of Object.entries(__PLAYGROUND_FILES__)) if (/^[^/]+\.ya?ml$/.test(k)) graphs[k] = v;
const dropped: string[] = [];
/** Counts changes to `files` (a dropped file may change the graph without changing its text). */
let filesVersion = 0;

/** What the end-to-end test (and a curious user, in the console) can read. */
interface PlaygroundState {
  device?: string;
  deviceNote?: string;
  losses: LossRecord[];
  predictions: Record<string, Record<string, { shape: number[]; data: number[] }>>;
  errors: { line?: number; col?: number; kind: string; message: string; hint?: string }[];
  graph?: Drawn;
  /** Data files dropped in, by the name the graph reads them with. */
  files: string[];
  /** The last checkpoint written or loaded. */
  checkpoint?: { name: string; bytes: number; epoch?: number };
}
const state: PlaygroundState = { losses: [], predictions: {}, errors: [], files: [] };

const path = () => `graphs/${example.value}`;
const setState = (s: 'ready' | 'invalid' | 'training' | 'done' | 'failed') => {
  document.body.dataset.state = s;
};

/** Files the graph names that the page does not have (paths under graphs/), from the last check. */
let wanted: string[] = [];

/** The current text's model, when the last check found it valid. */
let model: Model | null = null;

function checkText(text: string): CheckResult & { model?: Model } {
  try {
    const m = parseGraph(text, path(), memoryIO({ ...files, [path()]: text }));
    return { errors: [], model: m };
  } catch (e) {
    if (e instanceof GraphErrors) return { errors: e.errors };
    return { errors: [], other: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const editor = createEditor({
  parent: $('editor'),
  path,
  check: (text) => {
    const r = checkText(text);
    model = r.model ?? null;
    return r;
  },
  checked: (r) => showCheck(r),
});

/** Show a check's result: the summary under the editor, the Train button, the page's state. */
function showCheck(r: CheckResult): void {
  state.errors = r.errors.map((e) => ({
    line: e.line,
    col: e.col,
    kind: e.kind,
    message: e.message,
    ...(e.hint ? { hint: e.hint } : {}),
  }));
  if (model) {
    wanted = [];
    const t = model.training;
    check.className = 'ok';
    check.textContent = `✓ valid: ${model.inputs.length} inputs, ${model.params.length} parameters, ${model.nodes.length} nodes${t ? `; trains ${t.epochs} epochs, batch ${t.batchSize}` : ''}`;
    epochsInput.placeholder = t ? String(t.epochs) : '';
    if (document.body.dataset.state !== 'training') {
      trainButton.disabled = false;
      setState('ready');
    }
    scheduleDraw();
  } else {
    const n = r.errors.length + (r.other ? 1 : 0);
    check.className = 'bad';
    check.textContent = `${n} error${n === 1 ? '' : 's'}: marked in the editor (point at a mark, or open the list with Ctrl-Shift-M)`;
    for (const e of r.errors.slice(0, 3)) {
      const d = document.createElement('div');
      d.textContent = formatError(e).replace(`${path()}:`, 'line ').split('\n')[0]!;
      check.append(d);
    }
    // A file the graph reads that the page does not have: say how to bring it.
    const missing = r.errors
      .map((e) => /^cannot read (?:data )?file "graphs\/([^"]+)"/.exec(e.message)?.[1])
      .filter((n): n is string => n !== undefined);
    wanted = missing;
    if (missing.length) {
      const d = document.createElement('div');
      d.className = 'how';
      d.textContent = `drop ${missing.join(', ')} on the page (or use Add files) to give the graph its data`;
      check.append(d);
    }
    if (document.body.dataset.state !== 'training') {
      trainButton.disabled = true;
      setState('invalid');
    }
  }
}

// ---- The picture ----

let drawing = 0;
/** What the last drawing was of (the text, the reverse-graph box, the step): no second drawing of it. */
let drawnKey = '';
let drawTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleDraw(): void {
  clearTimeout(drawTimer);
  drawTimer = setTimeout(() => void draw(), 200);
}

async function draw(): Promise<void> {
  const m = model;
  if (!m) return;
  const key = JSON.stringify([editor.text(), filesVersion, backwardBox.checked, stepInput.value]);
  if (key === drawnKey) return;
  drawnKey = key;
  const mine = ++drawing;
  document.body.dataset.graph = 'drawing';
  try {
    const step = Math.max(1, Math.floor(Number(stepInput.value) || 1));
    const box = document.createElement('div');
    const d = await drawGraph(m, box, nodePanel, { backward: backwardBox.checked, step });
    if (mine !== drawing) return; // a newer text is being drawn
    graphBox.replaceChildren(...Array.from(box.childNodes));
    state.graph = d;
    document.body.dataset.graph = 'drawn';
  } catch (e) {
    if (mine !== drawing) return;
    graphBox.textContent = `cannot draw the graph: ${(e as Error).message}`;
    drawnKey = ''; // let the same text be tried again
    document.body.dataset.graph = 'failed';
  }
}
backwardBox.addEventListener('change', () => void draw());
stepInput.addEventListener('change', () => void draw());

// ---- Tables and the chart ----

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(5);
}

function table(id: string, rows: string[][], head: string[]): void {
  const t = $<HTMLTableElement>(id);
  t.replaceChildren();
  const tr = document.createElement('tr');
  for (const h of head) tr.append(Object.assign(document.createElement('th'), { textContent: h }));
  t.append(tr);
  for (const r of rows) {
    const row = document.createElement('tr');
    r.forEach((c, i) =>
      row.append(
        Object.assign(document.createElement('td'), { textContent: c, className: i === r.length - 1 ? 'num' : '' }),
      ),
    );
    t.append(row);
  }
}

const show = (t: Tensor) =>
  `${t.shape.length ? `[${t.shape.join('×')}] ` : ''}${Array.from(t.data).slice(0, 12).map(fmt).join(', ')}${t.data.length > 12 ? ', …' : ''}`;

function plot(m: Model, where: string): void {
  chart.innerHTML = state.losses.length
    ? plotSvg(state.losses, { title: `${m.name}: training loss (${where})`, width: 560, height: 320 })
    : '';
}

/** The session's predictions and parameters, into the tables and the state. */
async function results(session: Session): Promise<void> {
  const preds = await session.predictionsAsync();
  const rows: string[][] = [];
  state.predictions = {};
  for (const [q, outs] of Object.entries(preds)) {
    state.predictions[q] = {};
    for (const [name, v] of Object.entries(outs)) {
      state.predictions[q]![name] = { shape: v.shape, data: Array.from(v.data) };
      rows.push([q, name, show(v)]);
    }
  }
  table('predictions', rows, ['query', 'output', 'value']);
  const params = await session.parametersAsync();
  table(
    'params',
    Object.entries(params).map(([k, v]) => [k, show(v)]),
    ['parameter', 'value'],
  );
}

function failed(e: unknown): void {
  status.textContent =
    e instanceof GraphErrors
      ? e.errors.map(formatError).join('\n')
      : e instanceof ToolError
        ? `${e.message}${e.hint ? ` (${e.hint})` : ''}`
        : `${(e as Error).name}: ${(e as Error).message}`;
  setState('failed');
}

// ---- Training and checkpoints ----

/** The session trained (or loaded) last, kept for the checkpoint download. */
let current: { session: Session; model: Model; epoch: number } | undefined;
function keep(c: typeof current): void {
  if (current && current.session !== c?.session) current.session.dispose();
  current = c;
  saveButton.disabled = !c;
}

async function train(): Promise<void> {
  const r = checkText(editor.text());
  if (!r.model) {
    editor.recheck();
    return;
  }
  const m = r.model;
  trainButton.disabled = true;
  setState('training');
  keep(undefined);
  state.losses = [];
  state.predictions = {};
  chart.replaceChildren();
  let session: Session | undefined;
  try {
    session = await Session.create(m, { device: device.value as 'auto' | 'webgpu' | 'cpu' });
    state.device = session.device;
    state.deviceNote = session.deviceNote;
    const t = m.training;
    const total = t ? (epochsInput.value === '' ? t.epochs : Math.max(0, Math.floor(Number(epochsInput.value)))) : 0;
    const started = performance.now();
    if (t) {
      // Train in slices (whole multiples of log_every) and yield between them, so the page redraws.
      const slice = Math.max(t.logEvery, Math.ceil(total / 40 / t.logEvery) * t.logEvery);
      for (let from = 0; from < total; from += slice) {
        const epochs = Math.min(total, from + slice);
        await session.trainAsync({ from, epochs, onLog: (rec) => void state.losses.push(rec) });
        const last = state.losses[state.losses.length - 1];
        status.textContent = `epoch ${epochs}/${total}${last ? `, loss ${last.loss.toPrecision(4)}` : ''} on ${session.deviceNote}`;
        plot(m, session.device);
        await new Promise((res) => setTimeout(res, 0));
      }
    }
    await results(session);
    keep({ session, model: m, epoch: total });
    session = undefined;
    status.textContent = `${t ? `trained ${total} epochs in ${((performance.now() - started) / 1000).toFixed(2)} s` : 'ran'} on ${state.deviceNote}`;
    setState('done');
  } catch (e) {
    failed(e);
  } finally {
    session?.dispose();
    trainButton.disabled = !model;
  }
}

function saveCheckpoint(): void {
  if (!current) return;
  const { session, model: m, epoch } = current;
  const bytes = checkpointBytes(session, { epoch, losses: state.losses });
  const name = `${m.name}.safetensors`;
  state.checkpoint = { name, bytes: bytes.length, epoch };
  download(bytes, name);
  status.textContent = `${name}: ${bytes.length} bytes (parameters, optimizer state, epoch ${epoch})`;
}

/** Load a checkpoint into a fresh session of the current graph; show its predictions and losses. */
async function loadCheckpoint(name: string, bytes: Uint8Array): Promise<void> {
  const r = checkText(editor.text());
  if (!r.model) {
    status.textContent = `${name}: fix the graph's errors first; a checkpoint loads into the graph in the editor`;
    return;
  }
  setState('training');
  trainButton.disabled = true;
  let session: Session | undefined;
  try {
    session = await Session.create(r.model, { device: device.value as 'auto' | 'webgpu' | 'cpu' });
    // The whole training state when the file has it (so a download afterwards loses nothing);
    // else the parameters alone (a file without optimizer state or position). A refused restore
    // leaves the session unchanged, so the second try starts clean.
    let pos: ReturnType<typeof restoreCheckpoint>;
    try {
      pos = restoreCheckpoint(session, bytes, { file: name, resume: r.model.updates.length > 0 });
    } catch {
      pos = restoreCheckpoint(session, bytes, { file: name });
    }
    state.device = session.device;
    state.deviceNote = session.deviceNote;
    state.losses = pos?.losses ?? [];
    plot(r.model, session.device);
    await results(session);
    keep({ session, model: r.model, epoch: pos?.epoch ?? 0 });
    session = undefined;
    state.checkpoint = { name, bytes: bytes.length, ...(pos ? { epoch: pos.epoch } : {}) };
    status.textContent = `loaded ${name}${pos ? ` (epoch ${pos.epoch})` : ''} on ${state.deviceNote}`;
    setState('done');
  } catch (e) {
    failed(e);
  } finally {
    session?.dispose();
    trainButton.disabled = !model;
  }
}

// ---- Files from the disk ----

function listFiles(): void {
  fileList.replaceChildren(
    ...dropped.map((n) => Object.assign(document.createElement('li'), { textContent: `file: ${n}` })),
  );
  state.files = [...dropped];
}

async function take(list: File[]): Promise<void> {
  const notes: string[] = [];
  filesVersion++;
  let graph: string | undefined;
  for (const f of list) {
    const d = await readDropped(f);
    switch (d.kind) {
      case 'graph':
        graphs[d.name] = d.text;
        files[`graphs/${d.name}`] = d.text;
        if (!Array.from(example.options).some((o) => o.value === d.name)) example.append(new Option(d.name, d.name));
        graph = d.name;
        break;
      case 'data':
        // Next to the graph, so `file: <name>` in any graph of the menu reads it; and wherever
        // the graph in the editor looks for a file of that name (`file: data/<name>`).
        files[`graphs/${d.name}`] = d.text;
        for (const w of wanted) if (w.split('/').pop() === d.name) files[`graphs/${w}`] = d.text;
        if (!dropped.includes(d.name)) dropped.push(d.name);
        notes.push(`${d.name} added`);
        break;
      case 'checkpoint':
        await loadCheckpoint(d.name, d.bytes);
        break;
      case 'refused':
        notes.push(d.why);
        break;
    }
  }
  listFiles();
  if (graph) load(graph);
  else editor.recheck(); // a graph waiting for the file is checked again
  if (notes.length) status.textContent = notes.join('; ');
}

onDrop(
  (fs) => void take(fs),
  (on) => document.body.classList.toggle('dropping', on),
);
addInput.addEventListener('change', () => {
  void take(Array.from(addInput.files ?? []));
  addInput.value = '';
});
loadInput.addEventListener('change', () => {
  const f = loadInput.files?.[0];
  loadInput.value = '';
  if (f) void take([f]);
});
saveButton.addEventListener('click', saveCheckpoint);
trainButton.addEventListener('click', () => void train());

// ---- Start ----

function load(name: string): void {
  example.value = name;
  epochsInput.value = '';
  editor.setText(graphs[name] ?? '');
  // Checked at once rather than after the editor's typing pause: the page is ready sooner.
  const r = checkText(editor.text());
  model = r.model ?? null;
  showCheck(r);
}

const graphNames = Object.keys(graphs).sort();
for (const n of graphNames) example.append(new Option(n, n));
example.addEventListener('change', () => load(example.value));
const params = new URLSearchParams(location.search);
const dev = params.get('device');
if (dev) device.value = dev;
const asked = params.get('graph');
load(asked && graphNames.includes(asked) ? asked : graphNames.includes('gender.yaml') ? 'gender.yaml' : graphNames[0]!);

(window as unknown as { graphRun: PlaygroundState }).graphRun = state;
(window as unknown as { playground: unknown }).playground = { editor };
