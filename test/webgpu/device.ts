// The WebGPU device for the tests: acquired once per test file. Without an adapter the WebGPU
// tests skip with one line saying how to enable them, unless GRAPH_RUN_REQUIRE_WEBGPU=1 (CI),
// which turns the missing adapter into a failing test.
import { WebGpuExecutor } from '../../runtime/executors/webgpu/webgpu.js';

export const requireWebGpu = process.env.GRAPH_RUN_REQUIRE_WEBGPU === '1';

export interface Probe {
  gpu: WebGpuExecutor | null;
  /** Why there is no device (empty when there is one). */
  reason: string;
}

export async function probeWebGpu(): Promise<Probe> {
  try {
    return { gpu: await WebGpuExecutor.create(), reason: '' };
  } catch (e) {
    const err = e as Error & { hint?: string };
    const reason = `${err.message}${err.hint ? ` (${err.hint})` : ''}`;
    if (!requireWebGpu) {
      console.warn(
        `WebGPU tests skipped: ${err.message}. Run \`eval "$(bash scripts/setup-webgpu.sh)"\` to enable them; GRAPH_RUN_REQUIRE_WEBGPU=1 makes this a failure.`,
      );
    }
    return { gpu: null, reason };
  }
}
