"""The SpiffWorkflow wrapper: safe XML, parsing, the safe script engine, state storage, running."""
