"""Errors that mean "the input is wrong": the CLI prints their message as one line."""


class InputError(ValueError):
    """A value given by the user cannot be used; the message names it and what is accepted."""
