"""CloudFormation for moto, extended with what deploying a Beanstalk + serverless project needs.

Importing this package (idempotent) teaches moto's CloudFormation, under `mock_aws` and in moto's server:
- the `AWS::ElasticBeanstalk::*` resource types (Application, ApplicationVersion, ConfigurationTemplate,
  Environment), created through the Beanstalk emulation's backend, so a stack's environments are the
  emulation's own: an Environment resource is complete once its environment is Ready, as on AWS;
- `AWS::SecretsManager::Secret` (with GenerateSecretString), `AWS::ApiGateway::Stage` and
  `AWS::ApiGateway::Account`, which moto lacks;
- the `AWS::Serverless-2016-10-31` transform, applied with AWS's own translator (aws-sam-translator) when a
  stack or change set is created, as CloudFormation does server-side.

Each resource reports its own creation in the stack's events (resource_events.py), and a stack made through
a change set (`aws cloudformation deploy`) answers its Outputs and exports as one made by CreateStack
(change_sets.py).

Unlike AWS, moto creates a stack's resources inside the CreateStack request, so a resource the service
refuses (a CNAME already taken) fails that request with the service's error, where CloudFormation would
accept it and report the stack CREATE_FAILED with the same message.

    from moto_ext import cloudformation   # then CreateStack / CreateChangeSet through moto as usual
"""

from .registry import install

__all__ = ["install"]

install()
