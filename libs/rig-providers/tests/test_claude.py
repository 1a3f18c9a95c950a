"""The real Claude Code CLI, driven through ClaudeProvider against the scripted Messages API on loopback."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from providers_support import git_repo, json_lines, processes_in, run_to_end, run_watching, script_tokens

from rig_contracts.payloads import Usage
from rig_providers import (
    ClaudeOptions,
    ClaudeProvider,
    Limits,
    OutputLine,
    ProviderConfigError,
    RunRequest,
    RunResult,
    StopReason,
)
from rig_providers.prices import PriceTable
from rig_testing.coding_clis import CodingClis
from rig_testing.fake_anthropic import FakeAnthropic
from rig_testing.model_script import Say, Shell, Step, Tokens

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

API_KEY = "sk-ant-api03-test-key-that-must-never-be-logged"
MODEL = "claude-sonnet-4-5"


@pytest.fixture
def claude(coding_clis: CodingClis, fake_anthropic: FakeAnthropic, tmp_path: Path) -> ClaudeProvider:
    """Claude Code with its sessions in this test's folder, talking to the fake API."""
    return ClaudeProvider(ClaudeOptions(executable=str(coding_clis.claude), config_dir=tmp_path / "claude-config",
                                        base_url=fake_anthropic.url))


def request(tmp_path: Path, repo: Path, prompt: str, **kwargs: object) -> RunRequest:
    return RunRequest(prompt, repo, model=MODEL, env={"HOME": str(tmp_path / "home")},
                      secrets={"ANTHROPIC_API_KEY": API_KEY}, **kwargs)  # type: ignore[arg-type]


def as_usage(tokens: Tokens) -> Usage:
    return Usage(input_tokens=tokens.input, output_tokens=tokens.output, cache_read_tokens=tokens.cache_read,
                 cache_write_tokens=tokens.cache_write)


