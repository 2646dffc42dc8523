"""The curated services catalogue: schema, validation, import and export, queries."""
