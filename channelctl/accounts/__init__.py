"""What the accounts already are: ``discover`` reads it into facts files (read-only), ``facts`` is the
format the plan, the mock renderer and ``verify`` read them in."""
