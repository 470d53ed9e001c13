// A Python reference in a child process, spoken to one line at a time (bench/py/numpy_ref.py,
// bench/py/cnn_torch.py): the script prints a first line when it is ready, then one answer line per
// request line. Null where Python, the script or its imports are missing (it exits at once).

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface PythonChild {
  /** The script's first line (its readiness or version). */
  first: string;
  /** Send one request line; resolves to the answer line. */
  ask(line: string): Promise<string>;
}

/** Start `script` under $GRAPH_RUN_PYTHON (else python3). The benchmark ends with process.exit,
 * which closes the pipe and so ends the child. */
export async function pythonChild(script: string): Promise<PythonChild | null> {
  const python = process.env.GRAPH_RUN_PYTHON ?? 'python3';
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => waiting.shift()?.(l));
  const next = () => new Promise<string>((res) => waiting.push(res));
  const first = await Promise.race([
    next(),
    new Promise<null>((res) => child.once('exit', () => res(null))),
    new Promise<null>((res) => child.once('error', () => res(null))),
  ]);
  if (first === null) return null;
  return {
    first,
    ask: (line) => {
      const got = next();
      child.stdin!.write(`${line}\n`);
      return got;
    },
  };
}
