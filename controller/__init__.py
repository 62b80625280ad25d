"""The deploy controller: signed CI notifications drive a blue/green Elastic Beanstalk deployment.

Four layers, each a package; the arrows point one way (import-linter keeps them, see pyproject.toml):

    api    the Chalice app: signed HTTP routes and the SQS handler      -> shell, core, client.signing
    shell  observe AWS, perform actions, save, requeue (boto3, SQS, HTTP) -> core
    core   pure decisions over plain data: reconcile(deployment, observed, now, config) -> Decision
    client the CI client, standard library only (python -m controller.client)

`app.py` at the repository root exposes `controller.api.routes` to Chalice.
"""
