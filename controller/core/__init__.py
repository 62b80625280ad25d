"""The pure core: a deployment record, what the shell observed, and the decisions over them.

Nothing here performs I/O or imports boto3, chalice or the shell: `reconcile.reconcile(deployment,
observed, now, config)` returns the new record, the actions to perform and when to look again, and the
steps it dispatches to live in `steps/`. Everything is table-tested without AWS.
"""
