"""moto_ext's pytest plugin as another project uses it (pytester, in a pytest of its own): the fixtures in a
test file of that project, `--eb-fault busy` arming the fault in both, an unknown fault refused up front."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A stranger's tests: Beanstalk through its own boto3 clients, in-process and served alike.
STRANGER = """
import boto3
import pytest

STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"


@pytest.mark.parametrize("fixture", ["eb_aws", "eb_server"])
def test_a_deployment(fixture, request):
    emulation = request.getfixturevalue(fixture)
    eb = boto3.client("elasticbeanstalk")  # the code under test makes its own client
    eb.create_application(ApplicationName="app")
    eb.create_environment(ApplicationName="app", EnvironmentName="blue-env", SolutionStackName=STACK)
    emulation.backend.advance()
    assert eb.describe_environments()["Environments"][0]["Status"] == "Ready"
    eb.create_application_version(ApplicationName="app", VersionLabel="v2")

    eb.update_environment(EnvironmentName="blue-env", VersionLabel="v2")

    emulation.backend.advance()
    [env] = emulation.client("elasticbeanstalk").describe_environments()["Environments"]
    assert (env["Status"], env["VersionLabel"]) == ("Ready", "v2")


def test_the_served_one_has_an_endpoint_and_http_controls(eb_server):
    assert eb_server.endpoint_url.startswith("http://127.0.0.1:")
    assert eb_server.controls.set_timings(launch_s=7)["timings"]["launch_s"] == 7
"""


@pytest.fixture
def stranger(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the repository is not pip-installed
    pytester.makepyfile(test_stranger=STRANGER)
    return pytester


def test_the_fixtures_give_a_beanstalk_that_deploys(stranger: pytest.Pytester) -> None:
    result = stranger.runpytest_subprocess("-p", "moto_ext.pytest_plugin", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=3)
    result.stdout.no_fnmatch_line("*moto_ext: armed*")


def test_eb_fault_busy_arms_the_fault_in_both_fixtures(stranger: pytest.Pytester) -> None:
    result = stranger.runpytest_subprocess(
        "-p", "moto_ext.pytest_plugin", "-p", "no:cacheprovider", "--eb-fault", "busy"
    )

    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["moto_ext: armed in eb_aws and eb_server: busy"])
    refused = "Environment named blue-env is in an invalid state for this operation. Must be Ready."
    assert sum(refused in line for line in result.outlines if line.startswith("E ")) == 2


def test_an_unknown_fault_is_refused_before_any_test_runs(stranger: pytest.Pytester) -> None:
    result = stranger.runpytest_subprocess(
        "-p", "moto_ext.pytest_plugin", "-p", "no:cacheprovider", "--eb-fault", "bussy"
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--eb-fault: unknown fault 'bussy'; known faults: transient-red, *busy*"])
    result.stdout.no_fnmatch_line("*passed*")


def test_its_options_are_in_pytest_help(stranger: pytest.Pytester) -> None:
    result = stranger.runpytest_subprocess("-p", "moto_ext.pytest_plugin", "--help")

    result.stdout.fnmatch_lines(["*--eb-fault=NAME*"])
    assert "fails-after-swap" in result.stdout.str()
