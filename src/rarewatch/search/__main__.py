"""`python -m rarewatch.search` is `rarewatch-search`."""

from rarewatch.search.cli import main

main()
