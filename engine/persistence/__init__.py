"""Persistence adapters: the only place in the engine that knows SQLAlchemy."""
