"""The message classifier: model, hand-written training data, definition drafting and flags."""
