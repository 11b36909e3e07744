class DomainError(Exception):
    """A refused operation, with a message a clerk can act on (shown as is)."""

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
