// The playground page's logic: the YAML in the text area is validated as you type (errors
// positioned, click one to jump to it); Train compiles it on WebGPU (or the CPU: the device
// select, `auto` by default), trains in slices so the loss chart redraws, then shows the
// predictions and parameters. Everything runs in the page through the library's browser build.

import {
  GraphErrors,
  parseGraph,
  plotSvg,
  Session,
  formatError,
  memoryIO,
  type GraphError,
  type LossRecord,
  type Model,
  type Tensor,
} from '../runtime/index.js';

/** The example graphs and their data files, by path under graphs/ (defined by build.mjs). */
declare const __PLAYGROUND_FILES__: Record<string, string>;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const yaml = $<HTMLTextAreaElement>('yaml');
const example = $<HTMLSelectElement>('example');
const device = $<HTMLSelectElement>('device');
const epochsInput = $<HTMLInputElement>('epochs');
const trainButton = $<HTMLButtonElement>('train');
const status = $<HTMLSpanElement>('status');
const check = $<HTMLDivElement>('check');
const errorList = $<HTMLUListElement>('errors');
const chart = $<HTMLDivElement>('chart');

const files: Record<string, string> = {};
for (const [k, v] of Object.entries(__PLAYGROUND_FILES__)) files[`graphs/${k}`] = v;
const graphNames = Object.keys(__PLAYGROUND_FILES__)
  .filter((k) => /^[^/]+\.ya?ml$/.test(k))
  .sort();

/** What the end-to-end test (and a curious user, in the console) can read. */
interface PlaygroundState {
  device?: string;
  deviceNote?: string;
  losses: LossRecord[];
  predictions: Record<string, Record<string, { shape: number[]; data: number[] }>>;
  errors: { line?: number; col?: number; kind: string; message: string }[];
}
const state: PlaygroundState = { losses: [], predictions: {}, errors: [] };
(window as unknown as { graphRun: PlaygroundState }).graphRun = state;

function path(): string {
  return `graphs/${example.value}`;
}

function setState(s: 'ready' | 'invalid' | 'training' | 'done' | 'failed'): void {
  document.body.dataset.state = s;
}

/** Parse and check the text area; shows the result and returns the model (null on errors). */
function validate(): Model | null {
  errorList.replaceChildren();
  state.errors = [];
  try {
    const model = parseGraph(yaml.value, path(), memoryIO({ ...files, [path()]: yaml.value }));
    const t = model.training;
    check.className = 'ok';
    check.textContent = `✓ valid: ${model.inputs.length} inputs, ${model.params.length} parameters, ${model.nodes.length} nodes${t ? `; trains ${t.epochs} epochs, batch ${t.batchSize}` : ''}`;
    epochsInput.placeholder = t ? String(t.epochs) : '';
    trainButton.disabled = false;
    setState('ready');
    return model;
  } catch (e) {
    const errors: GraphError[] = e instanceof GraphErrors ? e.errors : [];
    check.className = '';
    check.textContent = errors.length ? `${errors.length} error${errors.length === 1 ? '' : 's'}` : String(e);
    for (const err of errors) {
      state.errors.push({ line: err.line, col: err.col, kind: err.kind, message: err.message });
      const li = document.createElement('li');
      const [first, ...rest] = formatError(err).split('\n');
      li.textContent = first!.replace(`${path()}:`, 'line ');
      for (const r of rest) {
        const s = document.createElement('span');
        s.className = 'hint';
        s.textContent = r.trim();
        li.append(s);
      }
      if (err.line && err.file === path()) li.addEventListener('click', () => jumpTo(err.line!, err.col ?? 1));
      errorList.append(li);
    }
    trainButton.disabled = true;
    setState('invalid');
    return null;
  }
}

/** Put the caret at line:col of the text area and scroll there. */
function jumpTo(line: number, col: number): void {
  const lines = yaml.value.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i]!.length + 1;
  offset += col - 1;
  yaml.focus();
  yaml.setSelectionRange(
    offset,
    Math.min(yaml.value.length, offset + Math.max(1, (lines[line - 1]?.length ?? 0) - col + 1)),
  );
  const lineHeight = parseFloat(getComputedStyle(yaml).lineHeight) || 18;
  yaml.scrollTop = Math.max(0, (line - 4) * lineHeight);
}

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

async function train(): Promise<void> {
  const model = validate();
  if (!model) return;
  trainButton.disabled = true;
  setState('training');
  state.losses = [];
  state.predictions = {};
  chart.replaceChildren();
  let session: Session | undefined;
  try {
    session = await Session.create(model, { device: device.value as 'auto' | 'webgpu' | 'cpu' });
    state.device = session.device;
    state.deviceNote = session.deviceNote;
    const t = model.training;
    const total = t ? (epochsInput.value === '' ? t.epochs : Math.max(0, Math.floor(Number(epochsInput.value)))) : 0;
    const started = performance.now();
    if (t) {
      // Train in slices (whole multiples of log_every) and yield between them, so the page redraws.
      const slice = Math.max(t.logEvery, Math.ceil(total / 40 / t.logEvery) * t.logEvery);
      for (let from = 0; from < total; from += slice) {
        const epochs = Math.min(total, from + slice);
        await session.trainAsync({ from, epochs, onLog: (r) => void state.losses.push(r) });
        const last = state.losses[state.losses.length - 1];
        status.textContent = `epoch ${epochs}/${total}${last ? `, loss ${last.loss.toPrecision(4)}` : ''} on ${session.deviceNote}`;
        chart.innerHTML = plotSvg(state.losses, {
          title: `${model.name}: training loss (${session.device})`,
          width: 560,
          height: 320,
        });
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    const preds = await session.predictionsAsync();
    const rows: string[][] = [];
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
    status.textContent = `${t ? `trained ${total} epochs in ${((performance.now() - started) / 1000).toFixed(2)} s` : 'ran'} on ${session.deviceNote}`;
    setState('done');
  } catch (e) {
    status.textContent =
      e instanceof GraphErrors ? e.errors.map(formatError).join('\n') : `${(e as Error).name}: ${(e as Error).message}`;
    setState('failed');
  } finally {
    session?.dispose();
    trainButton.disabled = false;
  }
}

function load(name: string): void {
  example.value = name;
  yaml.value = __PLAYGROUND_FILES__[name] ?? '';
  epochsInput.value = '';
  validate();
}

for (const n of graphNames) example.append(new Option(n, n));
example.addEventListener('change', () => load(example.value));
let timer: ReturnType<typeof setTimeout> | undefined;
yaml.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(validate, 150); // validate as you type, once typing pauses
});
trainButton.addEventListener('click', () => void train());
const wanted = new URLSearchParams(location.search).get('graph');
load(
  wanted && graphNames.includes(wanted) ? wanted : graphNames.includes('gender.yaml') ? 'gender.yaml' : graphNames[0]!,
);
const dev = new URLSearchParams(location.search).get('device');
if (dev) device.value = dev;
