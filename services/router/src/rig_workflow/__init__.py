"""The router's pure domain: a work item's life from approved issue to merged PR (docs/design.md section 5).

No I/O here: `decide` takes the item as it stands, one event and the repository's policy, and returns the
item as it becomes plus the decisions to publish. The router service (later) wires it to streams and tables.
"""

from rig_workflow.domain import decide
from rig_workflow.domain_model import (
    AssignDev,
    AssignReview,
    Block,
    Cancel,
    Command,
    Decision,
    Done,
    Escalate,
    Policy,
    RequestMerge,
    State,
    WorkItem,
)

__all__ = [
    "AssignDev",
    "AssignReview",
    "Block",
    "Cancel",
    "Command",
    "Decision",
    "Done",
    "Escalate",
    "Policy",
    "RequestMerge",
    "State",
    "WorkItem",
    "decide",
]
