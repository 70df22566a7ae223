"""Shared fixtures: one synthesized stack per session (jsii start-up and synthesis dominate the
test time), built with the same cdk.json context that scripts/synth.sh passes."""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest  # noqa: E402

STACK_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = STACK_DIR.parent
FIXTURE = REPO_ROOT / "fixtures" / "reference-stack" / "TapStack.template.json"
sys.path.insert(0, str(STACK_DIR))

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

import tap_stack  # noqa: E402


def cdk_json_context() -> dict:
    return json.loads((STACK_DIR / "cdk.json").read_text())["context"]


def build_stack(context: dict | None = None, **stack_kwargs) -> tap_stack.TapStack:
    app = cdk.App(context={**cdk_json_context(), **(context or {})})
    # Always the placeholder unless a test says otherwise, so CI's PROCESSOR_ASSET_DIR (set for
    # the real synth) cannot change asset hashes under the tests.
    stack_kwargs.setdefault("processor_asset_dir", tap_stack.placeholder_asset_dir())
    return tap_stack.TapStack(
        app, "TapStack", env=cdk.Environment(region="us-east-1"), **stack_kwargs
    )


@pytest.fixture(scope="session")
def stack() -> tap_stack.TapStack:
    return build_stack()


@pytest.fixture(scope="session")
def template(stack) -> Template:
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def tpl(template) -> dict:
    """The synthesized template as plain JSON."""
    return template.to_json()
