"""Files the app shows and ships: icon, style sheet, sample images (found via importlib.resources)."""
