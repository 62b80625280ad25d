"""Installing the whole extension into moto: Elastic Beanstalk (with its HTTP controls) and CloudFormation's
resource types and serverless transform. Idempotent; under `mock_aws` and in moto's server alike."""

from __future__ import annotations

from moto_ext import elasticbeanstalk


def install() -> None:
    elasticbeanstalk.install()
    # Imported here, not above: moto's CloudFormation imports every service moto has (about a second),
    # which `import moto_ext` (and the pytest plugin, loaded by every test run) need not pay.
    from moto_ext import cloudformation

    cloudformation.install()
