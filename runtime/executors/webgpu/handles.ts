// The WebGPU objects graph-run's public declarations mention, as structural stand-ins, so a
// consumer's strict `tsc` needs no WebGPU type package (@webgpu/types is ambient and only a dev
// dependency here; a package that pulled it in would add globals to every consumer and clash
// once TypeScript's own DOM library carries WebGPU). Inside, graph-run uses the real types:
// a GPUBuffer is a GpuBuffer, and the executor narrows a GpuBuffer back to the GPUBuffer it made.

/** A WebGPU buffer (a `GPUBuffer`) as the WebGPU executor hands it out. */
export interface GpuBuffer {
  readonly size: number;
  readonly label: string;
}

/** Which adapter to prefer (WebGPU's `GPUPowerPreference`). */
export type GpuPowerPreference = 'low-power' | 'high-performance';

/** Why a device was lost (WebGPU's `GPUDeviceLostInfo`). */
export interface GpuDeviceLostInfo {
  readonly reason: 'unknown' | 'destroyed';
  readonly message: string;
}

/** How the WebGPU executor acquires its device. */
export interface DeviceOptions {
  /** Dawn toggles for the Node binding, e.g. ['enable-dawn-features=disable_robustness']. */
  dawnFlags?: string[];
  powerPreference?: GpuPowerPreference;
  /**
   * Receives the GPU driver's own messages (Dawn, Vulkan loader) from looking for an adapter in
   * Node, which are otherwise dropped: the DeviceError says what happened in one line.
   */
  driverLog?: (text: string) => void;
}
