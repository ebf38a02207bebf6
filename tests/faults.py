"""Faults injected into a migration by the claims tests: a connection that fails part-way."""


class FailsAfter:
    """A connection whose ``execute`` raises after ``k`` statements have run (the rest passes through)."""

    def __init__(self, conn, k):
        self.conn, self.k, self.calls = conn, k, 0

    def execute(self, *arguments, **options):
        if self.calls == self.k:
            raise RuntimeError("an injected fault")
        self.calls += 1
        return self.conn.execute(*arguments, **options)
