"""Installing the whole extension into moto: Elastic Beanstalk (with its HTTP controls), Lambda's account
concurrency, CloudFormation's resource types, rollbacks and serverless transform, CloudWatch's percentiles,
Parameter Store's references to Secrets Manager and Secrets Manager's status codes. Idempotent; under
`mock_aws` and in moto's server alike."""

from __future__ import annotations

from moto_ext import awslambda, cloudwatch, elasticbeanstalk, secretsmanager, ssm


def install() -> None:
    elasticbeanstalk.install()
    awslambda.install()
    cloudwatch.install()
    ssm.install()
    secretsmanager.install()
    # Imported here, not above: moto's CloudFormation imports every service moto has (about a second),
    # which `import moto_ext` (and the pytest plugin, loaded by every test run) need not pay.
    from moto_ext import cloudformation

    cloudformation.install()
