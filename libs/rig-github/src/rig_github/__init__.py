"""The GitHub client library: the only way a service talks to GitHub (PyGithub underneath).

One `GitHubClient` per role (conductor, dev, review), each acting as its own GitHub App with installation
tokens cached and refreshed before they expire; PyGithub's blocking calls in a bounded thread pool; retries
by PyGithub's `GithubRetry` (5xx, secondary and primary rate limits); Prometheus metrics per call.
"""

from rig_github.apps import InstallationAuth, InstallationToken, InstallationTokens, app_auth, app_jwt
from rig_github.client import GitHubClient, clients
from rig_github.errors import (
    ConflictError,
    GitHubError,
    HeadMovedError,
    NotFoundError,
    NotMergeableError,
    RateLimitedError,
    UnauthorizedError,
    UnavailableError,
    ValidationFailedError,
)
from rig_github.models import (
    ChangedFile,
    CheckRunInfo,
    ChecksInfo,
    CommentResult,
    Comparison,
    Delivery,
    DeliveryPage,
    FileContent,
    MergeResult,
    PullInfo,
    RepoInfo,
    ReviewEvent,
    ReviewInfo,
    StatusInfo,
)
from rig_github.operations import marker
from rig_github.settings import AppCredentials, GitHubConfigError, GitHubSettings, Role

__all__ = [
    "AppCredentials", "ChangedFile", "CheckRunInfo", "ChecksInfo", "CommentResult", "Comparison", "ConflictError",
    "Delivery", "DeliveryPage", "FileContent", "GitHubClient", "GitHubConfigError", "GitHubError", "GitHubSettings",
    "HeadMovedError",
    "InstallationAuth", "InstallationToken", "InstallationTokens", "MergeResult", "NotFoundError",
    "NotMergeableError", "PullInfo", "RateLimitedError", "RepoInfo", "ReviewEvent", "ReviewInfo", "Role",
    "StatusInfo", "UnauthorizedError", "UnavailableError", "ValidationFailedError", "app_auth", "app_jwt",
    "clients", "marker",
]
