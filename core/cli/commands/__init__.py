"""One module per `deskwatch` command; each exports ``register(subparsers)``."""
