"""Chalice entry point at the repository root: the controller's app lives in the `controller` package
(packed into the Lambda zip through vendor/controller -> ../controller)."""

from controller.api.routes import app, reconcile_tick

__all__ = ["app", "reconcile_tick"]
