"""The fake Messages API picks its script by the latest prompt, and its step by the tool results after it."""

from typing import Any

from rig_testing.fake_anthropic import FakeAnthropic
from rig_testing.model_script import Say, Shell, Step

REVIEW: list[Step] = [Say("verdict")]
WORK: list[Step] = [Shell("touch a"), Say("done")]


def fake() -> FakeAnthropic:
    return FakeAnthropic(script=WORK, by_prompt=[("You are reviewing", REVIEW)])


def prompt(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def tool_result() -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "ok"}]}


def test_a_prompt_with_a_marker_gets_its_script():
    assert fake().step_for({"messages": [prompt("You are reviewing pull request #3")]}) == REVIEW[0]


def test_other_prompts_get_the_default_script_step_by_step():
    first = {"messages": [prompt("Implement #1")]}
    after_tool = {"messages": [prompt("Implement #1"), {"role": "assistant", "content": []}, tool_result()]}
    assert fake().step_for(first) == WORK[0]
    assert fake().step_for(after_tool) == WORK[1]


def test_a_resumed_session_is_routed_by_its_newest_prompt():
    resumed = {"messages": [prompt("Implement #1"), {"role": "assistant", "content": []},
                            prompt("You are reviewing it now")]}
    assert fake().step_for(resumed) == REVIEW[0]
