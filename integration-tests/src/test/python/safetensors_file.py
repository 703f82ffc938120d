"""A minimal safetensors reader in numpy, from the published format: an 8-byte little-endian
header length, a JSON header (name -> dtype, shape, data_offsets), then the data section."""
import json
import pathlib
import struct

import numpy as np

DTYPES = {"F32": "<f4", "F16": "<f2", "I32": "<i4", "BF16": "<u2"}


def read(path: pathlib.Path) -> dict:
    data = path.read_bytes()
    (header_length,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + header_length])
    start = 8 + header_length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data, dtype=DTYPES[entry["dtype"]], count=(end - begin) // np.dtype(
            DTYPES[entry["dtype"]]).itemsize, offset=start + begin)
        tensors[name] = array.reshape(entry["shape"])
    return tensors
