"""Run a composite action's steps the way a GitHub runner does, as far as this action needs.

    python run-action.py ACTION_DIR REPORT.json [NAME=VALUE ...]

The inputs are NAME=VALUE pairs (defaults from action.yml for the rest). GITHUB_WORKSPACE and
RUNNER_TEMP come from the environment. Each `run:` step runs with `bash --noprofile --norc -eo
pipefail`, its `env:` evaluated, fresh GITHUB_OUTPUT / GITHUB_PATH files whose contents become
the step's outputs and the next steps' PATH, and one GITHUB_STEP_SUMMARY file; `if:` is
evaluated (default `success()`); a `uses:` step is not run but recorded with its evaluated
`with:`, so a test can check what upload-sarif would have been given. The expression language is
the subset action.yml uses: `inputs.X`, `steps.ID.outputs.X`, `github.action_path`, string
literals, `==`, `!=`, `&&`, `||`, `!`, `always()`, `success()`, `failure()`; anything else is an
error, never a guess. REPORT.json gets the steps (ran or skipped, exit status, outputs, or
`uses`/`with`), the action's outputs and whether the job failed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|"
                   r"(?P<fn>always|success|failure)\(\)|(?P<ref>[A-Za-z_][\w.-]*))")


def evaluate(expr, ctx):
    """Evaluate a GitHub expression of the subset above to a string or a bool."""
    pos, out = 0, []
    while pos < len(expr.rstrip()):
        m = TOKEN.match(expr, pos)
        if not m:
            raise SystemExit(f"run-action: cannot read expression {expr!r} at {expr[pos:]!r}")
        pos = m.end()
        if m["str"]:
            out.append(repr(m["str"][1:-1].replace("''", "'")))
        elif m["op"]:
            out.append({"&&": " and ", "||": " or ", "!": " not "}.get(m["op"], m["op"]))
        elif m["fn"]:
            out.append(repr({"always": True, "success": not ctx["failed"], "failure": ctx["failed"]}[m["fn"]]))
        else:
            out.append(repr(lookup(m["ref"], ctx)))
    return eval("".join(out), {"__builtins__": {}})  # only literals and operators are left


def lookup(ref, ctx):
    parts = ref.split(".")
    if parts[0] == "inputs" and len(parts) == 2:
        if parts[1] not in ctx["inputs"]:
            raise SystemExit(f"run-action: action.yml uses undeclared input {parts[1]!r}")
        return ctx["inputs"][parts[1]]
    if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
        return ctx["steps"].get(parts[1], {}).get(parts[3], "")
    if ref == "github.action_path":
        return ctx["action_path"]
    raise SystemExit(f"run-action: unsupported context {ref!r}")


def substitute(text, ctx):
    def one(m):
        value = evaluate(m[1], ctx)
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


def condition(step, ctx):
    expr = str(step.get("if", "success()")).strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2]
    if not re.search(r"\b(always|success|failure)\(\)", expr):
        expr = f"success() && ({expr})"  # as GitHub does
    return bool(evaluate(expr, ctx))


def read_pairs(path):
    """GITHUB_OUTPUT's NAME=VALUE lines (the NAME<<EOF form is not used by this action)."""
    pairs = {}
    with open(path) as f:
        for line in f.read().splitlines():
            if line:
                name, sep, value = line.partition("=")
                if not sep:
                    raise SystemExit(f"run-action: bad GITHUB_OUTPUT line {line!r}")
                pairs[name] = value
    return pairs


def main():
    action_dir, report_path, *pairs = sys.argv[1:]
    with open(os.path.join(action_dir, "action.yml")) as f:
        action = yaml.safe_load(f)
    assert action["runs"]["using"] == "composite", "not a composite action"
    declared = action.get("inputs", {})
    given = dict(p.split("=", 1) for p in pairs)
    unknown = set(given) - set(declared)
    if unknown:
        raise SystemExit(f"run-action: inputs not declared in action.yml: {sorted(unknown)}")
    inputs = {name: given.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}
    ctx = {"inputs": inputs, "steps": {}, "failed": False, "action_path": os.path.abspath(action_dir)}
    env = dict(os.environ, GITHUB_ACTION_PATH=ctx["action_path"])
    files = tempfile.mkdtemp(prefix="run-action-", dir=os.environ["RUNNER_TEMP"])
    env["GITHUB_STEP_SUMMARY"] = os.path.join(files, "step-summary.md")
    open(env["GITHUB_STEP_SUMMARY"], "w").close()
    report = {"steps": [], "step_summary": env["GITHUB_STEP_SUMMARY"]}
    for n, step in enumerate(action["runs"]["steps"]):
        entry = {"name": step.get("name", f"step {n}"), "id": step.get("id")}
        report["steps"].append(entry)
        entry["ran"] = condition(step, ctx)
        if not entry["ran"]:
            continue
        if "uses" in step:
            entry["uses"] = step["uses"]
            entry["with"] = {k: substitute(v, ctx) for k, v in step.get("with", {}).items()}
            continue
        assert step.get("shell") == "bash", f"{entry['name']}: only shell: bash is run here"
        out, path = os.path.join(files, f"output-{n}"), os.path.join(files, f"path-{n}")
        open(out, "w").close()
        open(path, "w").close()
        step_env = dict(env, GITHUB_OUTPUT=out, GITHUB_PATH=path)
        step_env.update({k: substitute(v, ctx) for k, v in step.get("env", {}).items()})
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(step["run"], ctx)],
                              env=step_env, cwd=env["GITHUB_WORKSPACE"], capture_output=True, text=True)
        entry.update(status=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, outputs=read_pairs(out))
        if step.get("id"):
            ctx["steps"][step["id"]] = entry["outputs"]
        with open(path) as f:
            for line in f.read().splitlines():
                env["PATH"] = line + os.pathsep + env["PATH"]
        if proc.returncode != 0:
            ctx["failed"] = True
    report["outputs"] = {k: substitute(v["value"], ctx) for k, v in action.get("outputs", {}).items()}
    report["failed"] = ctx["failed"]
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
