"""`python -m conductor_e_hook`, the same as the `conductor-e-hook` command."""

from conductor_e_hook.cli import main

raise SystemExit(main())
