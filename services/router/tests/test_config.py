"""`.rig-agent.yaml`: parsed, validated against the published schema, turned into the state machine's policy."""

from pathlib import Path

import pytest

from rig_router.config import ConfigReading, RepoConfig, matched_escalations, parse, policy_for
from rig_router.config_schema import DOC_NAME, document, main

ROOT = Path(__file__).resolve().parents[3]

FULL = """
stack: node
tools: [firebase-tools, jq]
testCommand: npm test
buildCommand: npm run build
escalate:
  - "needs Xcode (requires-macos)"
  - "needs a designer"
maxReviewRounds: 2
maxFixAttempts: 4
budget: {perIssueUsd: 5, perDayUsd: 50}
"""


def test_a_full_file_reads_with_every_key():
    reading = parse(FULL)
    assert reading.problems == ()
    assert reading.config == RepoConfig(stack="node", tools=("firebase-tools", "jq"), test_command="npm test",
                                        build_command="npm run build",
                                        escalate=("needs Xcode (requires-macos)", "needs a designer"),
                                        max_review_rounds=2, max_fix_attempts=4,
                                        budget={"perIssueUsd": 5, "perDayUsd": 50})
    assert RepoConfig.from_json(reading.config.to_json()) == reading.config


def test_an_empty_file_is_the_defaults():
    assert parse("").config == RepoConfig()
    assert parse("stack: python\n").config == RepoConfig(stack="python")


@pytest.mark.parametrize(("text", "said"), [
    ("stack: rust\n", "`stack`: 'rust' is not a stack we have agents for; use one of node, dotnet, python, ios, base"),
    ("stack: node\nstak: python\n", "unknown key `stak`; the keys allowed here are `stack`"),
    ("maxReviewRounds: 0\n", "`maxReviewRounds`: 0 is less than the minimum of 1"),
    ("tools: firebase\n", "`tools`: 'firebase' is not of type 'array'"),
    ("budget: {perMonthUsd: 3}\n", "budget: unknown key `perMonthUsd`"),
    ("stack: [node\n", "is not valid YAML at line 2"),
    ("- node\n", "must be a mapping of keys"),
])
def test_each_problem_is_said_with_where_and_how_to_fix(text, said):
    reading = parse(text)
    assert reading.config is None
    assert any(said in problem for problem in reading.problems), reading.problems


def test_every_problem_is_reported_not_just_the_first():
    assert len(parse("stack: rust\ncolour: blue\nmaxFixAttempts: -1\n").problems) == 3


def test_escalate_phrases_match_title_body_or_label_without_their_annotation():
    phrases = ["needs Xcode (requires-macos)", "Needs a designer"]
    assert matched_escalations(phrases, "Build fails", "it needs xcode 16", ()) == [phrases[0]]
    assert matched_escalations(phrases, "This needs a designer", "", ()) == [phrases[1]]
    assert matched_escalations(phrases, "", "", ("needs a designer",)) == [phrases[1]]
    assert matched_escalations(phrases, "Fix the cart", "", ("bug",)) == []


def test_policy_blocks_escalates_or_routes():
    bad = policy_for(parse("stack: rust\n"), "t", "", ())
    assert bad.config_error is not None and "`.rig-agent.yaml` is invalid" in bad.config_error
    config = parse(FULL)
    assert policy_for(config, "Fix the cart", "", ()).agent_for("node") == "dev-e-node"
    macos = policy_for(config, "Needs Xcode to build", "", ())
    assert macos.requires_macos and macos.escalation is None and macos.agent_for("node") == "ibuild-e"
    people = policy_for(config, "Logo", "this needs a designer", ())
    assert people.escalation is not None and "needs a designer" in people.escalation
    assert policy_for(ConfigReading(RepoConfig()), "t", "", ()).stack == "base"
    assert policy_for(config, "t", "", ()).max_review_rounds == 2


def test_the_published_schema_file_is_up_to_date(tmp_path):
    assert (ROOT / "docs" / DOC_NAME).read_text() == document()
    assert main(["--check", "--docs", str(tmp_path)]) == 1
    assert main(["--docs", str(tmp_path)]) == 0
    assert main(["--check", "--docs", str(tmp_path)]) == 0
