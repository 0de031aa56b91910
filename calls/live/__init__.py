"""The live calls: one poll of the PBX at a time, diffed against the stored snapshot, matched to
customers, stored in Redis and pushed to every open panel over one websocket protocol
(docs/websocket-protocol.md).

It owns the live call model and its diff (`diff`), the payload types and their encoding
(`payloads`), the stored state (`snapshot`), the poll (`poll`), customer matches (`matching`),
the per-process fan-out and the consumer. It may import `calls.pbx`, the app-level `calls.models`
and `calls.access`, and customers' lookups; of the history only the note the poll leaves for the
CDR sync (`calls.history.tracked_calls.note_live_calls`).
"""
