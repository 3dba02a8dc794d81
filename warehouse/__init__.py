"""The warehouse: Hive-partitioned Parquet written atomically, queried read-only with DuckDB."""
