"""tap-lint at ``cdk synth``: a CDK policy validation plugin.

    from aws_cdk import App, Validations
    from tap_lint_cdk import TapLint

    app = App()
    ...
    Validations.of(app).add_plugins(TapLint())

CDK hands the plugin every synthesized template; it runs the tap-lint binary on them with
``--format json`` and returns each finding as a violation: rule name (the code, e.g. ``TAP201``,
so ``Validations.of(scope).acknowledge`` takes ``tap-lint::TAP201``), description (the rule's
name and the finding's message), fix, severity, and the resource's logical ID, template and
property path. CDK then prints its validation report and fails the synthesis when the report is
not a success: here, when a finding is at or above ``fail_on``. (When the app acknowledges any
of these violations, CDK recomputes success itself as "no error left", ignoring ``fail_on``.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any, Dict, List, Optional, Sequence

import jsii

try:  # aws-cdk-lib 2.2xx: the stable interface, registered with Validations.of(app).add_plugins
    from aws_cdk import IPolicyValidationPlugin as _Plugin
    from aws_cdk import PolicyValidationPluginReport as _Report
    from aws_cdk import PolicyViolatingResource as _Resource
    from aws_cdk import PolicyViolation as _Violation
except ImportError:  # older 2.x: App(policy_validation_beta1=[TapLint()])
    from aws_cdk import IPolicyValidationPluginBeta1 as _Plugin
    from aws_cdk import PolicyValidationPluginReportBeta1 as _Report
    from aws_cdk import PolicyViolatingResourceBeta1 as _Resource
    from aws_cdk import PolicyViolationBeta1 as _Violation

__all__ = ["TapLint", "TapLintError"]

_SEVERITIES = ("info", "warning", "error")
_FAIL_ON = ("info", "warning", "error", "never")


class TapLintError(RuntimeError):
    """tap-lint could not be run, or could not read a template (CDK reports the plugin as failed)."""


@jsii.implements(_Plugin)
class TapLint:
    """The tap-lint validation plugin.

    :param fail_on: lowest severity that fails the synthesis: ``error`` (default), ``warning``,
        ``info`` or ``never`` (report only). Findings below it are still in the report.
    :param args: more tap-lint options, e.g. ``["--config", "ci/.tap-lint.yaml"]`` or
        ``["--env-suffix", "pr42"]``; a ``.tap-lint.yaml`` found from the working directory up
        applies as on the command line.
    :param binary: the tap-lint executable; default ``$TAP_LINT_BIN``, else ``tap-lint`` next
        to the running Python (where the ``tap-lint`` wheel installs it), else on ``PATH``.
    """

    def __init__(self, *, fail_on: str = "error", args: Sequence[str] = (), binary: Optional[str] = None) -> None:
        if fail_on not in _FAIL_ON:
            raise ValueError(f"fail_on must be one of {', '.join(_FAIL_ON)}, not {fail_on!r}")
        self._fail_on = fail_on
        self._args = list(args)
        self._binary = binary or os.environ.get("TAP_LINT_BIN") or _find_binary()
        self._version: Optional[str] = None

    @property
    def name(self) -> str:
        return "tap-lint"

    @property
    def version(self) -> Optional[str]:
        # Never raises: CDK reads it while reporting that validate() failed, too.
        if self._version is None:
            try:
                out = self._run(["--version"]).stdout.split()
            except TapLintError:
                return None
            self._version = out[-1] if out else "0.0.0"
        return self._version

    @property
    def rule_ids(self) -> Optional[List[str]]:
        return None

    def validate(self, context: Any) -> Any:
        # A stack without resources (only CDK's BootstrapVersion parameter) is no CloudFormation
        # template to tap-lint, which would report it as an error: there is nothing to check.
        paths = [p for p in context.template_paths if _has_resources(p)]
        if not paths:
            return _Report(success=True, violations=[], plugin_version=self.version)
        proc = self._run(["--format", "json", "--fail-on", "never", *self._args, "--", *paths])
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError as e:
            raise TapLintError(f"{self._binary} exited {proc.returncode} without a JSON report: "
                               f"{proc.stderr.strip() or e}") from None
        if report.get("errors"):
            problems = "; ".join(f"{e['file']}: {e['message']}" for e in report["errors"])
            raise TapLintError(f"tap-lint could not lint every template: {problems}")
        if proc.returncode != 0:
            raise TapLintError(f"tap-lint exited {proc.returncode}: {proc.stderr.strip()}")
        findings = report["findings"]
        return _Report(
            success=not any(self._fails(f["severity"]) for f in findings),
            violations=[_violation(f) for f in findings],
            plugin_version=self.version,
            metadata={"summary": json.dumps(report["summary"], sort_keys=True), "fail_on": self._fail_on},
        )

    def _fails(self, severity: str) -> bool:
        return self._fail_on != "never" and _SEVERITIES.index(severity) >= _SEVERITIES.index(self._fail_on)

    def _run(self, args: List[str]) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([self._binary, *args], capture_output=True, text=True, check=False)
        except OSError as e:
            raise TapLintError(f"cannot run tap-lint ({self._binary}): {e}; `pip install tap-lint` "
                               "or pass binary=...") from None


def _violation(finding: Dict[str, Any]) -> Any:
    # The fix is said as tap-lint says it; `tap-lint --fix` itself is not offered: the next
    # synth would undo a fixed template, so the change belongs in the CDK source.
    fix = finding.get("fix")
    metadata = {"tap-lint rule": finding["name"], "line": f"{finding['file']}:{finding['line']}:{finding['column']}",
                "explain": f"tap-lint explain {finding['code']}"}
    if fix:
        metadata["fix applicability"] = fix["applicability"]
    return _Violation(
        rule_name=finding["code"],
        description=f"{finding['name']}: {finding['message']}",
        fix=fix["title"] if fix else None,
        severity=finding["severity"],
        rule_metadata=metadata,
        violating_resources=[_Resource(
            resource_logical_id=finding.get("resource") or None,
            template_path=os.path.abspath(finding["file"]),
            locations=[_location(finding["pointer"], finding.get("resource"))],
        )],
    )


def _location(pointer: str, resource: Optional[str]) -> str:
    """A JSON pointer as CDK's dotted location, relative to the resource: Properties.A.0.B."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if resource and parts[:2] == ["Resources", resource]:
        parts = parts[2:]
    return ".".join(parts)


def _has_resources(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return bool(json.load(f).get("Resources"))
    except (OSError, ValueError, AttributeError):
        return True  # let tap-lint report what is wrong with it


def _find_binary() -> str:
    here = os.path.dirname(sys.executable)
    exe = "tap-lint.exe" if os.name == "nt" else "tap-lint"
    if os.access(os.path.join(here, exe), os.X_OK):
        return os.path.join(here, exe)
    return shutil.which("tap-lint") or "tap-lint"
