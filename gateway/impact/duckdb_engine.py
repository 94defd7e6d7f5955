"""The default engine: DuckDB in this process, no server.

DuckDB reads the files (gzip by content), parses and groups the lines in SQL; its result comes
out as Arrow batches, which are decided here (`gateway.impact.deciding.Redecider`) and handed
back to DuckDB to be summed per breakdown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from gateway.core.extras import MissingExtra
from gateway.impact.clients import ClientMapping
from gateway.impact.deciding import DECIDED_SCHEMA, Redecider
from gateway.impact.engine import EngineError, ImpactInput, OutcomeRow, as_rows
from gateway.impact.formats import LineFormat
from gateway.impact.query import DUCKDB, NOT_UTF8, outcomes_query, requests_query
from gateway.impact.sources import LogFile

BATCH_ROWS = 65_536
MAX_LINE_BYTES = 1 << 20
MEMORY_LIMIT = "1GB"  # DuckDB spills its group-by to disk beyond this


def lines_query(files: tuple[LogFile, ...]) -> str:
    """One `line` column over every file: plain ones in one scan, gzip ones in another."""
    scans = []
    for gzip in (False, True):
        names = [DUCKDB.literal(file.path) for file in files if file.gzip is gzip]
        if names:
            scans.append(
                f"SELECT line FROM read_csv([{', '.join(names)}], columns = {{'line': 'VARCHAR'}}, "
                "delim = '\x1e\x1f', quote = '', escape = '', header = false, auto_detect = false, "
                f"strict_mode = false, null_padding = true, max_line_size = {MAX_LINE_BYTES}, "
                "store_rejects = true, "
                f"compression = '{'gzip' if gzip else 'none'}')"
            )
    return " UNION ALL ".join(scans)


class DuckDBEngine:
    """`threads`: DuckDB's worker threads (its default: one per core). `progress` is called with
    the number of distinct requests decided so far."""

    name = "duckdb"

    def __init__(self, threads: int | None = None, progress: Callable[[int], None] | None = None) -> None:
        self.threads = threads
        self.progress = progress

    def connect(self) -> Any:
        try:
            import duckdb
        except ImportError:
            raise MissingExtra("duckdb", "the DuckDB engine") from None
        config: dict[str, Any] = {"memory_limit": MEMORY_LIMIT}
        if self.threads is not None:
            config["threads"] = self.threads
        return duckdb.connect(config=config)

    def distinct_requests(
        self, files: tuple[LogFile, ...], form: LineFormat, mapping: ClientMapping
    ) -> pa.Table:
        """The logs' distinct requests with their counts (`gateway.impact.query.requests_query`),
        undecided: what the replay plays as recorded traffic."""
        import duckdb

        connection = self.connect()
        try:
            connection.execute(f"CREATE VIEW lines AS {lines_query(files)}")
            return connection.sql(requests_query(DUCKDB, form, mapping)).to_arrow_table()
        except duckdb.Error as error:
            raise EngineError(f"DuckDB: {str(error).splitlines()[0]}") from None
        finally:
            connection.close()

    def outcomes(self, run: ImpactInput) -> list[OutcomeRow]:
        import duckdb

        connection = self.connect()
        try:
            connection.execute(f"CREATE VIEW lines AS {lines_query(run.files)}")
            reader = connection.sql(requests_query(DUCKDB, run.form, run.mapping)).to_arrow_reader(BATCH_ROWS)
            redecider = Redecider(run.old, run.new)

            def decided() -> Iterator[pa.RecordBatch]:
                done = 0
                for batch in reader:
                    yield redecider.decide(batch)
                    done += batch.num_rows
                    if self.progress is not None:
                        self.progress(done)

            # Streamed: the decided batches are summed as they come, on a second connection (the
            # first is still producing), so memory holds a batch and the sums, not every request.
            summing = connection.cursor()
            summing.register("decided", pa.RecordBatchReader.from_batches(DECIDED_SCHEMA, decided()))
            records = summing.execute(outcomes_query()).fetchall()
            summing.close()
            # Lines DuckDB would not read (bytes that are not UTF-8) are counted, not dropped.
            rejected = connection.execute(
                "SELECT count(DISTINCT (file_id, line)) FROM reject_errors"
            ).fetchone()
            if rejected and rejected[0]:
                records.append((NOT_UTF8, *[None] * 9, rejected[0]))
            return as_rows(records)
        except duckdb.Error as error:
            raise EngineError(f"DuckDB: {str(error).splitlines()[0]}") from None
        finally:
            connection.close()
