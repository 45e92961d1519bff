"""The people's side of c360: the REST API (and, later, the dashboard that uses it). A front end like the CLI:
it may import the core, governance, quality, ml and the semantic layer, and nothing below imports it."""
