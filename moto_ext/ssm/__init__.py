"""SSM Parameter Store for moto, extended: references to Secrets Manager secrets answer as AWS documents.

from moto_ext import ssm; ssm.install()   # done by moto_ext.install()
"""

from .secret_references import install

__all__ = ["install"]
