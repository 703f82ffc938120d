package dev.calibra.kernels.cuda;

import jcuda.driver.CUdeviceptr;

/** A piece of device memory handed out by a {@link DevicePool}: its address and bucket size. */
final class DeviceBlock {

  final CUdeviceptr pointer;
  final long bytes;

  DeviceBlock(CUdeviceptr pointer, long bytes) {
    this.pointer = pointer;
    this.bytes = bytes;
  }
}
