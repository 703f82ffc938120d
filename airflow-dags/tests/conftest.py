"""An Airflow of our own for the DAG tests: a home with a SQLite database in a temporary folder,
the DAG folder airflow-dags/, the Spark connection on a local master, and the spark-submit of the
pyspark in .venv on the PATH (as a worker's PATH would have it)."""
import importlib
import os
import pathlib
import subprocess
import sys

import pytest

DAGS = pathlib.Path(__file__).resolve().parents[1]
REPOSITORY = DAGS.parent
APP_JAR = REPOSITORY / "spark-jobs" / "target" / "spark-jobs-0.1.0-SNAPSHOT-app.jar"
VENV_BIN = pathlib.Path(sys.prefix) / "bin"


class Airflow:
    """Runs the airflow command line of .venv in the test's environment."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def run(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV_BIN / "airflow"), *args], env=self.env, cwd=REPOSITORY,
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    """The environment of an Airflow home of our own; also set in this process for DagBag."""
    home = tmp_path_factory.mktemp("airflow-home")
    settings = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        # The job's driver runs the tasks too: two cores, as on the CI machine.
        "AIRFLOW_CONN_CALIBRA_SPARK": '{"conn_type": "spark", "host": "local[2]"}',
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    os.environ.update(settings)
    return dict(os.environ)


@pytest.fixture(scope="session")
def airflow(airflow_env) -> Airflow:
    """The command line, on a migrated metadata database."""
    cli = Airflow(airflow_env)
    migrated = cli.run("db", "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    return cli


@pytest.fixture(scope="session")
def app_jar() -> pathlib.Path:
    if not APP_JAR.exists():
        pytest.fail(f"{APP_JAR} is missing: build it first (bin/test runs mvn verify, or: "
                    "mvn -B -q package -DskipTests -Dcalibra.cuda.skip=true)")
    return APP_JAR


@pytest.fixture(scope="session")
def dag_module(airflow_env):
    """The DAG file as a module, imported once Airflow's environment is ours."""
    sys.path.insert(0, str(DAGS))
    return importlib.import_module("calibra_quantize")
