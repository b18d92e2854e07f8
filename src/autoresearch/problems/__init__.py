"""The shipped examples' eval steps: language modelling (lm) and image classification (digits)."""
