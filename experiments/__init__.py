"""Experiments run with minicnn: the digits demo now, the knee study later."""
