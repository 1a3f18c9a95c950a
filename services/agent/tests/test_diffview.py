"""What Review-E shows the model of a change, and what it names as unseen."""

from rig_agent.diffview import COMPARE_FILE_CAP, diff_view
from rig_agent.prompts import review_prompt
from rig_github import ChangedFile


def changed(name: str, patch: str = "@@ -0,0 +1 @@\n+x") -> ChangedFile:
    return ChangedFile(filename=name, status="added", additions=1, deletions=0, patch=patch)


def test_a_whole_change_that_fits_is_complete():
    view = diff_view([changed("a.py"), changed("b.py")], 10_000)
    assert view.complete and view.notes() == ""
    assert "--- a.py (added)\n@@ -0,0 +1 @@\n+x" in view.text and "b.py" in view.text


def test_files_without_a_patch_are_named_and_the_view_is_incomplete():
    view = diff_view([changed("logo.png", patch=""), changed("a.py")], 10_000)
    assert not view.complete and view.without_patch == ("logo.png",)
    assert "logo.png" in view.notes() and "no diff" in view.text


def test_files_beyond_the_budget_are_cut_whole_and_named():
    view = diff_view([changed("a.py", "+" + "a" * 50), changed("big.py", "+" + "b" * 500), changed("c.py", "+c")], 120)
    assert view.cut == ("big.py",) and "b" * 500 not in view.text and "c.py (added)" in view.text
    assert "cut to fit" in view.notes() and not view.complete


def test_a_change_as_wide_as_githubs_listing_may_hold_more():
    view = diff_view([changed(f"f{n}.py") for n in range(COMPARE_FILE_CAP)], 10**7)
    assert view.maybe_more and not view.complete and "at most" in view.notes()


def test_the_prompt_says_what_is_missing():
    prompt = review_prompt("acme/app", 3, "t", "b", "diff", missing="GitHub gives no diff for these files: x.bin.")
    assert "Not everything is shown. GitHub gives no diff for these files: x.bin." in prompt
    assert "Not everything is shown" not in review_prompt("acme/app", 3, "t", "b", "diff")
