"""The real Codex CLI, driven through CodexProvider against the scripted Responses API on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from providers_support import git_repo, json_lines, processes_in, run_to_end, run_watching, script_tokens

from rig_contracts.payloads import Usage
from rig_providers import CodexOptions, CodexProvider, Limits, RunRequest, StopReason
from rig_providers.prices import PriceTable
from rig_testing.coding_clis import CodingClis
from rig_testing.fake_openai import FakeOpenAI
from rig_testing.model_script import Say, Shell, Step, Tokens

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

API_KEY = "sk-proj-test-key-that-must-never-be-logged"


@pytest.fixture
def codex(coding_clis: CodingClis, fake_openai: FakeOpenAI, tmp_path: Path) -> CodexProvider:
    """Codex with its home (config, sessions) in this test's folder, talking to the fake API."""
    return CodexProvider(CodexOptions(codex_home=tmp_path / "codex-home", executable=str(coding_clis.codex),
                                      base_url=f"{fake_openai.url}/v1"))


def request(tmp_path: Path, repo: Path, prompt: str, **kwargs: object) -> RunRequest:
    return RunRequest(prompt, repo, env={"HOME": str(tmp_path / "home")}, secrets={"OPENAI_API_KEY": API_KEY},
                      **kwargs)  # type: ignore[arg-type]


def as_usage(tokens: Tokens) -> Usage:
    return Usage(input_tokens=tokens.input, output_tokens=tokens.output, cache_read_tokens=tokens.cache_read,
                 cache_write_tokens=tokens.cache_write)


