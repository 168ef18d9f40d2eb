"""`python -m concord.cli`: the same as the `concord` command."""

from concord.cli.main import main

main()
