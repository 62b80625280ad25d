"""The small edges: configuration, signatures, the source bundle, the health check over a proxy, the
requeue message, the secret's cache."""

from __future__ import annotations

import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError
from controller_harness import ENV, SECRET, World, aws_client

from controller.client import signing
from controller.core.config import ConfigError, load
from controller.shell import aws_errors, bundle, http_check
from controller.shell.aws_errors import ErrorKind
from controller.shell.tick_queue import SqsTickQueue, TickMessage

BASE = {
    "EB_APPLICATION": "shop",
    "PROD_CNAME_PREFIX": "shop",
    "ARTIFACT_BUCKET": "b",
    "DEPLOYMENTS_TABLE": "t",
    "RECONCILE_QUEUE": "q",
    "SIGNING_SECRET": "s",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


def test_configuration_defaults_follow_the_contract() -> None:
    config = load(BASE)
    assert config.accepted_health == {"Green"}
    assert (config.deploy_timeout_s, config.poll_interval_s) == (1200, 15)
    assert (config.health_grace_s, config.smoke_window_s, config.verify_window_s) == (120, 60, 300)
    assert config.dns_ttl_s == 60  # Beanstalk's CNAME records' TTL
    assert load({**BASE, "DNS_TTL_S": "0"}).dns_ttl_s == 0
    assert config.preprod_cname_prefix is None
    assert config.prod_cname == "shop.eu-west-1.elasticbeanstalk.com"
    assert load({**BASE, "ACCEPTED_HEALTH": "Green, Yellow"}).accepted_health == {"Green", "Yellow"}
    assert load({**BASE, "ACCEPTED_HEALTH": "Yellow,Green"}).accepted_health == {"Green", "Yellow"}
    assert load({**BASE, "HEALTH_GRACE_S": "0", "PREPROD_CNAME_PREFIX": "shop-staging"}).health_grace_s == 0
    assert [c.name for c in config.analysis_checks] == ["5xx-rate", "p99-latency"]
    assert (config.drain_max_requests, config.drain_window_s, config.drain_timeout_s) == (0, 120, 1800)
    assert config.metrics_period_s == 60  # ALB metrics are per minute
    assert config.lease_ttl_s >= config.drain_timeout_s, "the lease outlives the longest drain"


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"EB_APPLICATION": ""}, "EB_APPLICATION"),
        ({"DEPLOYMENTS_TABLE": None}, "DEPLOYMENTS_TABLE"),
        ({"ACCEPTED_HEALTH": "Green,Purple"}, "ACCEPTED_HEALTH"),
        ({"ACCEPTED_HEALTH": "Red,Grey"}, "ACCEPTED_HEALTH"),
        ({"ACCEPTED_HEALTH": "Green,Red"}, "ACCEPTED_HEALTH"),
        ({"ACCEPTED_HEALTH": "Yellow"}, "ACCEPTED_HEALTH"),
        ({"HEALTH_GRACE_S": "two minutes"}, "HEALTH_GRACE_S"),
        ({"SMOKE_WINDOW_S": "0"}, "SMOKE_WINDOW_S"),
        ({"VERIFY_WINDOW_S": "-5"}, "VERIFY_WINDOW_S"),
        ({"DNS_TTL_S": "1m"}, "DNS_TTL_S"),
        ({"DNS_TTL_S": "3601"}, "DNS_TTL_S"),
        ({"PREPROD_CNAME_PREFIX": "shop staging"}, "PREPROD_CNAME_PREFIX"),
        ({"EB_APPLICATION": "shop\n"}, "EB_APPLICATION"),
        ({"DEPLOY_TIMEOUT_S": "soon"}, "DEPLOY_TIMEOUT_S"),
        ({"POLL_INTERVAL_S": "0"}, "POLL_INTERVAL_S"),
        ({"POLL_INTERVAL_S": "901"}, "POLL_INTERVAL_S"),
        ({"SIGNING_SECRET": None}, "SIGNING_SECRET_PARAM"),
        ({"REGISTRY_AUTH_KEY": "dockercfg.json"}, "REGISTRY_AUTH_KEY"),
        ({"REGISTRY_AUTH_KEY": "registry/../deployments.json"}, "REGISTRY_AUTH_KEY"),
        ({"DRAIN_MAX_REQUESTS": "-1"}, "DRAIN_MAX_REQUESTS"),
        ({"DRAIN_MAX_REQUESTS": "a few"}, "DRAIN_MAX_REQUESTS"),
        ({"DRAIN_WINDOW_S": "60"}, "DRAIN_WINDOW_S=60 must be at least twice METRICS_PERIOD_S=60"),
        ({"DRAIN_TIMEOUT_S": "100"}, "DRAIN_TIMEOUT_S=100 must be at least DRAIN_WINDOW_S=120"),
        ({"METRICS_PERIOD_S": "45"}, "METRICS_PERIOD_S='45' must be one of 1, 5, 10, 30, 60"),
        ({"ANALYSIS_CHECKS": "5xx<1%"}, r"ANALYSIS_CHECKS: not JSON"),
        ({"ANALYSIS_CHECKS": '{"name": "5xx-rate"}'}, "ANALYSIS_CHECKS: expected a JSON list of checks"),
        (
            {"ANALYSIS_CHECKS": '[{"name": "5xx-rate", "max_pct": 2}]'},
            r"check 1 \(5xx-rate\): unknown key 'max_pct'",
        ),
        ({"ANALYSIS_CHECKS": '[{"name": "x", "alarm": ""}]'}, r"check 1 \(x\): \"alarm\" must be"),
        ({"ANALYSIS_CHECKS": '[{"name": "x"}]'}, r"check 1 \(x\): a new check needs \"metric\" or \"alarm\""),
        (
            {"ANALYSIS_CHECKS": '[{"name": "x", "metric": {"namespace": "N", "name": "M"}}]'},
            r"check 1 \(x\): give \"max\" and/or \"min\"",
        ),
        (
            {
                "ANALYSIS_CHECKS": '[{"name": "x", "max": 1, '
                '"metric": {"namespace": "N", "name": "M", "stat": "p1000"}}]'
            },
            r"\"stat\" must be one of",
        ),
        (
            {"ANALYSIS_CHECKS": '[{"name": "p99-latency", "percentile": "99"}]'},
            r"\"percentile\" must look like p99",
        ),
        ({"ANALYSIS_CHECKS": '[{"name": "a", "alarm": "x"}, {"name": "a", "alarm": "y"}]'}, "used twice"),
        ({"ANALYSIS_CHECKS": '[{"name": "mine", "enabled": false}]'}, "turns off a default check"),
    ],
)
def test_a_bad_configuration_names_the_variable(change: dict[str, str | None], variable: str) -> None:
    environ = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(ConfigError, match=variable):
        load(environ)


