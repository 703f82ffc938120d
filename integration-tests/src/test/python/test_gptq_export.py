"""The GPTQ exports dequantized independently with numpy, following the published GPTQ layout
(AutoGPTQ/GPTQModel, vLLM's gptq loader), and compared with Calibra's own dequantization.

"Exactly" means: for every quantized layer, W[i, o] = float32(scales[g_idx[i], o]) *
float32(q[i, o] - z[g_idx[i], o]) computed here equals, bit for bit, what Calibra's Java
dequantizer gives for the artifact's codes and zero points with its scales rounded to float16
(the GPTQ layout stores scales as float16; the artifact keeps float32)."""
import numpy as np
import pytest

import artifact_spec
import safetensors_file
from conftest import read_json

EXPORTS = [("dict-llama-15M-w4g32", 4, 32, "gptq"),
           ("dict-llama-15M-w3g32", 3, 32, "gptq_v2"),
           ("dict-llama-15M-w2g32", 2, 32, "gptq_v2"),
           ("dict-llama-15M-w8gc", 8, -1, "gptq")]


def column_streams(words: np.ndarray, bits: int, count: int) -> np.ndarray:
    """[n_words, columns] int32 words, each column a little-endian stream of `bits`-bit values:
    returns [count, columns] values (for 3 bits, values straddle words as GPTQ packs them)."""
    per_column = np.ascontiguousarray(words.T).astype("<u4")
    stream = np.unpackbits(per_column.view(np.uint8), axis=1, bitorder="little")
    fields = stream[:, :count * bits].reshape(words.shape[1], count, bits).astype(np.int64)
    return (fields @ (1 << np.arange(bits, dtype=np.int64))).T


def gptq_dequantize(tensors: dict, layer: str, bits: int, checkpoint_format: str) -> np.ndarray:
    qweight = tensors[layer + ".qweight"]
    qzeros = tensors[layer + ".qzeros"]
    scales = tensors[layer + ".scales"]
    g_idx = tensors[layer + ".g_idx"].astype(np.int64)
    inputs, outputs = g_idx.shape[0], scales.shape[1]
    q = column_streams(qweight, bits, inputs)                        # [in, out]
    z = column_streams(qzeros.T, bits, outputs).T                     # [groups, out]
    if checkpoint_format == "gptq":
        z = z + 1                                                     # v1 stores zero - 1
    return scales[g_idx].astype(np.float32) * (q - z[g_idx]).astype(np.float32)


@pytest.mark.parametrize("name,bits,group,checkpoint_format", EXPORTS)
def test_layers_dequantize_exactly_like_calibra(fixtures, name, bits, group, checkpoint_format):
    export = fixtures / f"{name}-gptq"
    quantize_config = read_json(export / "quantize_config.json")
    assert (quantize_config["bits"], quantize_config["group_size"]) == (bits, group)
    assert quantize_config["checkpoint_format"] == checkpoint_format
    assert quantize_config["sym"] is False and quantize_config["desc_act"] is False
    assert read_json(export / "config.json")["quantization_config"] == quantize_config

    tensors = safetensors_file.read(export / "model.safetensors")
    reference = safetensors_file.read(fixtures / f"{name}.fp16-scales.safetensors")
    assert len(reference) == 6 * 7
    for weight_name, expected in reference.items():
        layer = weight_name[:-len(".weight")]
        ours = gptq_dequantize(tensors, layer, bits, checkpoint_format).T  # back to [out, in]
        assert ours.shape == expected.shape, layer
        assert np.array_equal(ours.view(np.uint32), expected.view(np.uint32)), layer
        expected_groups = np.arange(expected.shape[1]) // (group if group > 0 else expected.shape[1])
        assert np.array_equal(tensors[layer + ".g_idx"], expected_groups), layer


@pytest.mark.parametrize("name,bits,group,checkpoint_format", EXPORTS[:1])
def test_float_tensors_are_the_artifacts_rounded_to_float16(fixtures, name, bits, group,
                                                            checkpoint_format):
    tensors = safetensors_file.read(fixtures / f"{name}-gptq" / "model.safetensors")
    _, batches = artifact_spec.open_artifact(fixtures / f"{name}.arrow")
    floats = 0
    for batch in batches:
        values = artifact_spec.row(batch)
        if values["kind"] == "float":
            exported = tensors[values["name"]]
            assert exported.dtype == np.float16
            assert np.array_equal(exported.view(np.uint16),
                                  artifact_spec.dequantize(values).astype(np.float16).view(np.uint16))
            floats += 1
    assert floats == 1 + 6 * 2 + 1  # embedding, two norms per block, final norm (tied lm_head)


def test_three_bit_words_follow_the_published_packing(fixtures):
    """Per column, word 0 holds inputs 0-9 in bits 0-29 and the low 2 bits of input 10 in bits
    30-31; word 1 holds input 10's high bit in bit 0, inputs 11-20 from bit 1 and the low bit of
    input 21 in bit 31; word 2 holds input 21's two high bits, then inputs 22-31 from bit 2."""
    tensors = safetensors_file.read(fixtures / "dict-llama-15M-w3g32-gptq" / "model.safetensors")
    qweight = tensors["model.layers.0.self_attn.q_proj.qweight"].astype(np.int64) & 0xFFFFFFFF
    w0, w1, w2 = qweight[0], qweight[1], qweight[2]
    values = [(w0 >> (3 * j)) & 7 for j in range(10)]
    values.append(((w0 >> 30) & 3) | ((w1 & 1) << 2))
    values += [(w1 >> (3 * j + 1)) & 7 for j in range(10)]
    values.append(((w1 >> 31) & 1) | ((w2 & 3) << 1))
    values += [(w2 >> (3 * j + 2)) & 7 for j in range(10)]
    assert np.array_equal(np.stack(values), column_streams(tensors[
        "model.layers.0.self_attn.q_proj.qweight"][:3], 3, 32))


def test_tokenizer_and_config_travel_with_the_export(fixtures, shared):
    export = fixtures / "dict-llama-15M-w4g32-gptq"
    source = shared / "models" / "dict-llama-15M"
    assert (export / "tokenizer.model").read_bytes() == (source / "tokenizer.model").read_bytes()
    config = read_json(export / "config.json")
    original = read_json(source / "config.json")
    assert config["torch_dtype"] == "float16"
    for key in ("hidden_size", "num_hidden_layers", "vocab_size", "tie_word_embeddings"):
        assert config[key] == original[key]
