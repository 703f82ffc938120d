"""The Zeppelin note's %spark paragraphs, run in order in a real Spark shell (the spark-shell of
the pyspark in .venv, with Calibra's application jar as Zeppelin's spark.jars would add it), each
as one compilation unit as Zeppelin runs a paragraph; then its outputs are checked."""
import json
import os
import pathlib
import re
import subprocess
import sys

import pyarrow.ipc as ipc
import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1]
REPOSITORY = NOTEBOOKS.parent
NOTE = NOTEBOOKS / "calibra-quantize.zpln"
APP_JAR = REPOSITORY / "spark-jobs" / "target" / "spark-jobs-0.1.0-SNAPSHOT-app.jar"
SPARK_SHELL = pathlib.Path(sys.prefix) / "bin" / "spark-shell"
END = "@@calibra-paragraph-end {}@@"
# stories260K's float perplexity on its evaluation split (shared/README.md).
FLOAT_PERPLEXITY = 17.857
LAYERS_PER_BLOCK = 7


def spark_paragraphs() -> list[tuple[str, str]]:
    """(title, Scala code) of each %spark paragraph, in note order."""
    note = json.loads(NOTE.read_text(encoding="utf-8"))
    paragraphs = []
    for paragraph in note["paragraphs"]:
        interpreter, _, code = paragraph["text"].partition("\n")
        if interpreter.strip() == "%spark":
            paragraphs.append((paragraph["title"], code))
    return paragraphs


def shell_input(paragraphs: list[tuple[str, str]], directory: pathlib.Path) -> str:
    """What is typed into the shell: each paragraph pasted whole, then an end marker."""
    lines = []
    for index, (_, code) in enumerate(paragraphs):
        source = directory / f"paragraph-{index}.scala"
        source.write_text(code + "\n", encoding="utf-8")
        # Built at run time, so that a shell echoing its input does not show the marker early.
        marker = END.format(f"\" + {index} + \"")
        lines += [f":paste {source}", f"println(\"{marker}\")"]
    return "\n".join(lines + [":quit", ""])


def split_outputs(transcript: str, count: int) -> list[str]:
    """The shell's output between consecutive end markers: one piece per paragraph."""
    outputs, start = [], 0
    for index in range(count):
        end = transcript.find(END.format(index), start)
        assert end >= 0, f"paragraph {index} never finished:\n{transcript[start:][-4000:]}"
        outputs.append(transcript[start:end])
        start = end + len(END.format(index))
    return outputs


def table(output: str) -> list[list[str]]:
    """The rows (header first) of the %table a paragraph printed."""
    text = output[output.index("%table ") + len("%table "):]
    rows = []
    for line in text.splitlines():
        if "\t" not in line:
            break
        rows.append(line.split("\t"))
    return rows


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    if not APP_JAR.exists():
        pytest.fail(f"{APP_JAR} is missing: build it first (bin/test runs mvn verify)")
    directory = tmp_path_factory.mktemp("zeppelin-note")
    paragraphs = spark_paragraphs()
    # The venv first on the PATH, as after `source .venv/bin/activate`: pyspark's scripts find
    # their Spark home through the python3 they find there.
    env = {**os.environ, "PATH": f"{SPARK_SHELL.parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "CALIBRA_HOME": str(REPOSITORY),
           "CALIBRA_NOTEBOOK_OUT": str(directory / "out"), "SPARK_LOCAL_IP": "127.0.0.1"}
    shell = subprocess.run(
        [str(SPARK_SHELL), "--master", "local[2]", "--driver-memory", "2g",
         "--conf", "spark.ui.enabled=false", "--jars", str(APP_JAR)],
        input=shell_input(paragraphs, directory), env=env, cwd=REPOSITORY,
        capture_output=True, text=True, timeout=600)
    transcript = shell.stdout
    assert shell.returncode == 0, transcript[-4000:] + shell.stderr[-4000:]
    outputs = split_outputs(transcript, len(paragraphs))
    return {"titles": [title for title, _ in paragraphs], "outputs": outputs,
            "out": directory / "out", "stderr": shell.stderr}


def output_of(run: dict, title: str) -> str:
    return run["outputs"][run["titles"].index(title)]


def test_every_paragraph_compiles_and_runs(run):
    for title, output in zip(run["titles"], run["outputs"]):
        assert not re.search(r"\berror\b|Exception", output), f"{title}:\n{output}"


def test_the_model_paragraph_describes_stories260k(run):
    assert "llama: 5 blocks, hidden 64, MLP 172, 8 query and 4 key-value heads, vocab 512" \
        in output_of(run, "Load the model")


def test_the_perplexity_table_has_one_row_per_recipe(run):
    header, *rows = table(output_of(run, "Perplexity per recipe"))

    assert header == ["recipe", "float perplexity", "quantized perplexity", "artifact", "MB"]
    assert [row[0] for row in rows] == ["rtn w4 g32", "cbq w4 g32"]
    for recipe, floats, quantized, artifact, megabytes in rows:
        assert abs(float(floats) - FLOAT_PERPLEXITY) < 0.01, recipe
        assert FLOAT_PERPLEXITY < float(quantized) < 1000, recipe
        assert pathlib.Path(artifact).stat().st_size / 1e6 == pytest.approx(float(megabytes),
                                                                             abs=0.01)
    rtn, cbq = (float(row[2]) for row in rows)
    assert cbq < rtn, "calibration beats round-to-nearest"


def test_the_layer_table_compares_every_linear_layer(run):
    header, *rows = table(output_of(run, "Per-layer relative weight error"))

    assert header == ["block", "layer", "rtn w4 g32", "cbq w4 g32"]
    assert len(rows) == 5 * LAYERS_PER_BLOCK
    assert {row[0] for row in rows} == {"0", "1", "2", "3", "4"}
    for block, layer, rtn, cbq in rows:
        assert 0 < float(rtn) < 1 and 0 < float(cbq) < 1, (block, layer)


def test_the_artifacts_are_written_in_the_artifact_format(run):
    for name, method in (("rtn-w4g32.arrow", "rtn"), ("cbq-w4g32.arrow", "cbq")):
        metadata = ipc.open_file(str(run["out"] / name)).schema.metadata
        assert metadata[b"calibra.format"] == b"calibra-artifact"
        recipe = json.loads(metadata[b"calibra.recipe"])
        assert (recipe["method"], recipe["bits"], recipe["group_size"]) == (method, 4, 32)
