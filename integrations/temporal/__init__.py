"""Our side of the Temporal connection: the payload codec that keeps histories unreadable without
the keys, and the one function every process connects through."""
