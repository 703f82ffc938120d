"""Shared fixtures: the files the Java integration tests leave for these tests.

bin/test runs `mvn verify` first; its ArtifactPerplexityTest and GptqExportTest write artifacts,
GPTQ exports and our own dequantized reference weights into integration-tests/target/artifact-fixtures.
"""
import json
import pathlib

import pytest

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "target" / "artifact-fixtures"
SHARED = pathlib.Path(__file__).resolve().parents[5] / "shared"


@pytest.fixture(scope="session")
def fixtures() -> pathlib.Path:
    marker = FIXTURES / "stories260K-w4g32.arrow"
    if not marker.exists():
        pytest.fail(f"{marker} is missing: run the Java integration tests first "
                    "(bin/test does, or: mvn -B -pl integration-tests -am verify)")
    return FIXTURES


@pytest.fixture(scope="session")
def shared() -> pathlib.Path:
    return SHARED


def read_json(path: pathlib.Path):
    return json.loads(path.read_text(encoding="utf-8"))
