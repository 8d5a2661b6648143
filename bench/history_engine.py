"""One engine deriving the users tables (user_daily and breakdown_daily) from one NDJSON file.

    python bench/history_engine.py duckdb|pyarrow REPORT.ndjson OUT_FOLDER

duckdb is the product's own code path (copilot_metrics.history.tables); pyarrow is the
alternative it was measured against: its streaming JSON reader with the same explicit schema,
one pass, writing the same two tables."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src")]

from copilot_metrics import schema  # noqa: E402
from copilot_metrics.history import tables  # noqa: E402


def with_duckdb(source: Path, out: Path) -> None:
    tables.build("users-1-day", [source], out)


def with_pyarrow(source: Path, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    kinds = {
        "VARCHAR": pa.string(),
        "BIGINT": pa.int64(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.string(),
    }

    def arrow(tree: tables.Tree) -> pa.DataType:
        if isinstance(tree, str):
            return kinds[tree]
        if isinstance(tree, list):
            return pa.list_(arrow(tree[0]))
        return pa.struct([(name, arrow(child)) for name, child in tree.items()])

    full = tables._tree(schema.fields_of("users"), arrays=True)
    explicit = pa.schema([(name, arrow(tree)) for name, tree in full.items()])
    arrays = [field.path for field in schema.fields_of("users") if field.type == "array" and "." not in field.path]
    reader = pj.open_json(
        source,
        read_options=pj.ReadOptions(block_size=8 * 1024 * 1024),
        parse_options=pj.ParseOptions(explicit_schema=explicit, unexpected_field_behavior="ignore"),
    )
    entry = tables._entry_tree()
    rows: pq.ParquetWriter | None = None
    entries: pq.ParquetWriter | None = None
    for batch in reader:
        table = pa.Table.from_batches([batch])
        for name in ("report_start_day", "report_end_day", "day"):
            position = table.column_names.index(name)
            table = table.set_column(position, name, pc.cast(table.column(name), pa.date32()))
        scalar = table.drop_columns([name for name in arrays if name in table.column_names])
        rows = rows or pq.ParquetWriter(out / "user_daily.parquet", scalar.schema, compression="zstd")
        rows.write_table(scalar)
        for name in arrays:
            column = table.column(name).combine_chunks()
            flat = pc.list_flatten(column)
            parents = pc.list_parent_indices(column)
            ids = table.select(["day", "user_id", "user_login"]).take(parents)
            fields = {f.name: flat.field(f.name) for f in flat.type}
            piece = pa.Table.from_arrays(
                [
                    *ids.columns,
                    pa.array([name] * len(flat)),
                    *[fields.get(n, pa.nulls(len(flat), arrow(entry[n]))) for n in entry],
                ],
                names=[*ids.column_names, "breakdown", *entry],
            )
            target = pa.schema([*ids.schema, ("breakdown", pa.string()), *[(n, arrow(entry[n])) for n in entry]])
            piece = piece.cast(target)
            entries = entries or pq.ParquetWriter(out / "breakdown_daily.parquet", piece.schema, compression="zstd")
            entries.write_table(piece)
    for writer in (rows, entries):
        if writer is not None:
            writer.close()


def main() -> int:
    engine, source, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    {"duckdb": with_duckdb, "pyarrow": with_pyarrow}[engine](source, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