async def test_a_run_edits_the_repository_and_counts_cached_tokens_once(
        codex: CodexProvider, fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    script: list[Step] = [
        Shell("printf 'hello from codex\\n' > hello.txt",
              Tokens(input=1000, output=50, cache_read=4000, cache_write=300)),
        Say("Wrote hello.txt.", Tokens(input=200, output=20, cache_read=5000))]
    fake_openai.script = script

    lines, result = await run_to_end(codex, request(tmp_path, repo, "Add hello.txt"))

    assert (repo / "hello.txt").read_text() == "hello from codex\n"
    assert result.stop_reason is StopReason.COMPLETED and not result.is_error, [line.text for line in lines][-5:]
    assert result.session_id and result.final_text == "Wrote hello.txt." and result.turns == 2
    [completed] = json_lines(lines, "turn.completed")
    raw = completed["usage"]
    # Codex counts cached (and cache-written) tokens inside input_tokens; we keep them apart, each counted once.
    assert raw["input_tokens"] == 1000 + 4000 + 300 + 200 + 5000 and raw["cached_input_tokens"] == 9000
    assert result.usage == as_usage(script_tokens(script))
    assert result.usage.input_tokens + result.usage.cache_read_tokens + result.usage.cache_write_tokens == raw[
        "input_tokens"]
    # The model Codex chose by default comes from its rollout file, and is priced with its cache rates.
    assert result.model == fake_openai.requests[0]["model"]
    expected = PriceTable().cost_usd("openai", result.model, result.usage)
    assert expected is not None and result.cost_usd == expected
    double_counted = PriceTable().cost_usd("openai", result.model, result.usage.model_copy(
        update={"input_tokens": raw["input_tokens"]}))
    assert double_counted is not None and result.cost_usd < double_counted
    assert result.provider_cost_usd is None  # Codex reports no cost of its own
    assert {h.get("authorization") for h in fake_openai.headers} == {f"Bearer {API_KEY}"}
    assert not any(API_KEY in line.text for line in lines)


async def test_a_resumed_run_is_billed_for_the_difference(
        codex: CodexProvider, fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    fake_openai.script = [Shell("echo one > one.txt"), Say("One.")]
    _, first = await run_to_end(codex, request(tmp_path, repo, "Write one"))
    second_script: list[Step] = [
        Shell("echo two > two.txt", Tokens(input=3000, output=90, cache_read=12000)),
        Say("Two.", Tokens(input=400, output=10, cache_read=15000))]
    fake_openai.script = second_script

    lines, second = await run_to_end(codex, request(tmp_path, repo, "Now write two", session_id=first.session_id))

    assert second.session_id == first.session_id and second.resumed and (repo / "two.txt").exists()
    [completed] = json_lines(lines, "turn.completed")
    thread_input = completed["usage"]["input_tokens"]
    assert thread_input == sum(
        u.input_tokens + u.cache_read_tokens + u.cache_write_tokens for u in (first.usage, second.usage))
    assert second.usage == as_usage(script_tokens(second_script))
    assert second.cost_usd == PriceTable().cost_usd("openai", second.model, second.usage)


async def test_a_run_over_its_turn_limit_is_stopped(
        codex: CodexProvider, fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    fake_openai.script = [Shell("echo again >> loop.txt")]  # never ends by itself

    _, result = await run_to_end(codex, request(tmp_path, repo, "Loop", limits=Limits(max_turns=3)))

    assert result.stop_reason is StopReason.TURN_LIMIT and result.is_error and result.turns == 4
    assert processes_in(repo) == []


async def test_a_run_over_its_time_limit_is_stopped_with_the_commands_it_started(
        codex: CodexProvider, fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    fake_openai.script = [Shell("python3 -c 'import time; time.sleep(300)'"), Say("Slept.")]
    result, seen = await run_watching(codex, request(tmp_path, repo, "Wait", limits=Limits(max_seconds=10)), repo)

    assert result.stop_reason is StopReason.TIME_LIMIT and result.is_error
    assert any("time.sleep(300)" in command for command in seen), "the scripted command ran"
    assert processes_in(repo) == []


async def test_a_run_over_its_cost_limit_is_stopped_before_the_turn_ends(
        codex: CodexProvider, fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    # Every request reads 100k uncached tokens; Codex prints usage only at the turn's end, which never comes.
    fake_openai.script = [Shell("echo more >> cost.txt", Tokens(input=100_000, output=10))]
    model = "gpt-6.1-sol"
    per_request = PriceTable().cost_usd("openai", model, Usage(input_tokens=100_000, output_tokens=10))
    assert per_request is not None
    limit = per_request * 2 + per_request / 2

    _, result = await run_to_end(codex, request(tmp_path, repo, "Spend", model=model,
                                                limits=Limits(max_cost_usd=limit)))

    assert result.stop_reason is StopReason.COST_LIMIT and result.is_error
    assert result.usage.input_tokens >= 300_000 and result.cost_usd is not None and result.cost_usd > limit
    assert processes_in(repo) == []


async def test_a_prompt_over_300_kib_arrives_whole_through_stdin(
        codex: CodexProvider, fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    prompt = "Review this diff.\n" + "".join(f"+line {n}: {'x' * 60}\n" for n in range(5000)) + "END-OF-PROMPT"
    assert len(prompt.encode()) > 300 * 1024  # more than one argv element may hold (128 KiB)
    fake_openai.script = [Say("Read it all.")]

    _, result = await run_to_end(codex, request(tmp_path, repo, prompt))

    assert result.stop_reason is StopReason.COMPLETED and not result.is_error, result.final_text
    assert any(prompt in text for text in strings(fake_openai.requests[0]["input"])), "the model got it all"


def strings(value: object) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


async def test_a_read_only_run_uses_codex_read_only_sandbox(
        codex: CodexProvider, fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    fake_openai.script = [Shell("touch pwned.txt"), Say("Could not.")]

    launch = await codex.launch(request(tmp_path, repo, "Review", read_only=True))
    await run_to_end(codex, request(tmp_path, repo, "Review", read_only=True))

    assert "--dangerously-bypass-approvals-and-sandbox" not in launch.argv
    assert launch.argv[launch.argv.index("--sandbox") + 1] == "read-only" and "Review" not in launch.argv
    assert not (repo / "pwned.txt").exists(), "a read-only Codex run wrote to the repository"
    # Codex ran the command only inside its sandbox (here it cannot even start it: no helper under /tmp).
    outputs = [i["output"] for i in fake_openai.requests[-1]["input"] if i.get("type") == "function_call_output"]
    assert outputs and all("exited with code 0" not in output for output in outputs)
