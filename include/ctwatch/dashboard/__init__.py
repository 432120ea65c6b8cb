"""The compliance dashboard: a snapshot published after each evaluation, and the pages reading it."""
