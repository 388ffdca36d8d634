"""Pictures: loading, resizing and saving, colour modes, style masks, labelled montages."""
