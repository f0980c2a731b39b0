"""The domain: bundles, cases, human tasks, events and users, free of Flask and SQLAlchemy."""
