"""The supervisors' wallboard (docs/wallboard.md)."""