def test_signatures_cover_time_method_path_and_body() -> None:
    body = b'{"a": 1}'
    header = signing.sign("k", 1000, "POST", "/deployments", body)
    assert signing.verify("k", "1000", header, "POST", "/deployments", body, now=1000) is None
    assert signing.verify("k", "1000", header, "POST", "/deployments", body, now=1300) is None
    assert "stale" in (signing.verify("k", "1000", header, "POST", "/deployments", body, now=1301) or "")
    for method, path, payload in [
        ("GET", "/deployments", body),
        ("POST", "/x", body),
        ("POST", "/deployments", b""),
    ]:
        assert (
            signing.verify("k", "1000", header, method, path, payload, now=1000) == "signature does not match"
        )
    assert (
        signing.verify("k2", "1000", header, "POST", "/deployments", body, now=1000)
        == "signature does not match"
    )
    replayed = signing.verify("k", "1200", header, "POST", "/deployments", body, now=1200)
    assert replayed == "signature does not match", "a signature replayed under a fresh timestamp"


def test_a_version_description_stays_within_beanstalks_200_characters() -> None:
    image = "registry.example.com:5000/" + "/".join(["team"] * 40)
    assert len(bundle.version_description(image, "1.0.0")) == 200
    assert bundle.version_description("docker.io/acme/app", "1.0") == "docker.io/acme/app:1.0"


