"""Comments are posted after the commit that asked for them, once: a row left pending by a crash after posting
finds the hidden marker on the issue and posts nothing more."""

import asyncpg
import httpx
from router_support import comments, make_repo, open_issue

from rig_testing.waiting import eventually


async def test_a_comment_posted_before_a_crash_is_not_posted_again(router, sandbox, run_id, conductor, database_url):
    repo = make_repo(sandbox, f"c-{run_id}", {"README.md": "hi\n"})
    number = open_issue(sandbox, repo)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'INSERT INTO "{router.schema}".comments (key, repo, number, body) VALUES ($1, $2, $3, $4)',
                           "approved:x:block", repo, number, "Something is wrong.")
        await eventually(lambda: comments(conductor, repo, number), what="the comment")
        # As if the router died after GitHub took the comment but before the row was marked.
        await conn.execute(f'UPDATE "{router.schema}".comments SET posted_at = NULL')

        async def marked() -> bool:
            posted = await conn.fetchval(f'SELECT posted_at FROM "{router.schema}".comments')
            return posted is not None
        await eventually(marked, what="the row marked again")
    finally:
        await conn.close()
    [body] = await comments(conductor, repo, number)
    assert body.startswith("Something is wrong.") and "<!-- rig:router:approved:x:block -->" in body


async def test_our_marker_in_someone_elses_comment_does_not_suppress_ours(router, sandbox, run_id, conductor,
                                                                         database_url):
    repo = make_repo(sandbox, f"m-{run_id}", {"README.md": "hi\n"})
    number = open_issue(sandbox, repo)
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:  # someone else plants our marker
        token = (await http.post("/_sandbox/users/mallory/tokens")).json()["token"]
        planted = await http.post(f"/repos/{repo}/issues/{number}/comments",
                                  headers={"Authorization": f"token {token}"},
                                  json={"body": "looks done <!-- rig:router:approved:x:block -->"})
    assert planted.status_code == 201, planted.text
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'INSERT INTO "{router.schema}".comments (key, repo, number, body) VALUES ($1, $2, $3, $4)',
                           "approved:x:block", repo, number, "Something is wrong.")

        async def ours_posted() -> bool:
            return len(await comments(conductor, repo, number)) == 2
        await eventually(ours_posted, what="the conductor's own comment")
    finally:
        await conn.close()
    planted_body, ours = await comments(conductor, repo, number)
    assert planted_body.startswith("looks done") and ours.startswith("Something is wrong.")
