"""Installing the whole extension into moto: Elastic Beanstalk (with its HTTP controls), Lambda's account
concurrency, CloudFormation's resource types, rollbacks and serverless transform, and CloudWatch's
percentiles. Idempotent; under `mock_aws` and in moto's server alike."""

from __future__ import annotations

from moto_ext import awslambda, cloudwatch, elasticbeanstalk


def install() -> None:
    elasticbeanstalk.install()
    awslambda.install()
    cloudwatch.install()
    # Imported here, not above: moto's CloudFormation imports every service moto has (about a second),
    # which `import moto_ext` (and the pytest plugin, loaded by every test run) need not pay.
    from moto_ext import cloudformation

    cloudformation.install()
