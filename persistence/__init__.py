"""Where the engine's state lives: SQLAlchemy 2 models, engines and a unit of work."""
