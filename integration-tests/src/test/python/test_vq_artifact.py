"""The artifact of a mixed VQ recipe (CbqCommandTest: MLP layers vq d4k6, down_proj with a codebook
per 32 rows, attention uniform W4 g32)
read with pyarrow alone: its vq rows dequantized from ARTIFACT.md bit for bit like the Java reader,
and their checksums."""
import numpy as np

import artifact_spec
import safetensors_file

ARTIFACT = "stories260K-cbq-mixed-vq.arrow"
REFERENCE = "stories260K-cbq-mixed-vq.dequantized.safetensors"


def test_vq_rows_dequantize_bit_for_bit_like_the_java_reader(fixtures):
    _, batches = artifact_spec.open_artifact(fixtures / ARTIFACT)
    reference = safetensors_file.read(fixtures / REFERENCE)
    kinds = set()
    for batch in batches:
        values = artifact_spec.row(batch)
        kinds.add(values["kind"])
        assert artifact_spec.crc32c(artifact_spec.canonical_bytes(batch)) == values["crc32c"]
        ours = artifact_spec.dequantize(values)
        theirs = reference[values["name"]]
        assert ours.shape == theirs.shape, values["name"]
        assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32)), values["name"]
    assert kinds == {"float", "uniform", "vq"}


def test_vq_rows_have_the_recipes_layout(fixtures):
    _, batches = artifact_spec.open_artifact(fixtures / ARTIFACT)
    for batch in batches:
        values = artifact_spec.row(batch)
        if values["kind"] == "vq":
            rows, cols = values["shape"].tolist()
            assert values["name"].split(".")[3] == "mlp"
            assert (values["vq_dim"], values["bits"]) == (4, 6)
            codebooks = 1
            if values["name"].endswith("down_proj.weight"):
                assert values["vq_codebook_rows"] == 32
                codebooks = -(-rows // 32)
            else:
                assert values["vq_codebook_rows"] is None
            assert len(values["codebook"]) == codebooks * 64 * 4
            assert len(values["scales"]) == rows
            assert values["group_size"] is None and values["zero_points"] is None
            assert len(values["assignment_indices"]) == 4 * -(-rows * (cols // 4) * 6 // 32)
