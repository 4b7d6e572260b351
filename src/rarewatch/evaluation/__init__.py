"""Pure functions of evaluation: metrics, thresholds, costs, early-warning events; and plots."""