def test_the_source_bundle_runs_the_image_and_carries_no_configuration_files() -> None:
    """.ebextensions would make every deployment a configuration update of the environment's stack (far
    more permissions downstream); the environments set /health as their health check themselves."""
    data = bundle.source_bundle("docker.io/acme/app", "1.2.3")
    archive = zipfile.ZipFile(io.BytesIO(data))
    dockerrun = json.loads(archive.read("Dockerrun.aws.json"))
    assert dockerrun["AWSEBDockerrunVersion"] == "1"
    assert dockerrun["Image"] == {"Name": "docker.io/acme/app:1.2.3", "Update": "true"}
    assert dockerrun["Ports"] == [{"ContainerPort": "8080"}]
    assert archive.namelist() == ["Dockerrun.aws.json"]
    assert data == bundle.source_bundle("docker.io/acme/app", "1.2.3"), "the same image gives the same bytes"
    assert "Authentication" not in dockerrun, "a public image needs no registry credentials"


def test_a_private_image_bundle_names_the_registry_credentials_the_instances_pull_with() -> None:
    config = load({**BASE, "REGISTRY_AUTH_KEY": "registry/dockercfg.json"})
    assert config.registry_auth_key == "registry/dockercfg.json"
    data = bundle.source_bundle("registry.example.com/acme/app", "1.2.3", ("b", config.registry_auth_key))
    dockerrun = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("Dockerrun.aws.json"))
    assert dockerrun["Authentication"] == {"Bucket": "b", "Key": "registry/dockercfg.json"}
    assert dockerrun["Image"]["Name"] == "registry.example.com/acme/app:1.2.3"


class _Proxy(http.server.BaseHTTPRequestHandler):
    """An HTTP proxy that answers every request itself and remembers the absolute URL it was asked for."""

    seen: list[str] = []

    def do_GET(self) -> None:
        _Proxy.seen.append(self.path)
        body = json.dumps({"status": "ok", "version": "7.7.7"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_health_check_goes_through_http_proxy(monkeypatch: pytest.MonkeyPatch, proxy: str) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "localhost")
    check = http_check.health("http://shop-green.us-east-1.elasticbeanstalk.com/health")
    assert (check.status, check.version, check.error) == (200, "7.7.7", None)
    assert _Proxy.seen[-1] == "http://shop-green.us-east-1.elasticbeanstalk.com/health"


def test_an_unreachable_environment_is_an_observation_not_an_exception() -> None:
    check = http_check.health("http://127.0.0.1:9/health")
    assert check.status is None and check.error is not None and "unreachable" in check.error


def test_a_requeued_tick_is_a_delayed_sqs_message_naming_the_deployment(world: World) -> None:
    real = SqsTickQueue(world.rt.client("sqs"), world.rt.config.reconcile_queue)
    real.send(TickMessage("d-1"), 5000)
    real.send(TickMessage("d-2"), 0)
    sqs = aws_client("sqs")
    url = sqs.get_queue_url(QueueName=ENV["RECONCILE_QUEUE"])["QueueUrl"]
    visible = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in visible]  # d-1 is delayed (at most 900 s)
    assert [b["deployment_id"] for b in bodies] == ["d-2"] and isinstance(bodies[0]["chain"], str)
    assert world.calls["sqs.GetQueueUrl"] == 1


