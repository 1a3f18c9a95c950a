"""The scripted provider as a real subprocess: replay, patch, billing, limits, stop, cancel and redaction."""

from __future__ import annotations

import asyncio
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from rig_providers import Limits, OutputLine, RunRequest, RunResult, ScriptedProvider, StopReason
from rig_providers.prices import PriceTable

pytestmark = pytest.mark.timeout(60)

PATCH = """diff --git a/hello.txt b/hello.txt
new file mode 100644
--- /dev/null
+++ b/hello.txt
@@ -0,0 +1 @@
+hello from the recording
"""
SECRET = "sk-ant-oat01-very-secret-token-value"


def write_transcript(path: Path, *entries: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    return path


def turn(text: str, inp: int, out: int, read: int = 0, write: int = 0) -> dict[str, object]:
    return {"kind": "turn", "text": text, "usage": {"input_tokens": inp, "output_tokens": out,
                                                    "cache_read_tokens": read, "cache_write_tokens": write}}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    return work


async def collect(provider: ScriptedProvider, request: RunRequest) -> tuple[list[OutputLine], RunResult]:
    lines: list[OutputLine] = []
    result: RunResult | None = None
    async for event in provider.run(request):
        if isinstance(event, OutputLine):
            lines.append(event)
        else:
            result = event
    assert result is not None
    return lines, result


async def test_replay_applies_the_patch_and_bills_the_recorded_turns(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(
        tmp_path / "run.jsonl", {"kind": "meta", "model": "claude-sonnet-4-5"}, {"kind": "line", "text": "Reading"},
        turn("I will add hello.txt.", 1000, 50, 3000, 400), {"kind": "patch", "diff": PATCH},
        turn("Done.", 200, 20, 4000, 0), {"kind": "result", "text": "Added hello.txt."})
    lines, result = await collect(ScriptedProvider(transcript), RunRequest("add hello", repo))

    assert (repo / "hello.txt").read_text() == "hello from the recording\n"
    assert "Reading" in [line.text for line in lines]
    assert result.stop_reason is StopReason.COMPLETED and not result.is_error and result.exit_code == 0
    assert result.turns == 2 and result.final_text == "Added hello.txt."
    usage = result.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (
        1200, 70, 7000, 400)
    # Sonnet 4.5 list prices: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million tokens.
    expected = (Decimal(1200) * 3 + Decimal(70) * 15 + Decimal(7000) * Decimal("0.3") + Decimal(400) * Decimal(
        "3.75")) / 1_000_000
    assert result.cost_usd == expected
    assert result.provider_cost_usd is None and result.cost_basis == "api-equivalent"
    assert result.price_source == PriceTable().source and result.price_source.startswith("genai-prices ")


async def test_a_recording_without_a_known_model_is_unpriced_not_free(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(tmp_path / "run.jsonl", {"kind": "meta", "model": "no-such-model-7"},
                                  turn("hi", 10, 10), {"kind": "result", "text": "hi"})
    _, result = await collect(ScriptedProvider(transcript), RunRequest("x", repo))
    assert result.usage.input_tokens == 10 and result.cost_usd is None


async def test_a_patch_that_does_not_apply_fails_the_run(tmp_path: Path, repo: Path) -> None:
    (repo / "hello.txt").write_text("already here\n")
    transcript = write_transcript(tmp_path / "run.jsonl", {"kind": "patch", "diff": PATCH},
                                  {"kind": "result", "text": "never"})
    lines, result = await collect(ScriptedProvider(transcript), RunRequest("x", repo))
    assert result.is_error and result.exit_code == 2
    assert any("git apply failed" in line.text and line.stream == "stderr" for line in lines)


async def test_a_run_over_its_turn_limit_is_stopped(tmp_path: Path, repo: Path) -> None:
    turns = [turn(f"turn {n}", 10, 10) for n in range(10)]
    transcript = write_transcript(tmp_path / "run.jsonl", *turns, {"kind": "wait", "seconds": 60})
    lines, result = await collect(ScriptedProvider(transcript), RunRequest("x", repo, limits=Limits(max_turns=3)))
    assert result.stop_reason is StopReason.TURN_LIMIT and result.is_error
    assert result.turns == 4  # the fourth turn is the one over the limit
    assert not any("turn 5" in line.text for line in lines)


async def test_a_run_over_its_time_limit_is_stopped_with_everything_it_started(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(tmp_path / "run.jsonl", turn("thinking", 10, 10), {"kind": "wait", "seconds": 60})
    provider = ScriptedProvider(transcript)
    pids: list[int] = []
    result: RunResult | None = None
    # 3 s: the player (Python, in a fresh sandbox) must print its turn before the limit, even on a busy machine.
    async for event in provider.run(RunRequest("x", repo, limits=Limits(max_seconds=3.0))):
        if isinstance(event, OutputLine) and not pids:
            pids = [p.pid for p in psutil.process_iter(["cmdline"]) if str(transcript) in " ".join(
                p.info["cmdline"] or [])]
        elif isinstance(event, RunResult):
            result = event
    assert result is not None and result.stop_reason is StopReason.TIME_LIMIT
    assert result.usage.input_tokens == 10  # what was spent before the stop is still billed
    assert pids and not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                            for pid in pids)


async def test_a_cost_limit_stops_the_run_once_the_turns_cost_more(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(tmp_path / "run.jsonl", {"kind": "meta", "model": "claude-sonnet-4-5"},
                                  turn("cheap", 1000, 10), turn("dear", 1_000_000, 10), {"kind": "wait", "seconds": 60})
    _, result = await collect(ScriptedProvider(transcript),
                              RunRequest("x", repo, limits=Limits(max_cost_usd=Decimal("0.50"))))
    assert result.stop_reason is StopReason.COST_LIMIT and result.cost_usd is not None
    assert result.cost_usd > Decimal("0.50")


async def test_a_stop_request_ends_the_run_with_a_result(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(tmp_path / "run.jsonl", turn("working", 10, 10), {"kind": "wait", "seconds": 60})
    stop = asyncio.Event()
    result: RunResult | None = None
    async for event in ScriptedProvider(transcript).run(RunRequest("x", repo, stop=stop)):
        if isinstance(event, OutputLine) and "working" in event.text:
            stop.set()
        elif isinstance(event, RunResult):
            result = event
    assert result is not None and result.stop_reason is StopReason.STOPPED and result.turns == 1


async def test_cancelling_the_caller_kills_the_process(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(tmp_path / "run.jsonl", turn("go", 1, 1), {"kind": "wait", "seconds": 60})
    started = asyncio.Event()

    async def consume() -> None:
        async for event in ScriptedProvider(transcript).run(RunRequest("x", repo)):
            if isinstance(event, OutputLine) and "go" in event.text:
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 20)
    player = [p for p in psutil.process_iter(["cmdline"]) if str(transcript) in " ".join(p.info["cmdline"] or [])
              and not p.info["cmdline"][0].endswith("bwrap")]  # the player, not the sandbox around it
    assert len(player) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not psutil.pid_exists(player[0].pid) or player[0].status() == psutil.STATUS_ZOMBIE


async def test_secrets_never_appear_in_the_yielded_lines(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(tmp_path / "run.jsonl", {"kind": "line", "text": f"token={SECRET}"},
                                  {"kind": "line", "text": "key sk-proj-abcdefghijklmnopqrstu in a file"},
                                  turn(f"I saw {SECRET}", 1, 1), {"kind": "result", "text": f"done {SECRET}"})
    lines, result = await collect(
        ScriptedProvider(transcript), RunRequest("x", repo, secrets={"CLAUDE_CODE_OAUTH_TOKEN": SECRET}))
    text = "\n".join(line.text for line in lines)
    assert SECRET not in text and "sk-proj-abcdefghijklmnopqrstu" not in text
    assert text.count("[redacted]") >= 3
    assert SECRET not in result.final_text


async def test_a_resumed_replay_keeps_its_session(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(tmp_path / "run.jsonl", turn("again", 5, 5), {"kind": "result", "text": "ok"})
    _, first = await collect(ScriptedProvider(transcript), RunRequest("x", repo))
    _, second = await collect(ScriptedProvider(transcript), RunRequest("y", repo, session_id=first.session_id))
    assert first.session_id and second.session_id == first.session_id and second.resumed
    assert second.usage.input_tokens == 5  # its own turns only


async def test_the_prompt_comes_on_stdin_whatever_its_size(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(tmp_path / "t.jsonl", turn("Looked.", 10, 2), {"kind": "result", "text": "ok"})
    prompt = "diff\n" * 80_000  # 400 KB: more than one argv element may hold (128 KiB)
    lines, result = await collect(ScriptedProvider(transcript), RunRequest(prompt, repo))
    session = json.loads(lines[0].text)
    assert not result.is_error and session["prompt_bytes"] == len(prompt.encode()) and session["tools"] is True


async def test_a_read_only_run_has_no_tools_and_refuses_a_recorded_patch(tmp_path: Path, repo: Path) -> None:
    transcript = write_transcript(tmp_path / "t.jsonl", {"kind": "patch", "diff": PATCH},
                                  {"kind": "result", "text": "ok"})
    provider = ScriptedProvider(transcript)
    launch = await provider.launch(RunRequest("Review", repo, read_only=True))
    lines, result = await collect(provider, RunRequest("Review", repo, read_only=True))
    assert "--no-tools" in launch.argv and "Review" not in launch.argv
    assert json.loads(lines[0].text)["tools"] is False
    assert result.is_error and not (repo / "hello.txt").exists()
