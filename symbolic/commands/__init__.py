"""One module per `derivcheck` subcommand.  Each defines `register(subparsers)`, which
adds its parser and sets `run=<function(args) -> int>`.  Heavy imports stay inside the
run functions so `derivcheck --help` is fast."""

# Adding a subcommand is adding its module name here.
COMMAND_MODULES = ("check", "compare", "numeric", "prove", "figures",)