def test_the_secret_is_read_from_ssm_once_per_container_and_never_logged(
    world: World, controller_log: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        assert world.request("GET", "/deployments").status_code == 200
    assert world.request("GET", "/deployments", key="wrong").status_code == 401
    assert world.calls["ssm.GetParameter"] == 1
    assert world.rt.signing_secret() == SECRET
    ours = [r.getMessage() for r in controller_log.records if r.name.startswith("deliverypipeline")]
    assert ours and not any(SECRET in line for line in ours)
    assert SECRET not in capsys.readouterr().out


def _client_error(code: str, message: str = "m", status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (_client_error("Throttling", "Rate exceeded"), ErrorKind.THROTTLED),
        (_client_error("ProvisionedThroughputExceededException"), ErrorKind.THROTTLED),
        (_client_error("TransactionCanceledException"), ErrorKind.THROTTLED),
        (_client_error("ServiceUnavailable", status=503), ErrorKind.UNKNOWN),
        (_client_error("InternalFailure", status=500), ErrorKind.UNKNOWN),
        (_client_error("Whatever", status=502), ErrorKind.UNKNOWN),
        (ReadTimeoutError(endpoint_url="https://x"), ErrorKind.UNKNOWN),
        (EndpointConnectionError(endpoint_url="https://x"), ErrorKind.UNKNOWN),
        (
            _client_error(
                "InvalidParameterValue",
                "Environment named g is in an invalid state for this operation. Must be Ready.",
            ),
            ErrorKind.BUSY,
        ),
        (_client_error("OperationInProgressFailure"), ErrorKind.BUSY),
        (_client_error("AccessDenied", status=403), ErrorKind.REFUSED),
        (_client_error("AWS.SimpleQueueService.NonExistentQueue"), ErrorKind.REFUSED),
        (
            _client_error("InvalidParameterValue", "No Application Version named 'x' found."),
            ErrorKind.REFUSED,
        ),
        (NoCredentialsError(), ErrorKind.REFUSED),
    ],
)
def test_aws_errors_are_classified_once(error: Exception, kind: ErrorKind) -> None:
    classified = aws_errors.classify(error, "Op")
    assert classified is not None and classified.kind is kind
    assert classified.transient is (kind in (ErrorKind.THROTTLED, ErrorKind.UNKNOWN))


def test_an_error_that_is_not_aws_s_is_not_classified() -> None:
    assert aws_errors.classify(KeyError("x")) is None


def test_an_unknown_lease_change_is_an_error_not_a_silent_forget_success(world: World) -> None:
    from controller_builders import queued

    from controller.shell.store import LeaseChange

    d = world.rt.store.create(queued())
    assert d is not None
    with pytest.raises(AssertionError):
        world.rt.store.save(d, world.clock(), LeaseChange("forget"))  # type: ignore[arg-type]


def test_a_record_stored_before_promote_and_bake_existed_loads_with_every_step() -> None:
    from controller_builders import T0, running_at

    from controller.core import records
    from controller.core.model import STEP_ORDER, StepName, StepStatus

    doc = records.to_document(running_at(StepName.SWAP))
    doc["steps"] = [s for s in doc["steps"] if s["name"] not in ("promote", "bake")]
    loaded = records.from_document(doc, 3)
    assert [s.name for s in loaded.steps] == list(STEP_ORDER)
    assert loaded.step(StepName.PROMOTE).status is StepStatus.SKIPPED  # swap had started
    assert loaded.step(StepName.BAKE).status is StepStatus.PENDING
    assert loaded.current_step is not None and loaded.current_step.name is StepName.SWAP
    assert records.from_document(records.to_document(loaded), 3) == loaded
    assert loaded.created_at == T0


def test_a_save_sent_twice_because_its_answer_was_lost_is_recognised_as_ours(world: World) -> None:
    """botocore re-sends a PutItem whose answer was lost; the second attempt fails its own condition, yet the
    write it reports as stale is ours: the store says saved, not StaleRecord."""
    import dataclasses

    from controller_builders import queued

    from controller.shell.store import StaleRecord

    store = world.rt.store
    created = store.create(queued())
    assert created is not None
    changed = dataclasses.replace(created, error="x")
    assert store.save(changed, world.clock()).record_version == 2
    assert store.save(changed, world.clock()).record_version == 2  # the same write again: ours
    with pytest.raises(StaleRecord):
        store.save(dataclasses.replace(created, error="another tick's"), world.clock())
