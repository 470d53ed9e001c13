// The device error: a problem with the compute device rather than with the graph. Raised by
// placement (scheduler/) and by the executors, so it belongs to neither stage.

/** What kind of device problem a `DeviceError` is. */
export type DeviceErrorCode =
  | 'NoWebGpuPackage'
  | 'NoAdapter'
  | 'NoDevice'
  | 'KernelError'
  | 'BufferLimit'
  | 'Fallback'
  | 'DeviceLost';

/**
 * The codes that mean no device could be had (or kept): no webgpu package, no adapter, no
 * device, a device lost while running. The graph may be fine; another machine or `--device
 * cpu` would run it. The CLI exits with code 3 for these (1 for the other device errors).
 */
export const deviceUnavailableCodes: readonly DeviceErrorCode[] = [
  'NoWebGpuPackage',
  'NoAdapter',
  'NoDevice',
  'DeviceLost',
];

/**
 * A problem with the compute device rather than with the graph: no WebGPU, a tensor past the
 * device's limits, a fallback under --strict-device, a lost device. `hint` says how to fix it;
 * the CLI prints message and hint and exits 3 when the device is unavailable
 * (`unavailable`), else 1.
 */
export class DeviceError extends Error {
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
    readonly hint?: string,
    readonly nodeName?: string,
  ) {
    super(message);
    this.name = code;
  }

  /** No device could be had or kept (deviceUnavailableCodes): not the graph's fault. */
  get unavailable(): boolean {
    return deviceUnavailableCodes.includes(this.code);
  }
}
