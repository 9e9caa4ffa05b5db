"""entroscope's exceptions. Every failure raised by the package is an `entroscope.Error`; the
message is the CLI's one line naming the file, tensor, layer or input at fault."""


class Error(Exception):
    """Base of every entroscope failure."""


class InputError(Error, ValueError):
    """Bad input: a malformed checkpoint, config, tokenizer or experiment file, an id outside the
    vocabulary, a text that cannot be scored. The message names the file or input and the problem."""


class NotFoundError(Error, FileNotFoundError):
    """A model directory or experiment file that does not exist."""


class NumericError(Error, ArithmeticError):
    """The numbers went bad (a non-finite value); nothing was returned."""


class NonFiniteError(NumericError):
    """A NaN or infinity arose in the forward pass. Where: `.model`, `.layer` (-1 outside the
    blocks), `.step` ("attn.qkv", "mlp.act", "logits", ...), `.batch_row`, `.position` (the token's
    position in its sequence), `.channel` and `.value`."""

    model = ""
    layer = -1
    step = ""
    batch_row = 0
    position = 0
    channel = 0
    value = float("nan")
