"""One module per external data source (CT log lists, CT logs, revocation sources)."""
