"""API Gateway resource types the serverless transform produces and moto's CloudFormation lacks or
half-supports: a RestApi defined by its OpenAPI `Body` (moto requires a `Name`), a Stage with its method
settings and access log, and the per-region Account (CloudWatch Logs role)."""

from __future__ import annotations

from typing import Any

from moto.apigateway.models import RestAPI, apigateway_backends
from moto.core.common_models import CloudFormationModel

from .resource_type import ResourceType


class CloudFormationRestApi(RestAPI, CloudFormationModel):
    """A RestApi named by `Name` or by its `Body`'s title, with the Body's routes and their integrations
    (moto's own import reads OpenAPI 3 only; Chalice writes Swagger 2.0). Nothing is served from them:
    a sandbox serves the routes itself (this project's, with Chalice's local server)."""

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> RestAPI:
        properties = cloudformation_json["Properties"]
        backend = apigateway_backends[account_id][region_name]
        body = properties.get("Body", {})
        info = body.get("info", {})
        api = backend.create_rest_api(
            name=properties.get("Name") or info.get("title") or resource_name,
            description=properties.get("Description") or info.get("description", ""),
            endpoint_configuration=properties.get("EndpointConfiguration"),
        )
        _add_routes(backend, api.id, body.get("paths", {}))
        return api


class CloudFormationStage(ResourceType, CloudFormationModel):
    """Ref is the stage name. MethodSettings and AccessLogSetting are applied as UpdateStage would."""

    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"

    def __init__(self, rest_api_id: str, name: str) -> None:
        self.rest_api_id = rest_api_id
        self.physical_id = name

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CloudFormationStage:
        properties = cloudformation_json["Properties"]
        backend = apigateway_backends[account_id][region_name]
        rest_api_id = properties["RestApiId"]
        deployment = properties["DeploymentId"]  # moto's Deployment gives Ref its object, not its id
        backend.create_stage(
            rest_api_id,
            properties["StageName"],
            str(getattr(deployment, "id", deployment)),
            variables=properties.get("Variables"),
            description=properties.get("Description", ""),
            tracing_enabled=properties.get("TracingEnabled"),
        )
        operations = _method_setting_operations(properties.get("MethodSettings", []))
        access_log = properties.get("AccessLogSetting")
        if access_log:
            operations += [
                {
                    "op": "replace",
                    "path": "/accessLogSettings/destinationArn",
                    "value": access_log["DestinationArn"],
                },
                {"op": "replace", "path": "/accessLogSettings/format", "value": access_log.get("Format", "")},
            ]
        if operations:
            backend.update_stage(rest_api_id, properties["StageName"], operations)
        return cls(rest_api_id, properties["StageName"])


class CloudFormationAccount(ResourceType, CloudFormationModel):
    """The region's API Gateway account settings (its CloudWatch Logs role)."""

    TYPE = "AWS::ApiGateway::Account"

    def __init__(self, role_arn: str) -> None:
        self.role_arn = role_arn
        self.physical_id = "ApiGatewayAccount"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CloudFormationAccount:
        role = cloudformation_json["Properties"].get("CloudWatchRoleArn", "")
        apigateway_backends[account_id][region_name].update_account(
            [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
        )
        return cls(role)


def _add_routes(backend: Any, api_id: str, paths: dict[str, Any]) -> None:
    """Resources, methods and integrations for Swagger 2.0 `paths`."""
    root = next(r for r in backend.get_resources(api_id) if r.path_part == "/" or r.get_path() == "/")
    ids = {"": root.id}
    for path, methods in paths.items():
        parent = ""
        for part in [p for p in path.split("/") if p]:
            here = f"{parent}/{part}"
            if here not in ids:
                ids[here] = backend.create_resource(api_id, ids[parent], part).id
            parent = here
        for method, spec in methods.items():
            if method.startswith("x-") or not isinstance(spec, dict):
                continue
            backend.put_method(api_id, ids[parent], method.upper(), authorization_type="NONE")
            integration = spec.get("x-amazon-apigateway-integration")
            if integration:
                backend.put_integration(
                    api_id,
                    ids[parent],
                    method.upper(),
                    integration_type=integration["type"].upper(),
                    uri=str(integration.get("uri", "")),
                    integration_method=integration.get("httpMethod", "POST"),
                )


_SETTINGS = {
    "ThrottlingRateLimit": "throttling/rateLimit",
    "ThrottlingBurstLimit": "throttling/burstLimit",
    "MetricsEnabled": "metrics/enabled",
    "LoggingLevel": "logging/loglevel",
    "DataTraceEnabled": "logging/dataTrace",
}


def _method_setting_operations(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """UpdateStage patch operations for CloudFormation's MethodSettings ("/*" + "*" -> "/*/*/...")."""
    operations = []
    for setting in settings:
        path = setting.get("ResourcePath", "/*").lstrip("/").replace("/", "~1") or "*"
        method = setting.get("HttpMethod", "*")
        for key, suffix in _SETTINGS.items():
            if key in setting:
                value = setting[key]
                text = str(value).lower() if isinstance(value, bool) else str(value)
                operations.append({"op": "replace", "path": f"/{path}/{method}/{suffix}", "value": text})
    return operations
