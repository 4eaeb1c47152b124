"""`python -m chitieu.cli`: the `chitieu` command."""

from chitieu.cli import main

main()
