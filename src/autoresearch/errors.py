"""UserError: bad input or a refused action. The CLI prints its message as one line and exits 1."""


class UserError(Exception):
    pass
