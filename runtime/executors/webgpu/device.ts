// Getting a WebGPU device: `navigator.gpu` in a browser, the optional npm package `webgpu`
// (Dawn) in Node, loaded only when a device is asked for. Failures become DeviceErrors that
// say which piece is missing (the package, a Vulkan loader, a Vulkan driver) and how to add it.
//
// Dawn and the Vulkan loader write their own warnings straight to file descriptor 2 ("Warning:
// vkCreateInstance: Found no drivers!") when they find no adapter, and a Node program cannot
// silence native writes. So in Node the first request looks for an adapter in a short-lived
// child process whose stderr is captured: without an adapter Dawn is never started in this
// process, the caller gets a one-line DeviceError, and the driver's messages go to
// `driverLog` (the CLI's --verbose) or nowhere. With an adapter this process starts Dawn itself.

import { DeviceError } from '../executor.js';
import type { DeviceOptions } from './handles.js';

export type { DeviceOptions } from './handles.js';

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** One line naming the adapter, e.g. "nvidia hopper (Vulkan)". */
  description: string;
  /** Called on dispose: lets go of the Node binding so the process can exit. */
  release: () => void;
}

const SETUP_HINT =
  'on Debian/Ubuntu run `bash scripts/setup-webgpu.sh` (installs libvulkan1 and chromium, whose SwiftShader is a ' +
  'software Vulkan driver) and export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json; with a GPU, install its Vulkan driver';

/** Whether the Vulkan loader library is present where Linux distributions put it. */
async function hasVulkanLoader(): Promise<boolean | undefined> {
  if (typeof process === 'undefined' || process.platform !== 'linux') return undefined;
  const { existsSync } = await import('node:fs');
  const dirs = [
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
  ];
  return dirs.some((d) => existsSync(`${d}/libvulkan.so.1`));
}

/** What the child process found: an adapter or not, and what the driver printed meanwhile. */
interface Probe {
  adapter: boolean;
  messages: string;
}

// One look per process and set of flags: the answer does not change while it runs.
const probes = new Map<string, Promise<Probe | undefined>>();

/**
 * Ask a child Node process whether Dawn finds an adapter (it imports `webgpu` from this file's
 * folder, as this process would). Undefined when the child could not say (it crashed or hung):
 * then this process looks itself rather than give up a device over the probe.
 */
function probeAdapter(flags: string[], powerPreference: DeviceOptions['powerPreference']): Promise<Probe | undefined> {
  const key = JSON.stringify([flags, powerPreference ?? null]);
  let p = probes.get(key);
  if (!p) {
    p = runProbe(flags, powerPreference);
    probes.set(key, p);
  }
  return p;
}

async function runProbe(
  flags: string[],
  powerPreference: DeviceOptions['powerPreference'],
): Promise<Probe | undefined> {
  // Computed specifiers: Node built-ins stay out of the browser build, which never gets here.
  const [cp, url] = ['node:child_process', 'node:url'];
  const { spawn } = (await import(cp)) as typeof import('node:child_process');
  const { fileURLToPath } = (await import(url)) as typeof import('node:url');
  const script =
    "const { create } = await import('webgpu');" +
    `const a = await create(${JSON.stringify(flags)}).requestAdapter(${JSON.stringify(powerPreference ? { powerPreference } : {})});` +
    "process.stdout.write(a ? 'adapter' : 'none'); process.exit(0);";
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 64 * 1024) err += b.toString();
    });
    // A driver that hangs enumerating adapters: give up on the probe, not on the device.
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      clearTimeout(timer);
      const found = out.trim();
      resolve(
        code === 0 && (found === 'adapter' || found === 'none')
          ? { adapter: found === 'adapter', messages: err.trim() }
          : undefined,
      );
    });
  });
}

/** Node's GPU object, or null when the probe found no adapter (then Dawn is not started here). */
async function nodeGpu(opts: DeviceOptions): Promise<{ gpu: GPU | null; release: () => void }> {
  const flags = opts.dawnFlags ?? [];
  // A computed specifier keeps TypeScript and bundlers from requiring the optional package.
  const pkg = 'webgpu';
  let mod: { create(flags: string[]): GPU };
  try {
    mod = (await import(pkg)) as typeof mod;
  } catch (e) {
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    throw new DeviceError(
      'NoWebGpuPackage',
      missing
        ? 'the `webgpu` package is not installed'
        : `the \`webgpu\` package failed to load: ${(e as Error).message}`,
      missing
        ? 'npm install webgpu (an optional dependency of graph-run; Linux x64, macOS and Windows builds)'
        : 'reinstall it with npm install webgpu',
    );
  }
  // Dawn prints "XDG_RUNTIME_DIR is invalid" to stderr unless it names a writable folder.
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = (await import('node:os')).tmpdir();
  const probe = await probeAdapter(flags, opts.powerPreference);
  if (probe?.messages) opts.driverLog?.(probe.messages);
  if (probe?.adapter === false) return { gpu: null, release: () => {} };
  let gpu: GPU | null = mod.create(flags);
  // The binding keeps the process alive while the object returned by create is reachable.
  return {
    gpu,
    release: () => {
      gpu = null;
    },
  };
}

/**
 * A device with the adapter's own limits for storage buffers and workgroup memory (the
 * defaults, 128 MiB and 16 KiB, are far below what GPUs offer). Throws DeviceError.
 */
export async function acquireDevice(opts: DeviceOptions = {}): Promise<AcquiredDevice> {
  const browser = typeof navigator !== 'undefined' ? (navigator as Navigator & { gpu?: GPU }).gpu : undefined;
  const { gpu, release } = browser ? { gpu: browser, release: () => {} } : await nodeGpu(opts);
  const adapter = gpu
    ? await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : {})
    : null;
  if (!adapter) {
    release();
    if (browser)
      throw new DeviceError(
        'NoAdapter',
        'this browser exposes WebGPU but gave no adapter',
        'check that WebGPU is enabled (chrome://gpu) and the GPU is not blocklisted',
      );
    const loader = await hasVulkanLoader();
    if (loader === false)
      throw new DeviceError(
        'NoAdapter',
        'no WebGPU adapter: the Vulkan loader (libvulkan.so.1) is not installed',
        SETUP_HINT,
      );
    const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
    throw new DeviceError(
      'NoAdapter',
      icd
        ? `no WebGPU adapter: the Vulkan driver named by VK_ICD_FILENAMES/VK_DRIVER_FILES (${icd}) gave none`
        : "no WebGPU adapter: no Vulkan driver that Dawn accepts (it rejects Mesa's lavapipe)",
      SETUP_HINT,
    );
  }
  const l = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (e) {
    release();
    throw new DeviceError(
      'NoDevice',
      `the WebGPU adapter refused a device: ${(e as Error).message}`,
      'update the GPU driver, or run with --device cpu',
    );
  }
  const info = adapter.info;
  const description =
    [info.vendor, info.architecture, info.description].filter((s) => s).join(' ') || 'unknown adapter';
  return { device, adapter, description, release };
}
