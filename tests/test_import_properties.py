"""Property test: whatever the workspace holds and whatever the rules, a plan is applied without a name
clash, gives each bundle asset the place its action says, and touches nothing else."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from import_helpers import PNG, add_design_assets, plan_for
from memworkspace import MemoryWorkspace
from programkit import rules as R
from programkit.apply import apply_plan

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "op-lead-management"
NAMES = {"emailTemplate": "Quick Start Email Template", "image": "logo.png", "landingPageTemplate": "Simple LP"}

existing = st.lists(st.tuples(st.sampled_from(sorted(NAMES)), st.integers(0, 3), st.booleans()), max_size=8)
rule_sets = st.fixed_dictionaries({rule: st.sampled_from(opts) for rule, opts in R.OPTIONS.items()
                                   if rule != "programTags"} | {"reuseIdentical": st.booleans()})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(existing=existing, flags=rule_sets)
def test_any_workspace_any_rules(tmp_path_factory, existing, flags):
    bundle_dir = tmp_path_factory.mktemp("b") / "bundle"
    shutil.copytree(SAMPLE, bundle_dir)
    add_design_assets(bundle_dir)
    bundle_bytes = {k: (bundle_dir / p).read_bytes() for k, p in (
        ("emailTemplate", "design-studio/quick-start-email-template.html"), ("image", "design-studio/logo.png"),
        ("landingPageTemplate", "design-studio/simple-lp.html"))}
    ws = MemoryWorkspace()
    for kind, n, same in existing:
        name = NAMES[kind] if n == 0 else R.copy_name(kind, NAMES[kind], n)
        if name not in ws.design(kind):
            ws.add_design(kind, name, bundle_bytes[kind] if same else PNG + name.encode())
    before = {k: ws.design(k) for k in NAMES}
    state = copy.deepcopy(ws.state)
    plan, bundle = plan_for(bundle_dir, ws, flags=flags)
    if not plan.ok:
        assert {p.code for p in plan.problems} <= {"PK513", "PK515"}
        return
    apply_plan(plan, bundle, ws)
    assert ws.state["rev"] > state["rev"]
    for kind, name in NAMES.items():
        (act,) = [a for a in plan.actions if a.kind == kind]
        after = ws.design(kind)
        if act.action in ("create", "replace"):
            assert after[name] == bundle_bytes[kind]
        elif act.action == "rename":
            assert act.as_name not in before[kind] and after[act.as_name] == bundle_bytes[kind]
            n = int(act.as_name.rsplit(" - ", 1)[1].split(".")[0])
            assert all(R.copy_name(kind, name, k) in before[kind] for k in range(1, n))
        else:
            assert act.action == "reuse" and after[name] == before[kind][name]
        untouched = {k: v for k, v in before[kind].items() if not (act.action == "replace" and k == name)}
        assert {k: after[k] for k in untouched} == untouched
