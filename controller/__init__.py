"""The deploy controller: signed CI notifications drive a blue/green Elastic Beanstalk deployment.

`reconcile` (pure) decides; `tick` (the shell) observes AWS, performs the decided actions, saves and
requeues itself on SQS. `api` is the Chalice app that `app.py` at the repository root exposes.
"""
