"""Comments are posted after the commit that asked for them, once: a row left pending by a crash after posting
finds the hidden marker on the issue and posts nothing more."""

import asyncpg
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
