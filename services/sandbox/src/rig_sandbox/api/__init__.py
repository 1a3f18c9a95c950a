"""HTTP routes: GitHub's REST operations by area, git over HTTP, and the `/_sandbox` control endpoints."""
