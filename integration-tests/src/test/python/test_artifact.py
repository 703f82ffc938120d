"""The artifact opened with pyarrow alone: tensors listed, metadata read, checksums and
dequantized weights recomputed from the spec and compared with what Calibra's Java reader gives."""
import numpy as np
import pyarrow.ipc as ipc

import artifact_spec
import safetensors_file
from conftest import read_json

ARTIFACT = "stories260K-w4g32.arrow"
LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def test_lists_every_tensor_of_the_model(fixtures):
    table = ipc.open_file(str(fixtures / ARTIFACT)).read_all()
    names = table.column("name").to_pylist()
    kinds = dict(zip(names, table.column("kind").to_pylist()))
    blocks = dict(zip(names, table.column("block").to_pylist()))
    assert len(names) == len(set(names)) == 2 + 5 * 9  # embedding, final norm; 2 norms + 7 linears
    assert kinds["model.embed_tokens.weight"] == "float"
    assert blocks["model.embed_tokens.weight"] is None
    for block in range(5):
        for linear in LINEARS:
            name = f"model.layers.{block}.{linear}.weight"
            assert kinds[name] == "uniform" and blocks[name] == block
        assert kinds[f"model.layers.{block}.input_layernorm.weight"] == "float"
    assert set(table.column("bits").drop_null().to_pylist()) == {4}
    assert set(table.column("group_size").drop_null().to_pylist()) == {32}


def test_reads_the_metadata(fixtures):
    metadata, _ = artifact_spec.open_artifact(fixtures / ARTIFACT)
    assert metadata["calibra.format"] == "calibra-artifact"
    assert metadata["calibra.format_version"] == "1.1"
    config = metadata["calibra.model_config"]
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (5, 64, 512)
    recipe = metadata["calibra.recipe"]
    assert (recipe["method"], recipe["bits"], recipe["group_size"]) == ("rtn", 4, 32)
    report = read_json(fixtures / "stories260K-w4g32.report.json")
    recorded = metadata["calibra.metrics"]["perplexity"]["quantized"]
    assert recorded == report["results"][0]["perplexity"]
    assert 156.59 * 0.99 < recorded < 156.59 * 1.01
    assert len(metadata["calibra.metrics"]["layers"]) == 35
    assert metadata["calibra.tokenizer"]["source"].endswith("stories260K")
    provenance = metadata["calibra.provenance"]
    assert provenance["tool"] == "calibra quantize" and provenance["hosts"]
    assert [p["range"]["first_block"] for p in provenance["parts"]] == [None, 0]


def test_every_row_checksum_matches_the_canonical_encoding(fixtures):
    _, batches = artifact_spec.open_artifact(fixtures / ARTIFACT)
    for batch in batches:
        values = artifact_spec.row(batch)
        assert artifact_spec.crc32c(artifact_spec.canonical_bytes(batch)) == values["crc32c"], \
            values["name"]


def test_dequantizes_bit_for_bit_like_the_java_reader(fixtures):
    _, batches = artifact_spec.open_artifact(fixtures / ARTIFACT)
    reference = safetensors_file.read(fixtures / "stories260K-w4g32.dequantized.safetensors")
    assert len(reference) == len(batches)
    for batch in batches:
        values = artifact_spec.row(batch)
        ours = artifact_spec.dequantize(values)
        theirs = reference[values["name"]]
        assert ours.shape == theirs.shape, values["name"]
        assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32)), values["name"]


def test_float_tensors_are_the_models_own_weights(fixtures, shared):
    _, batches = artifact_spec.open_artifact(fixtures / ARTIFACT)
    original = safetensors_file.read(shared / "models" / "stories260K" / "model.safetensors")
    for batch in batches:
        values = artifact_spec.row(batch)
        if values["kind"] == "float":
            assert np.array_equal(artifact_spec.dequantize(values), original[values["name"]]), \
                values["name"]
