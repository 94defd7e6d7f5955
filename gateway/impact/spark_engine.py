"""The distributed engine: the same queries on Apache Spark, the decisions on the executors.

`spark` runs Spark locally (`local[*]`); `local[...]`, `local-cluster[...]` and `spark://host:port`
name a master; `sc://host:port` is Spark Connect. Every one goes down the same path: Spark reads
and groups the lines in SQL, `mapInArrow` ships the plan files' texts to the executors, which
compile them once per worker and decide each partition's distinct requests in Arrow batches,
and Spark sums the decided rows; only those sums reach the driver.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from functools import partial
from pathlib import Path
from typing import Any

from gateway.core.extras import MissingExtra
from gateway.impact.deciding import SPARK_DECIDED_SCHEMA, decide_partition
from gateway.impact.engine import EngineError, ImpactInput, OutcomeRow, as_rows
from gateway.impact.query import SPARK, outcomes_query, requests_query

LOCAL = "spark"
MASTER_PREFIXES = ("local", "spark://", "sc://")
# Where `gateway` is imported from here, so a local master's executors import the same code.
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)


def is_spark(name: str) -> bool:
    return name == LOCAL or name.startswith(MASTER_PREFIXES)


class SparkEngine:
    """`master`: see the module docstring. `session`: a SparkSession to use instead of making one."""

    name = "spark"

    def __init__(self, master: str = LOCAL, session: Any = None) -> None:
        self.master = "local[*]" if master == LOCAL else master
        self._session = session

    def session(self) -> Any:
        if self._session is not None:
            return self._session
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise MissingExtra("pyspark", "the Spark engine") from None
        builder: Any = SparkSession.builder
        if self.master.startswith("sc://"):
            builder = builder.remote(self.master)
        else:
            # The executors' Python workers run this interpreter (with pyarrow and gateway's own
            # dependencies), unless the user chose one for the cluster.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = builder.master(self.master)
            builder = builder.config("spark.ui.enabled", "false").config(
                "spark.ui.showConsoleProgress", "false"
            )
            if self.master.startswith("local"):
                # A local Spark talks to itself over loopback only, whatever the host name resolves to.
                os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
                path = os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
                builder = builder.config("spark.executorEnv.PYTHONPATH", path)
                builder = builder.config("spark.driver.host", "127.0.0.1")
                builder = builder.config("spark.driver.bindAddress", "127.0.0.1")
        # SparkContext puts in a Ctrl-C handler of its own and leaves it there; gw467's (exit 130,
        # no traceback) is given back, as is a test runner's.
        previous = signal.getsignal(signal.SIGINT)
        try:
            self._session = builder.appName("gw467 impact").getOrCreate()
        finally:
            if previous is not None and threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, previous)
        return self._session

    def outcomes(self, run: ImpactInput) -> list[OutcomeRow]:
        odd = [file.path for file in run.files if file.gzip != file.path.endswith(".gz")]
        if odd:
            raise EngineError(
                f"{odd[0]}: Spark reads gzip by the .gz suffix; name gzip files *.gz, and only them"
            )
        texts = (run.old.plan_set.text, run.new.plan_set.text)
        if not all(texts):
            raise EngineError("the Spark engine ships plan files' texts: load both plans from files")
        try:
            spark = self.session()
            lines = spark.read.text([file.path for file in run.files]).withColumnRenamed("value", "line")
            lines.createOrReplaceTempView("lines")
            requests = spark.sql(requests_query(SPARK, run.form, run.mapping))
            decided = requests.mapInArrow(partial(decide_partition, *texts), SPARK_DECIDED_SCHEMA)
            decided.createOrReplaceTempView("decided")
            rows = spark.sql(outcomes_query()).collect()
        except (EngineError, MissingExtra):
            raise
        except Exception as error:  # py4j, Spark Connect and a missing Java raise their own kinds
            lines = str(error).strip().splitlines() or [type(error).__name__]
            raise EngineError(f"Spark: {lines[0]}") from None
        return as_rows([tuple(row) for row in rows])