async def test_a_run_edits_the_repository_and_is_billed_as_its_result_line(
        claude: ClaudeProvider, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    fake_anthropic.script = [Shell("printf 'hello from claude\\n' > hello.txt"), Say("Wrote hello.txt.")]

    lines, result = await run_to_end(claude, request(tmp_path, repo, "Add hello.txt"))

    assert (repo / "hello.txt").read_text() == "hello from claude\n"
    assert result.stop_reason is StopReason.COMPLETED and not result.is_error, [line.text for line in lines][-5:]
    assert result.session_id and result.turns == 2 and result.final_text == "Wrote hello.txt."
    [final] = json_lines(lines, "result")
    raw = final["usage"]
    assert result.usage == Usage(input_tokens=raw["input_tokens"], output_tokens=raw["output_tokens"],
                                 cache_read_tokens=raw["cache_read_input_tokens"],
                                 cache_write_tokens=raw["cache_creation_input_tokens"])
    assert result.usage == as_usage(script_tokens(fake_anthropic.script))  # what the API reported, no more
    assert result.provider_cost_usd == Decimal(str(final["total_cost_usd"]))
    assert result.cost_usd is not None and abs(result.cost_usd - result.provider_cost_usd) < Decimal("1e-9")
    assert result.cost_basis == "api-equivalent" and result.model == MODEL
    # The key reached the API, and no line anyone sees holds it.
    assert {h.get("x-api-key") for h in fake_anthropic.headers} == {API_KEY}
    assert not any(API_KEY in line.text for line in lines)


async def test_a_resumed_run_is_billed_for_its_own_part_only(
        claude: ClaudeProvider, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    first_script: list[Step] = [Shell("echo one > one.txt"), Say("One.")]
    fake_anthropic.script = first_script
    _, first = await run_to_end(claude, request(tmp_path, repo, "Write one"))
    second_script: list[Step] = [
        Shell("echo two > two.txt", Tokens(input=2000, output=80, cache_read=9000, cache_write=700)),
        Say("Two.", Tokens(input=150, output=30, cache_read=11000, cache_write=50))]
    fake_anthropic.script = second_script

    lines, second = await run_to_end(claude, request(tmp_path, repo, "Now write two", session_id=first.session_id))

    assert second.session_id == first.session_id and second.resumed and (repo / "two.txt").exists()
    [final] = json_lines(lines, "result")
    assert second.usage == as_usage(script_tokens(second_script))
    own_price = PriceTable().cost_usd("anthropic", MODEL, second.usage)
    assert own_price is not None and second.cost_usd == own_price
    # The CLI's total covers the session; the run is billed only for its part of it.
    session_total = Decimal(str(final["total_cost_usd"]))
    assert first.provider_cost_usd is not None and second.provider_cost_usd is not None
    assert abs(second.provider_cost_usd - own_price) < Decimal("1e-9")
    assert abs(first.provider_cost_usd + second.provider_cost_usd - session_total) < Decimal("1e-9")
    assert second.provider_cost_usd < session_total


async def test_a_run_over_its_turn_limit_is_stopped(
        claude: ClaudeProvider, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    fake_anthropic.script = [Shell("echo again >> loop.txt")]  # never ends by itself

    _, result = await run_to_end(claude, request(tmp_path, repo, "Loop", limits=Limits(max_turns=3)))

    assert result.stop_reason is StopReason.TURN_LIMIT and result.is_error and result.turns == 4
    assert result.usage.input_tokens >= 3 * 1200  # the turns taken are billed from the lines seen
    assert processes_in(repo) == []


async def test_a_run_over_its_time_limit_is_stopped_with_the_commands_it_started(
        claude: ClaudeProvider, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    # A command that outlasts the limit (Claude Code refuses a plain long `sleep`).
    fake_anthropic.script = [Shell("python3 -c 'import time; time.sleep(300)'"), Say("Slept.")]
    result, seen = await run_watching(claude, request(tmp_path, repo, "Wait", limits=Limits(max_seconds=12)), repo)

    assert result.stop_reason is StopReason.TIME_LIMIT and result.is_error
    assert any("time.sleep(300)" in command for command in seen), "the scripted command ran"
    assert processes_in(repo) == []


async def test_a_tool_outside_the_allowed_ones_is_denied_and_reported(
        coding_clis: CodingClis, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    reader = ClaudeProvider(ClaudeOptions(executable=str(coding_clis.claude), config_dir=tmp_path / "claude-config",
                                          base_url=fake_anthropic.url, permission_mode="default",
                                          allowed_tools=("Read", "Grep")))
    fake_anthropic.script = [Shell("echo nope > denied.txt"), Say("Could not write.")]

    _, result = await run_to_end(reader, request(tmp_path, repo, "Try to write"))

    assert not (repo / "denied.txt").exists()
    assert [d.get("tool_name") for d in result.permission_denials] == ["Bash"]
    assert result.stop_reason is StopReason.COMPLETED


async def test_a_stop_request_kills_the_cli_and_still_bills_what_was_spent(
        claude: ClaudeProvider, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    fake_anthropic.script = [Shell("python3 -c 'import time; time.sleep(300)'"), Say("Slept.")]
    stop = asyncio.Event()
    results = []
    async for event in claude.run(request(tmp_path, repo, "Wait", stop=stop)):
        if isinstance(event, OutputLine) and '"tool_use"' in event.text:
            stop.set()
        elif isinstance(event, RunResult):
            results.append(event)

    assert [r.stop_reason for r in results] == [StopReason.STOPPED]
    assert results[0].turns == 1 and results[0].usage.input_tokens == 1200
    assert processes_in(repo) == []


async def test_a_run_over_its_cost_limit_is_stopped(
        claude: ClaudeProvider, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    # Each turn reads 150k tokens ($0.45 at Sonnet's list price, below its long-context tier): the third is over $1.
    fake_anthropic.script = [Shell("echo more >> cost.txt", Tokens(input=150_000, output=10))]

    _, result = await run_to_end(claude, request(tmp_path, repo, "Spend", limits=Limits(max_cost_usd=Decimal(1))))

    assert result.stop_reason is StopReason.COST_LIMIT and result.turns == 3
    assert result.cost_usd is not None and result.cost_usd > 1
    assert processes_in(repo) == []


async def test_without_credentials_the_run_does_not_start(claude: ClaudeProvider, tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="ANTHROPIC_API_KEY"):
        await run_to_end(claude, RunRequest("x", tmp_path))


async def test_a_claude_oauth_token_authenticates_and_never_appears(
        claude: ClaudeProvider, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    token = "sk-ant-oat01-test-oauth-token-never-logged"
    fake_anthropic.script = [Shell(f"echo {token} > leaked.txt; cat leaked.txt"), Say(f"The token is {token}")]

    lines, result = await run_to_end(claude, RunRequest("Show the token", repo, model=MODEL,
                                                        env={"HOME": str(tmp_path / "home")},
                                                        secrets={"CLAUDE_CODE_OAUTH_TOKEN": token}))

    assert not result.is_error and (repo / "leaked.txt").exists()
    assert {h.get("authorization") for h in fake_anthropic.headers} == {f"Bearer {token}"}
    assert not any(token in line.text for line in lines) and token not in result.final_text


async def test_a_prompt_over_300_kib_arrives_whole_through_stdin(
        claude: ClaudeProvider, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    # One argv element may hold at most 128 KiB (MAX_ARG_STRLEN): this prompt could never be an argument.
    prompt = "Review this diff.\n" + "".join(f"+line {n}: {'x' * 60}\n" for n in range(5000)) + "END-OF-PROMPT"
    assert len(prompt.encode()) > 300 * 1024
    fake_anthropic.script = [Say("Read it all.")]

    _, result = await run_to_end(claude, request(tmp_path, repo, prompt))

    assert result.stop_reason is StopReason.COMPLETED and not result.is_error, result.final_text
    assert result.final_text == "Read it all."
    content = fake_anthropic.requests[0]["messages"][0]["content"]
    texts = [content] if isinstance(content, str) else [block.get("text", "") for block in content]
    assert any(prompt in text for text in texts), "the model got the whole prompt"


async def test_a_read_only_run_offers_no_tool_and_runs_none(
        claude: ClaudeProvider, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    # A prompt-injected model asks for a shell anyway: the CLI must not run it.
    fake_anthropic.script = [Shell("touch pwned.txt"), Say("Could not.")]

    lines, result = await run_to_end(claude, request(tmp_path, repo, "Review", read_only=True))

    assert not (repo / "pwned.txt").exists(), "the Bash tool ran in a read-only run"
    assert all(not body.get("tools") for body in fake_anthropic.requests), "a tool was offered to the model"
    [init] = json_lines(lines, "system")[:1]
    assert init.get("tools") == [] and result.final_text == "Could not."
