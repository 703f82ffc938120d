"""Calibra on Airflow: quantize a model with the Spark job, then gate the artifact on perplexity.

Tasks: ``arguments`` (the two command lines, from the run's params) -> ``quantize`` (spark-submit
of the CBQ calibration job, dev.calibra.jobs.spark.CalibrateJobMain) -> ``evaluate`` (spark-submit
of ``calibra evaluate --max-perplexity``, which fails the run when the artifact's perplexity is
above the threshold).

Set-up (README.md, "Airflow"): the Spark connection ``calibra_spark`` names the master, e.g.
``AIRFLOW_CONN_CALIBRA_SPARK='{"conn_type": "spark", "host": "spark://master", "port": 7077}'``
(or ``"host": "yarn"``, ``"host": "local[4]"``; extra ``{"deploy-mode": "cluster"}`` for cluster
mode), and ``spark-submit`` must be on the worker's PATH. Environment variables read when the DAG
is parsed: CALIBRA_SCHEDULE (a cron expression or preset such as ``@weekly``; unset: on demand
only), CALIBRA_APP_JAR (default: this checkout's build) and CALIBRA_SPARK_CONN_ID.
"""
from __future__ import annotations

import datetime
import os
import pathlib

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import DAG, Param, task

REPOSITORY = pathlib.Path(__file__).resolve().parents[1]
SHARED_MODELS = REPOSITORY.parent / "shared" / "models"
APP_JAR = os.environ.get(
    "CALIBRA_APP_JAR", str(REPOSITORY / "spark-jobs" / "target" / "spark-jobs-0.1.0-SNAPSHOT-app.jar"))
SPARK_CONNECTION = os.environ.get("CALIBRA_SPARK_CONN_ID", "calibra_spark")
SCHEDULE = os.environ.get("CALIBRA_SCHEDULE") or None

CALIBRATE_MAIN = "dev.calibra.jobs.spark.CalibrateJobMain"
COMMAND_LINE_MAIN = "dev.calibra.jobs.cli.CalibraCli"

PARAMS = {
    "model": Param(str(SHARED_MODELS / "dict-llama-15M"), type="string",
                   description="Model directory (config.json, *.safetensors, tokenizer): a path "
                               "the driver and executors can read, or an hdfs:// URI."),
    "calibration_text": Param("", type="string",
                              description="Calibration text, cut into samples. Empty: the model "
                                          "directory's calibration.txt, unless calibration_tokens "
                                          "is given."),
    "calibration_tokens": Param("", type="string",
                                description="Pre-tokenized calibration sequences, FILE or "
                                            "FILE#SPLIT (JSONL, Parquet, JSON with splits)."),
    "calibration_samples": Param(32, type="integer", minimum=0,
                                 description="Calibration samples of the text or tokens (0: "
                                             "generated ones only)."),
    "calibration_generated": Param(0, type="integer", minimum=0,
                                   description="More calibration samples that the float model "
                                               "writes itself, drawn on the driver's CPU "
                                               "(calibration/CBQ.md, 'Calibration data')."),
    "evaluation_text": Param("", type="string",
                             description="Evaluation text. Empty: the model directory's "
                                         "heldout.txt, unless evaluation_tokens is given."),
    "evaluation_tokens": Param("", type="string",
                               description="Pre-tokenized evaluation sequences, FILE#SPLIT."),
    "recipe": Param(str(REPOSITORY / "recipes" / "cbq-w4g32.properties"), type="string",
                    description="Recipe file (README.md, 'Recipes'); the Spark job runs cbq "
                                "recipes."),
    "output": Param(str(REPOSITORY / "calibra-airflow" / "model.arrow"), type="string",
                    description="The artifact: an absolute path or an hdfs:// URI (the driver's "
                                "working directory is the Airflow worker's). Its work directory "
                                "(model.work) lets a retry resume where the failed attempt "
                                "stopped."),
    "spark_schedule": Param("sequential", enum=["sequential", "parallel"],
                            description="The job's shard schedule (spark-jobs/README.md)."),
    "max_perplexity": Param(100.0, type="number", minimum=1,
                            description="The run fails when the artifact's perplexity is above "
                                        "this."),
    "driver_memory": Param("4g", type="string",
                           description="spark.driver.memory; with a local master the driver "
                                       "also runs the tasks."),
}


def data_options(params: dict, kind: str) -> list[str]:
    """The command-line options naming the calibration or evaluation data, as the params give it.

    ``kind`` is "calibration" (--calib-text/--calib-tokens) or "evaluation" (--eval-...).
    """
    prefix = {"calibration": "--calib", "evaluation": "--eval"}[kind]
    text, tokens = params[f"{kind}_text"], params[f"{kind}_tokens"]
    if text and tokens:
        raise ValueError(f"give {kind}_text or {kind}_tokens, not both")
    if tokens:
        return [f"{prefix}-tokens", tokens]
    return [f"{prefix}-text", text] if text else []


def generated_option(params: dict) -> list[str]:
    """--calib-generated when the params ask for generated samples; nothing otherwise."""
    generated = params["calibration_generated"]
    return ["--calib-generated", str(generated)] if generated else []


def job_arguments(params: dict) -> dict[str, list[str]]:
    """The arguments of both submissions: the calibration job's and calibra evaluate's."""
    calibrate = ["--model", params["model"], "--recipe", params["recipe"],
                 *data_options(params, "calibration"),
                 "--calib-samples", str(params["calibration_samples"]),
                 *generated_option(params),
                 *data_options(params, "evaluation"),
                 "--schedule", params["spark_schedule"], "--output", params["output"]]
    evaluate = ["evaluate", "--artifact", params["output"], *data_options(params, "evaluation"),
                "--max-perplexity", str(params["max_perplexity"])]
    return {"calibrate": calibrate, "evaluate": evaluate}


with DAG(
    dag_id="calibra_quantize",
    description="Quantize a model with Calibra's Spark job and gate it on perplexity",
    schedule=SCHEDULE,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    # Two runs writing the same artifact would refuse each other's work directory.
    max_active_runs=1,
    default_args={
        # A retried job resumes from its work directory: finished shards are not redone.
        "retries": 2,
        "retry_delay": datetime.timedelta(minutes=2),
    },
    params=PARAMS,
    tags=["calibra"],
    doc_md=__doc__,
) as dag:

    @task(multiple_outputs=True)
    def arguments(params: dict | None = None) -> dict[str, list[str]]:
        return job_arguments(params)

    commands = arguments()
    spark_conf = {"spark.driver.memory": "{{ params.driver_memory }}"}

    quantize = SparkSubmitOperator(
        task_id="quantize",
        conn_id=SPARK_CONNECTION,
        application=APP_JAR,
        java_class=CALIBRATE_MAIN,
        name="calibra calibrate",
        conf=spark_conf,
        application_args=commands["calibrate"],
    )

    evaluate = SparkSubmitOperator(
        task_id="evaluate",
        conn_id=SPARK_CONNECTION,
        application=APP_JAR,
        java_class=COMMAND_LINE_MAIN,
        name="calibra evaluate",
        conf=spark_conf,
        application_args=commands["evaluate"],
        # A perplexity above the threshold is a verdict on the artifact: retrying gives the same.
        retries=0,
    )

    quantize >> evaluate
