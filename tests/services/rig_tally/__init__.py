"""A test-only projection service: tallies events per subject, through the kit's inbox, rebuildable."""
