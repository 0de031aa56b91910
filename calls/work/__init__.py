"""The agent's work on a call: its note and wrap-up code, written while it rings or is talked on
and after it ends (docs/call-work.md).

It owns who may write or change a call's work (`rules`) and the one way it is saved, every change
recorded (`saving`). The work belongs to the tracked call (`calls.models.TrackedCall`), so the
history shows it once the call's CDR row has joined. It may import `calls.live` (a call too new
for the database is found in the live snapshot), `calls.history` and the app-level modules.
"""
