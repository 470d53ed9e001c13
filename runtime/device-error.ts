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
 * A problem with the compute device rather than with the graph: no WebGPU, a tensor past the
 * device's limits, a fallback under --strict-device, a lost device. `hint` says how to fix it;
 * the CLI prints message and hint and exits 1.
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
}
