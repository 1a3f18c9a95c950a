"""The demo: repository `demo/hello` and its issue #1, ready for the `agent-ready` label.

`demo/hello` is a small Node project with a `.rig-agent.yaml`; both are made once, at the first start with
the demo on.
"""

from __future__ import annotations

import logging

from rig_sandbox.actions.issues import open_issue
from rig_sandbox.actions.repos import create_repo
from rig_sandbox.context import Sandbox
from rig_sandbox.identities import DEFAULT_AUTHOR

log = logging.getLogger(__name__)

OWNER, NAME = "demo", "hello"
READY_LABEL = "agent-ready"

FILES: dict[str, str] = {
    "README.md": "# hello\n\nA tiny Node project for rig-conductor's demo: `npm test` runs its tests.\n",
    ".rig-agent.yaml": "stack: node\ntestCommand: npm test\nmaxReviewRounds: 3\nmaxFixAttempts: 3\n",
    "package.json": '{\n  "name": "hello",\n  "version": "1.0.0",\n  "private": true,\n  "type": "commonjs",\n'
                    '  "main": "src/greet.js",\n  "scripts": {\n    "test": "node --test test/"\n  }\n}\n',
    "src/greet.js": "function greet(name) {\n  return `Hello, ${name}!`;\n}\n\nmodule.exports = { greet };\n",
    "test/greet.test.js": "const test = require('node:test');\nconst assert = require('node:assert');\n"
                          "const { greet } = require('../src/greet');\n\n"
                          "test('greets by name', () => {\n  assert.strictEqual(greet('Ada'), 'Hello, Ada!');\n});\n",
    ".gitignore": "node_modules/\n",
}

ISSUE_TITLE = "Add a farewell function"
ISSUE_BODY = ("Add `farewell(name)` to `src/greet.js` that returns `Goodbye, <name>!`, export it, and cover it "
              "with a test in `test/greet.test.js`. `npm test` must pass.")


async def ensure_demo(sandbox: Sandbox) -> None:
    """Create `demo/hello` and its issue #1 unless the repository exists; log how to start the demo."""
    if sandbox.store.repo(OWNER, NAME) is None:
        author = sandbox.store.account(DEFAULT_AUTHOR)
        repo = await create_repo(sandbox, OWNER, NAME, {path: text.encode() for path, text in FILES.items()}, author,
                                 description="rig-conductor demo: a small Node project")
        await open_issue(sandbox, repo, author, ISSUE_TITLE, ISSUE_BODY)
    base = sandbox.urls.base
    log.info("sandbox demo: repository %s/%s/%s (clone %s) with issue #1. Start the work by labelling it: "
             "`rig sandbox label add %s/%s 1 %s` (or POST %s/_sandbox/repos/%s/%s/issues/1/labels "
             "{\"labels\": [\"%s\"]})", base, OWNER, NAME, sandbox.urls.clone(f"{OWNER}/{NAME}"), OWNER, NAME,
             READY_LABEL, base, OWNER, NAME, READY_LABEL)
