"""An independent reader of the Calibra artifact, written from storage/ARTIFACT.md alone:
pyarrow opens the IPC file; bit unpacking, dequantization and the row checksum follow the spec."""
import json
import pathlib
import struct

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

CHECKSUM_COLUMN = "crc32c"
# Appended in format 1.1; the checksum covers it only when it is set.
ENCODED_WHEN_SET = {"vq_codebook_rows"}


def open_artifact(path: pathlib.Path):
    """(metadata as dict of parsed values, list of one-row record batches)."""
    reader = ipc.open_file(str(path))
    raw = {k.decode(): v.decode() for k, v in reader.schema.metadata.items()}
    metadata = {k: (v if k in ("calibra.format", "calibra.format_version") else json.loads(v))
                for k, v in raw.items()}
    batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
    return metadata, batches


def row(batch: pa.RecordBatch) -> dict:
    """Column name -> Python/numpy value of the batch's single row (None for null)."""
    assert batch.num_rows == 1
    values = {}
    for field, column in zip(batch.schema, batch.columns):
        scalar = column[0]
        if not scalar.is_valid:
            values[field.name] = None
        elif pa.types.is_list(field.type):
            values[field.name] = scalar.values.to_numpy(zero_copy_only=False)
        else:
            values[field.name] = scalar.as_py()
    return values


def unpack(packed: bytes, bits: int, count: int) -> np.ndarray:
    """Values of a little-endian bit stream: value i is bits [i*bits, (i+1)*bits)."""
    stream = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), bitorder="little")
    fields = stream[:count * bits].reshape(count, bits).astype(np.int64)
    return fields @ (1 << np.arange(bits, dtype=np.int64))


def dequantize(values: dict) -> np.ndarray:
    shape = values["shape"].tolist()
    rows, cols = (1, shape[0]) if len(shape) == 1 else shape
    kind = values["kind"]
    if kind == "float":
        return values["float_values"].astype(np.float32).reshape(shape)
    if kind == "uniform":
        bits, group = values["bits"], values["group_size"]
        width = cols if group == -1 else min(group, cols)
        groups_per_row = -(-cols // width)
        codes = unpack(values["packed_codes"], bits, rows * cols).reshape(rows, cols)
        group_of_column = np.arange(cols) // width
        scales = values["scales"].reshape(rows, groups_per_row)[:, group_of_column]
        zeros = values["zero_points"].reshape(rows, groups_per_row)[:, group_of_column]
        return (scales * (codes - zeros).astype(np.float32)).astype(np.float32)
    if kind == "vq":
        dim = values["vq_dim"]
        assert cols % dim == 0, "vq_dim must divide cols"
        per_row = cols // dim
        indices = unpack(values["assignment_indices"], values["bits"], rows * per_row)
        codebook_rows = values.get("vq_codebook_rows") or rows
        codebooks = -(-rows // codebook_rows)
        codebook = values["codebook"].astype(np.float16).astype(np.float32).reshape(-1, dim)
        assert len(codebook) % codebooks == 0, "the codebook column is not whole codebooks"
        entries = len(codebook) // codebooks
        assert indices.max() < entries, "an assignment index is past its codebook"
        first_entry = np.repeat(np.arange(rows) // codebook_rows * entries, per_row)
        weights = codebook[first_entry + indices].reshape(rows, cols)
        if values["scales"] is not None:
            weights = (weights * values["scales"].astype(np.float32)[:, None]).astype(np.float32)
        return weights
    raise AssertionError(f"kind {kind} is not in the spec")


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def canonical_bytes(batch: pa.RecordBatch) -> bytes:
    """Every column but crc32c in schema order: a presence byte, then the little-endian value."""
    out = bytearray()
    values = row(batch)
    for field in batch.schema:
        if field.name == CHECKSUM_COLUMN:
            continue
        value = values[field.name]
        if value is None and field.name in ENCODED_WHEN_SET:
            continue
        if value is None:
            out += b"\x00"
            continue
        out += b"\x01"
        kind = field.type
        if pa.types.is_string(kind):
            encoded = value.encode("utf-8")
            out += struct.pack("<i", len(encoded)) + encoded
        elif pa.types.is_int32(kind):
            out += struct.pack("<i", value)
        elif pa.types.is_large_binary(kind):
            out += struct.pack("<q", len(value)) + value
        elif pa.types.is_list(kind):
            element = {pa.int64(): "<i8", pa.int32(): "<i4", pa.float32(): "<f4",
                       pa.float16(): "<f2"}[kind.value_type]
            out += struct.pack("<i", len(value)) + np.asarray(value).astype(element).tobytes()
        else:
            raise AssertionError(f"column {field.name} has a type the spec does not list: {kind}")
    return bytes(out)
