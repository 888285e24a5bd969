"""Real backends started on loopback for the tests: PostgreSQL 15 and SeaweedFS (S3).

Each is a session-scoped fixture that starts the server on first use, waits until it
answers its own protocol, and stops it at the end of the session. Outside CI a missing
component skips the tests that need it; with ``CI`` set they fail instead.
"""
