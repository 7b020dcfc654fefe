"""Running the engine: the `make run` supervisor, the Temporal dev server, database set-up."""
