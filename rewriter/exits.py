"""Exit statuses (a contract: scripts and CI read them), apart from the report so that start-up need not load it."""
EXIT_OK = 0
EXIT_CHANGES = 1  # check: something would change
EXIT_USAGE = 2  # usage or configuration error
EXIT_FAILED = 3  # some files or repositories could not be processed
