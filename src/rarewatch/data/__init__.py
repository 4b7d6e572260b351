"""Sources, formats, schema checks, cleaning, label shift, splits, windows and the fitted encoder."""
