import pytest

from rig_ingest.linking import closed_issue

REPO = "Octo/Hello-World"


@pytest.mark.parametrize("keyword", ["close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves",
                                     "resolved"])
@pytest.mark.parametrize("case", [str.lower, str.upper, str.capitalize])
def test_every_github_keyword_in_any_case_links(keyword, case):
    assert closed_issue(f"This change.\n\n{case(keyword)} #12", REPO) == 12


@pytest.mark.parametrize(("body", "issue"), [
    ("Closes: #4", 4),
    ("fixes octo/hello-world#9", 9),
    ("Fixes other/repo#3, resolves #5", 5),
    ("Fixes other/repo#3", None),
    ("prefixes #3", None),
    ("mentions #3 without a keyword", None),
    ("", None),
    (None, None),
    ("Closes #0", None),
])
def test_links_only_issues_of_the_same_repository(body, issue):
    assert closed_issue(body, REPO) == issue
