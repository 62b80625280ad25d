"""`rehearsal-report.json` and `rehearsal-summary.md`: each deployment's steps, timings, AWS calls and
events, and the differences from what the emulation does in the same scenario.

The emulation's side is `emulation-reference.json`: each scenario's shape (how it ended, its steps, the
sequence of Beanstalk event statuses per environment role, the AWS operations the controller used), taken
from the rehearsal's run against the sandbox. `make test` runs that rehearsal and holds it to the file, so
the reference says what the emulation does today. Counts and timings differ between any two runs and are
shown side by side, not as differences.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .scenarios import DeploymentRun


def deployment_entry(
    run: DeploymentRun,
    steps: list[dict[str, Any]],
    calls: dict[str, Any] | None,
    events: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "scenario": run.scenario,
        "id": run.deployment_id,
        "expected": run.expected,
        "outcome": run.outcome,
        "as_expected": run.as_expected,
        "version_label": run.record.get("version_label"),
        "seconds": round((run.ended_ms - run.started_ms) / 1000, 1),
        "steps": steps,
        "aws_calls": calls,
        "events": events,
        "error": run.record.get("error"),
        "digest": run.record.get("digest"),
        "client": [
            {"command": ran.command[3:], "exit": ran.code, "seconds": round(ran.seconds, 1)}
            for ran in run.commands  # [python, -m, controller.client, ...]: the client's own arguments
        ],
    }


def shape(entry: dict[str, Any]) -> dict[str, Any]:
    """What of a deployment any run of the same scenario should repeat."""
    return {
        "outcome": entry["outcome"],
        "steps": [[step["name"], step["status"]] for step in entry["steps"]],
        "events": [[event["role"], event["status"]] for event in entry["events"] if event["role"] != "other"],
        "operations": sorted((entry["aws_calls"] or {}).get("by_operation", {})),
    }


def differences(entry: dict[str, Any], reference: dict[str, Any] | None) -> list[str]:
    """How this deployment's shape differs from the emulation's for the same scenario (empty: it does not)."""
    if reference is None:
        return ["the emulation's reference has no such scenario"]
    mine = shape(entry)
    found = []
    if mine["outcome"] != reference["outcome"]:
        found.append(f"ended {mine['outcome']}; the emulation's ended {reference['outcome']}")
    if mine["steps"] != reference["steps"]:
        found.append(f"steps {_pairs(mine['steps'])}; the emulation's {_pairs(reference['steps'])}")
    missing = [e for e in reference["events"] if e not in mine["events"]]
    extra = [e for e in mine["events"] if e not in reference["events"]]
    if missing:
        found.append(f"events the emulation sent and this run did not: {_pairs(missing)}")
    if extra:
        found.append(f"events this run had and the emulation does not send: {_pairs(extra)}")
    if mine["operations"] and reference["operations"]:
        only_here = sorted(set(mine["operations"]) - set(reference["operations"]))
        only_there = sorted(set(reference["operations"]) - set(mine["operations"]))
        if only_here:
            found.append(f"AWS operations the emulation's run did not need: {', '.join(only_here)}")
        if only_there:
            found.append(f"AWS operations only the emulation's run used: {', '.join(only_there)}")
    return found


def load_reference(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def write_reference(path: Path, entries: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({e["scenario"]: shape(e) for e in entries}, indent=2) + "\n", encoding="utf-8")


def summary(report: dict[str, Any]) -> str:
    """The report as a person reads it (Markdown)."""
    head = report["rehearsal"]
    lines = [
        f"# Rehearsal {head['prefix']} against {head['target']}",
        "",
        f"Image {head['image']}, tags {head['good_tag']} (good), {head['good_tag']}-broken (broken), "
        f"{head['held_tag']} (held); {head['started']} to {head['finished']}.",
        "",
        "Provisioning: "
        + ", ".join(f"{what} {seconds:.0f} s" for what, seconds in report["provisioning"].items()),
    ]
    if head.get("stopped"):
        lines += ["", f"Stopped early: {head['stopped']}"]
    for number, entry in enumerate(report["deployments"], 1):
        verdict = "as expected" if entry["as_expected"] else f"expected {entry['expected']}"
        lines += [
            "",
            f"## {number}. {entry['scenario']}: {entry['id'] or '(not created)'} {entry['outcome']} "
            f"({verdict}) in {entry['seconds']:.0f} s",
            "",
        ]
        if entry.get("error"):
            lines += [f"Error: {entry['error']}", ""]
        lines += ["| step | status | took | detail |", "|---|---|---|---|"]
        for step in entry["steps"]:
            took = "" if step["seconds"] is None else f"{step['seconds']:.1f} s"
            lines.append(f"| {step['name']} | {step['status']} | {took} | {_cell(step['detail'])} |")
        calls = entry["aws_calls"]
        lines += [
            "",
            "AWS calls: "
            + (
                "not in the controller's logs"
                if calls is None
                else f"{calls['total']} ("
                + ", ".join(f"{op} {n}" for op, n in calls["by_operation"].items())
                + ")"
            ),
        ]
        lines += ["", f"Beanstalk's events ({len(entry['events'])}):"]
        lines += [
            f"- {e['time']} {e['role']} {e['status']} {e['severity']}: {e['message']}"
            for e in entry["events"]
        ]
        found = entry["differences"]
        lines += ["", "Differences from the emulation:" + (" none" if not found else "")]
        lines += [f"- {difference}" for difference in found]
    teardown = report["teardown"]
    lines += ["", "## Teardown", ""]
    if teardown["kept"]:
        lines.append("Kept (--keep). To remove it: " + teardown["how_to_remove"])
    elif teardown["failures"]:
        lines += ["Could not delete, delete by hand:"] + [f"- {failure}" for failure in teardown["failures"]]
    else:
        lines.append("Everything the rehearsal created was deleted.")
    return "\n".join(lines) + "\n"


def _pairs(items: list[list[str]]) -> str:
    return "[" + ", ".join(": ".join(str(part) for part in item) for item in items) + "]"


def _cell(text: Any) -> str:
    return "" if not text else str(text).replace("|", "/").replace("\n", " ")[:120]
