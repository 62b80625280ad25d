"""The HTTP API: the Chalice app in `routes` (signed routes and the SQS reconcile handler), thin over the
shell."""
