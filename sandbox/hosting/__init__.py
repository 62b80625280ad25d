"""The controller hosted as AWS hosts it, in one local process: API Gateway + Lambda for its routes, and the
SQS event source mapping for its reconcile handler (`controller_host`, run by the stack; `poller`)."""
